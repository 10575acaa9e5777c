// The hypervisor seam: three small interfaces (Hypervisor, Vm, Vcpu) that the VMM is written
// against. KvmHypervisor (kvm/) is the real backend; FakeHypervisor (fake/) drives device and
// bus tests without /dev/kvm. x86-64 register state uses the kernel's plain structs; exits are
// our own VmExit, so no KVM exit structure leaks past the backend.
//
// Errors: HvError (an exception) naming the operation and errno. Threads: a Vcpu is used by one
// thread at a time (its vCPU thread), except request_exit(), which any thread may call. Vm
// methods are thread-safe where the KVM ioctl is (irq lines, dirty logs).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <linux/kvm.h>

namespace vdi::hv {

class HvError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Why Vcpu::run() returned.
struct VmExit {
    enum class Kind {
        io_in,      // port read: fill data[0..size) for `count` repetitions
        io_out,     // port write
        mmio_read,  // fill data[0..size)
        mmio_write,
        halt,             // HLT with no in-kernel irqchip
        shutdown,         // triple fault or reset request
        interrupted,      // request_exit() or a signal: check for pause/stop
        emulation_failure,  // the hypervisor could not emulate an instruction
        fail_entry,       // the hardware refused to enter the guest
        system_event,     // guest asked for shutdown/reset via PSCI-like events
        unknown,
    };
    Kind kind = Kind::unknown;
    std::uint64_t address = 0;  // port or guest-physical MMIO address
    std::uint32_t size = 0;     // access width in bytes
    std::uint32_t count = 1;    // repetitions (string I/O)
    std::uint8_t* data = nullptr;  // size * count bytes, valid until the next run()
    std::uint64_t rip = 0;      // for failures: where the guest was
    std::string reason;         // for failures: human-readable detail
};

struct MemoryRegionSpec {
    std::uint32_t slot = 0;
    std::uint64_t guest_address = 0;
    std::uint64_t size = 0;
    void* host_address = nullptr;
    bool dirty_logging = false;
    bool read_only = false;
};

class Vcpu {
public:
    virtual ~Vcpu() = default;
    virtual int index() const = 0;
    // Runs the guest until an exit that needs the VMM.
    virtual VmExit run() = 0;
    // Makes a running (or the next) run() return `interrupted` soon. Any thread.
    virtual void request_exit() = 0;
    // Lets the hypervisor finish the last exit (copy an I/O read into the guest's registers)
    // without running guest code, so that saved state is consistent. vCPU thread only.
    virtual void complete_pending_exit() = 0;

    virtual kvm_regs get_regs() = 0;
    virtual void set_regs(const kvm_regs& regs) = 0;
    virtual kvm_sregs get_sregs() = 0;
    virtual void set_sregs(const kvm_sregs& sregs) = 0;
    virtual void set_cpuid(const std::vector<kvm_cpuid_entry2>& entries) = 0;
    virtual kvm_fpu get_fpu() = 0;
    virtual void set_fpu(const kvm_fpu& fpu) = 0;
    // Model-specific registers: reads the given indices / writes all; HvError on a short count.
    virtual std::vector<kvm_msr_entry> get_msrs(const std::vector<std::uint32_t>& indices) = 0;
    virtual void set_msrs(const std::vector<kvm_msr_entry>& msrs) = 0;
    virtual kvm_mp_state get_mp_state() = 0;
    virtual void set_mp_state(const kvm_mp_state& state) = 0;
    virtual kvm_lapic_state get_lapic() = 0;
    virtual void set_lapic(const kvm_lapic_state& lapic) = 0;
    virtual std::vector<kvm_cpuid_entry2> get_cpuid() = 0;
    // The XSAVE area (Vm::xsave_size() bytes).
    virtual std::vector<std::uint8_t> get_xsave() = 0;
    virtual void set_xsave(const std::vector<std::uint8_t>& xsave) = 0;
    virtual kvm_xcrs get_xcrs() = 0;
    virtual void set_xcrs(const kvm_xcrs& xcrs) = 0;
    virtual kvm_debugregs get_debugregs() = 0;
    virtual void set_debugregs(const kvm_debugregs& debugregs) = 0;
    virtual kvm_vcpu_events get_vcpu_events() = 0;
    virtual void set_vcpu_events(const kvm_vcpu_events& events) = 0;
    // Tells a paravirtual guest its clock was stopped (after a restore); errors are ignored.
    virtual void kvmclock_ctrl() = 0;
};

class Vm {
public:
    virtual ~Vm() = default;
    virtual void set_memory_region(const MemoryRegionSpec& region) = 0;
    // In-kernel interrupt controllers (PIC, IOAPIC, LAPIC) and PIT.
    virtual void create_irqchip() = 0;
    virtual void create_pit() = 0;
    virtual void set_tss_address(std::uint64_t address) = 0;
    virtual void set_identity_map_address(std::uint64_t address) = 0;
    virtual std::unique_ptr<Vcpu> create_vcpu(int index) = 0;
    // Drives an interrupt line of the in-kernel PIC/IOAPIC. Any thread.
    virtual void set_irq_line(std::uint32_t irq, bool level) = 0;
    // Pages of `slot` written since the last call: one bit per page, 64 pages per word.
    virtual std::vector<std::uint64_t> get_dirty_log(std::uint32_t slot, std::uint64_t size) = 0;
    // CPUID leaves the hypervisor can expose.
    virtual std::vector<kvm_cpuid_entry2> supported_cpuid() = 0;
    // MSR indices the hypervisor knows (KVM_GET_MSR_INDEX_LIST).
    virtual std::vector<std::uint32_t> msr_index_list() = 0;
    // Bytes of a vCPU's XSAVE area.
    virtual std::size_t xsave_size() = 0;
    virtual kvm_pit_state2 get_pit2() = 0;
    virtual void set_pit2(const kvm_pit_state2& pit) = 0;
    virtual kvm_clock_data get_clock() = 0;
    virtual void set_clock(const kvm_clock_data& clock) = 0;
    // chip_id: KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE or KVM_IRQCHIP_IOAPIC.
    virtual kvm_irqchip get_irqchip(std::uint32_t chip_id) = 0;
    virtual void set_irqchip(const kvm_irqchip& chip) = 0;
};

class Hypervisor {
public:
    virtual ~Hypervisor() = default;
    virtual std::string name() const = 0;
    virtual std::unique_ptr<Vm> create_vm() = 0;
};

}  // namespace vdi::hv
