// A scripted stand-in for KVM: the fake vCPU returns queued exits and records what the VMM set,
// so the bus, devices and the vCPU state machine can be tested without /dev/kvm.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "vdi/hv/hypervisor.h"

namespace vdi::hv {

struct ScriptedExit {
    VmExit::Kind kind = VmExit::Kind::io_out;
    std::uint64_t address = 0;
    std::vector<std::uint8_t> data;  // io_out/mmio_write payload; io_in/mmio_read size
    std::uint64_t rip = 0;
};

class FakeVcpu : public Vcpu {
public:
    explicit FakeVcpu(int index) : index_(index) {}
    int index() const override { return index_; }
    // Returns the next scripted exit; with none left, blocks like a halted vCPU until
    // request_exit() or a new script entry.
    VmExit run() override;
    void request_exit() override;
    void complete_pending_exit() override {}

    void script(const ScriptedExit& exit);
    // Bytes the VMM returned for io_in/mmio_read exits, in order.
    std::vector<std::vector<std::uint8_t>> reads() const;

    kvm_regs get_regs() override { return regs_; }
    void set_regs(const kvm_regs& regs) override { regs_ = regs; }
    kvm_sregs get_sregs() override { return sregs_; }
    void set_sregs(const kvm_sregs& sregs) override { sregs_ = sregs; }
    void set_cpuid(const std::vector<kvm_cpuid_entry2>& entries) override { cpuid_ = entries; }
    kvm_fpu get_fpu() override { return fpu_; }
    void set_fpu(const kvm_fpu& fpu) override { fpu_ = fpu; }
    std::vector<kvm_msr_entry> get_msrs(const std::vector<std::uint32_t>& indices) override;
    void set_msrs(const std::vector<kvm_msr_entry>& msrs) override;
    kvm_mp_state get_mp_state() override { return mp_state_; }
    void set_mp_state(const kvm_mp_state& state) override { mp_state_ = state; }
    kvm_lapic_state get_lapic() override { return lapic_; }
    void set_lapic(const kvm_lapic_state& lapic) override { lapic_ = lapic; }

    std::vector<kvm_cpuid_entry2> get_cpuid() override { return cpuid_; }
    std::vector<std::uint8_t> get_xsave() override { return xsave_; }
    void set_xsave(const std::vector<std::uint8_t>& xsave) override { xsave_ = xsave; }
    kvm_xcrs get_xcrs() override { return xcrs_; }
    void set_xcrs(const kvm_xcrs& xcrs) override { xcrs_ = xcrs; }
    kvm_debugregs get_debugregs() override { return debugregs_; }
    void set_debugregs(const kvm_debugregs& regs) override { debugregs_ = regs; }
    kvm_vcpu_events get_vcpu_events() override { return events_; }
    void set_vcpu_events(const kvm_vcpu_events& events) override { events_ = events; }
    void kvmclock_ctrl() override { ++kvmclock_ctrl_calls_; }

    const std::vector<kvm_cpuid_entry2>& cpuid() const { return cpuid_; }
    int kvmclock_ctrl_calls() const { return kvmclock_ctrl_calls_; }

private:
    int index_;
    mutable std::mutex mutex_;  // guards script_, kicked_, reads_, last_
    std::condition_variable changed_;
    std::deque<ScriptedExit> script_;
    bool kicked_ = false;
    std::vector<std::uint8_t> last_;  // buffer handed out with the current exit
    bool last_is_read_ = false;
    std::vector<std::vector<std::uint8_t>> reads_;
    kvm_regs regs_{};
    kvm_sregs sregs_{};
    kvm_fpu fpu_{};
    kvm_mp_state mp_state_{};
    kvm_lapic_state lapic_{};
    std::vector<kvm_cpuid_entry2> cpuid_;
    std::map<std::uint32_t, std::uint64_t> msrs_;
    std::vector<std::uint8_t> xsave_ = std::vector<std::uint8_t>(4096, 0);
    kvm_xcrs xcrs_{};
    kvm_debugregs debugregs_{};
    kvm_vcpu_events events_{};
    int kvmclock_ctrl_calls_ = 0;
};

class FakeVm : public Vm {
public:
    void set_memory_region(const MemoryRegionSpec& region) override;
    void create_irqchip() override { irqchip_ = true; }
    void create_pit() override { pit_ = true; }
    void set_tss_address(std::uint64_t) override {}
    void set_identity_map_address(std::uint64_t) override {}
    std::unique_ptr<Vcpu> create_vcpu(int index) override;
    void set_irq_line(std::uint32_t irq, bool level) override;
    std::vector<std::uint64_t> get_dirty_log(std::uint32_t slot, std::uint64_t size) override;
    std::vector<kvm_cpuid_entry2> supported_cpuid() override;
    std::vector<std::uint32_t> msr_index_list() override { return {0x10, 0x174, 0x6e0, 0xc0000080}; }
    std::size_t xsave_size() override { return 4096; }
    kvm_pit_state2 get_pit2() override { return pit_state_; }
    void set_pit2(const kvm_pit_state2& pit) override { pit_state_ = pit; }
    kvm_clock_data get_clock() override { return clock_; }
    void set_clock(const kvm_clock_data& clock) override { clock_ = clock; }
    kvm_irqchip get_irqchip(std::uint32_t chip_id) override
    {
        kvm_irqchip chip = chips_[chip_id % 3];
        chip.chip_id = chip_id;
        return chip;
    }
    void set_irqchip(const kvm_irqchip& chip) override { chips_[chip.chip_id % 3] = chip; }

    // Test access.
    std::vector<MemoryRegionSpec> regions() const;
    std::vector<std::pair<std::uint32_t, bool>> irq_events() const;
    FakeVcpu* vcpu(int index) const;
    void mark_dirty(std::uint32_t slot, std::uint64_t page);

private:
    mutable std::mutex mutex_;  // guards everything below
    bool irqchip_ = false;
    bool pit_ = false;
    std::vector<MemoryRegionSpec> regions_;
    std::vector<std::pair<std::uint32_t, bool>> irq_events_;
    std::vector<FakeVcpu*> vcpus_;
    std::map<std::uint32_t, std::vector<std::uint64_t>> dirty_;
    kvm_pit_state2 pit_state_{};
    kvm_clock_data clock_{};
    kvm_irqchip chips_[3]{};
};

class FakeHypervisor : public Hypervisor {
public:
    std::string name() const override { return "fake"; }
    std::unique_ptr<Vm> create_vm() override;
    // The most recently created VM (owned by its creator).
    FakeVm* last_vm() const { return last_vm_; }

private:
    FakeVm* last_vm_ = nullptr;
};

}  // namespace vdi::hv
