// KVM backend: thin wrappers over the /dev/kvm, VM and vCPU ioctls.
#include "vdi/hv/kvm/kvm_hypervisor.h"

#include "kvm_abi.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>

#include <fmt/format.h>

#include "vdi/common/unique_fd.h"

namespace vdi::hv {
namespace {

// The signal that kicks a vCPU thread out of KVM_RUN (its handler does nothing; the interrupted
// ioctl is the point).
int kick_signal()
{
    return SIGRTMIN + 1;
}

void install_kick_handler()
{
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction action {};
        action.sa_handler = [](int) {};
        sigemptyset(&action.sa_mask);
        action.sa_flags = 0;  // no SA_RESTART: KVM_RUN must return EINTR
        sigaction(kick_signal(), &action, nullptr);
    });
}

[[noreturn]] void fail(const char* what)
{
    throw HvError(fmt::format("{} failed: {}", what, std::strerror(errno)));
}

int checked_ioctl(int fd, unsigned long request, const void* arg, const char* what)
{
    const int rc = ::ioctl(fd, request, arg);
    if (rc < 0) {
        fail(what);
    }
    return rc;
}

int checked_ioctl(int fd, unsigned long request, unsigned long arg, const char* what)
{
    const int rc = ::ioctl(fd, request, arg);
    if (rc < 0) {
        fail(what);
    }
    return rc;
}

class KvmVcpu : public Vcpu {
public:
    KvmVcpu(UniqueFd fd, int index, int run_size) : fd_(std::move(fd)), index_(index), run_size_(run_size)
    {
        void* mapped = ::mmap(nullptr, static_cast<std::size_t>(run_size_), PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
        if (mapped == MAP_FAILED) {
            fail("mmap of kvm_run");  // fd_ closes as the exception leaves the constructor
        }
        run_ = static_cast<kvm_run*>(mapped);
    }
    ~KvmVcpu() override
    {
        ::munmap(run_, static_cast<std::size_t>(run_size_));
    }
    KvmVcpu(const KvmVcpu&) = delete;
    KvmVcpu& operator=(const KvmVcpu&) = delete;

    int index() const override { return index_; }

    VmExit run() override
    {
        thread_.store(pthread_self());
        has_thread_.store(true);
        VmExit exit;
        if (::ioctl(fd_.get(), KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                run_->immediate_exit = 0;
                exit.kind = VmExit::Kind::interrupted;
                return exit;
            }
            fail("KVM_RUN");
        }
        auto* bytes = reinterpret_cast<std::uint8_t*>(run_);
        switch (run_->exit_reason) {
        case KVM_EXIT_IO:
            exit.kind = run_->io.direction == KVM_EXIT_IO_IN ? VmExit::Kind::io_in : VmExit::Kind::io_out;
            exit.address = run_->io.port;
            exit.size = run_->io.size;
            exit.count = run_->io.count;
            exit.data = bytes + run_->io.data_offset;
            break;
        case KVM_EXIT_MMIO:
            exit.kind = run_->mmio.is_write ? VmExit::Kind::mmio_write : VmExit::Kind::mmio_read;
            exit.address = run_->mmio.phys_addr;
            exit.size = run_->mmio.len;
            exit.data = run_->mmio.data;
            break;
        case KVM_EXIT_HLT:
            exit.kind = VmExit::Kind::halt;
            break;
        case KVM_EXIT_SHUTDOWN:
            exit.kind = VmExit::Kind::shutdown;
            exit.rip = get_regs().rip;
            exit.reason = "the guest triple-faulted or asked for a reset";
            break;
        case KVM_EXIT_INTR:
            exit.kind = VmExit::Kind::interrupted;
            break;
        case KVM_EXIT_FAIL_ENTRY:
            exit.kind = VmExit::Kind::fail_entry;
            exit.reason = fmt::format("hardware entry failure reason {:#x}",
                                      static_cast<unsigned long long>(run_->fail_entry.hardware_entry_failure_reason));
            break;
        case KVM_EXIT_INTERNAL_ERROR:
            exit.kind = run_->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? VmExit::Kind::emulation_failure
                                                                                 : VmExit::Kind::unknown;
            exit.rip = get_regs().rip;
            exit.reason = run_->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
                              ? "instruction not supported"
                              : fmt::format("KVM internal error {}", run_->internal.suberror);
            break;
        case KVM_EXIT_SYSTEM_EVENT:
            exit.kind = VmExit::Kind::system_event;
            exit.reason = fmt::format("system event {}", run_->system_event.type);
            break;
        default:
            exit.kind = VmExit::Kind::unknown;
            exit.rip = get_regs().rip;
            exit.reason = fmt::format("unhandled KVM exit reason {}", run_->exit_reason);
            break;
        }
        return exit;
    }

    void complete_pending_exit() override
    {
        run_->immediate_exit = 1;
        ::ioctl(fd_.get(), KVM_RUN, 0);  // returns EINTR at once, after completing the pending exit
        run_->immediate_exit = 0;
    }

    void request_exit() override
    {
        run_->immediate_exit = 1;
        if (has_thread_.load()) {
            pthread_kill(thread_.load(), kick_signal());
        }
    }

    kvm_regs get_regs() override
    {
        kvm_regs regs{};
        checked_ioctl(fd_.get(), KVM_GET_REGS, &regs, "KVM_GET_REGS");
        return regs;
    }
    void set_regs(const kvm_regs& regs) override { checked_ioctl(fd_.get(), KVM_SET_REGS, &regs, "KVM_SET_REGS"); }
    kvm_sregs get_sregs() override
    {
        kvm_sregs sregs{};
        checked_ioctl(fd_.get(), KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
        return sregs;
    }
    void set_sregs(const kvm_sregs& sregs) override { checked_ioctl(fd_.get(), KVM_SET_SREGS, &sregs, "KVM_SET_SREGS"); }
    kvm_fpu get_fpu() override
    {
        kvm_fpu fpu{};
        checked_ioctl(fd_.get(), KVM_GET_FPU, &fpu, "KVM_GET_FPU");
        return fpu;
    }
    void set_fpu(const kvm_fpu& fpu) override { checked_ioctl(fd_.get(), KVM_SET_FPU, &fpu, "KVM_SET_FPU"); }

    void set_cpuid(const std::vector<kvm_cpuid_entry2>& entries) override
    {
        std::vector<std::uint8_t> buffer(sizeof(kvm_abi::Cpuid2Header) + entries.size() * sizeof(kvm_cpuid_entry2));
        auto* header = reinterpret_cast<kvm_abi::Cpuid2Header*>(buffer.data());
        header->nent = static_cast<std::uint32_t>(entries.size());
        std::memcpy(buffer.data() + sizeof *header, entries.data(), entries.size() * sizeof(kvm_cpuid_entry2));
        checked_ioctl(fd_.get(), kvm_abi::set_cpuid2, buffer.data(), "KVM_SET_CPUID2");
    }

    std::vector<kvm_msr_entry> get_msrs(const std::vector<std::uint32_t>& indices) override
    {
        std::vector<kvm_msr_entry> entries(indices.size());
        for (std::size_t i = 0; i < indices.size(); ++i) {
            entries[i].index = indices[i];
        }
        std::vector<std::uint8_t> buffer(sizeof(kvm_abi::MsrsHeader) + entries.size() * sizeof(kvm_msr_entry));
        reinterpret_cast<kvm_abi::MsrsHeader*>(buffer.data())->nmsrs = static_cast<std::uint32_t>(entries.size());
        std::memcpy(buffer.data() + sizeof(kvm_abi::MsrsHeader), entries.data(), entries.size() * sizeof(kvm_msr_entry));
        const int read = checked_ioctl(fd_.get(), kvm_abi::get_msrs, buffer.data(), "KVM_GET_MSRS");
        if (read != static_cast<int>(indices.size())) {
            throw HvError(fmt::format("KVM_GET_MSRS read {} of {} MSRs (first unreadable: {:#x})", read,
                                      indices.size(), indices[static_cast<std::size_t>(read)]));
        }
        std::memcpy(entries.data(), buffer.data() + sizeof(kvm_abi::MsrsHeader), entries.size() * sizeof(kvm_msr_entry));
        return entries;
    }

    void set_msrs(const std::vector<kvm_msr_entry>& entries) override
    {
        std::vector<std::uint8_t> buffer(sizeof(kvm_abi::MsrsHeader) + entries.size() * sizeof(kvm_msr_entry));
        reinterpret_cast<kvm_abi::MsrsHeader*>(buffer.data())->nmsrs = static_cast<std::uint32_t>(entries.size());
        std::memcpy(buffer.data() + sizeof(kvm_abi::MsrsHeader), entries.data(), entries.size() * sizeof(kvm_msr_entry));
        const int written = checked_ioctl(fd_.get(), kvm_abi::set_msrs, buffer.data(), "KVM_SET_MSRS");
        if (written != static_cast<int>(entries.size())) {
            throw HvError(fmt::format("KVM_SET_MSRS set {} of {} MSRs (refused: {:#x})", written, entries.size(),
                                      entries[static_cast<std::size_t>(written)].index));
        }
    }

    kvm_mp_state get_mp_state() override
    {
        kvm_mp_state state{};
        checked_ioctl(fd_.get(), KVM_GET_MP_STATE, &state, "KVM_GET_MP_STATE");
        return state;
    }
    void set_mp_state(const kvm_mp_state& state) override
    {
        checked_ioctl(fd_.get(), KVM_SET_MP_STATE, &state, "KVM_SET_MP_STATE");
    }
    kvm_lapic_state get_lapic() override
    {
        kvm_lapic_state lapic{};
        checked_ioctl(fd_.get(), KVM_GET_LAPIC, &lapic, "KVM_GET_LAPIC");
        return lapic;
    }
    void set_lapic(const kvm_lapic_state& lapic) override { checked_ioctl(fd_.get(), KVM_SET_LAPIC, &lapic, "KVM_SET_LAPIC"); }

    std::vector<kvm_cpuid_entry2> get_cpuid() override
    {
        constexpr std::uint32_t capacity = 256;
        std::vector<std::uint8_t> buffer(sizeof(kvm_abi::Cpuid2Header) + capacity * sizeof(kvm_cpuid_entry2));
        auto* header = reinterpret_cast<kvm_abi::Cpuid2Header*>(buffer.data());
        header->nent = capacity;
        checked_ioctl(fd_.get(), kvm_abi::get_cpuid2, buffer.data(), "KVM_GET_CPUID2");
        std::vector<kvm_cpuid_entry2> entries(header->nent);
        std::memcpy(entries.data(), buffer.data() + sizeof *header, entries.size() * sizeof(kvm_cpuid_entry2));
        return entries;
    }

    std::vector<std::uint8_t> get_xsave() override
    {
        std::vector<std::uint8_t> buffer(std::max<std::size_t>(xsave_size_, sizeof(kvm_abi::Xsave)));
        // KVM_GET_XSAVE2 copies KVM_CAP_XSAVE2 bytes; the legacy call exactly 4096
        checked_ioctl(fd_.get(), xsave_size_ > sizeof(kvm_abi::Xsave) ? kvm_abi::get_xsave2 : kvm_abi::get_xsave,
                      buffer.data(), "KVM_GET_XSAVE");
        return buffer;
    }
    void set_xsave(const std::vector<std::uint8_t>& xsave) override
    {
        if (xsave.size() < sizeof(kvm_abi::Xsave)) {
            throw HvError(fmt::format("XSAVE area of {} bytes is too small", xsave.size()));
        }
        checked_ioctl(fd_.get(), kvm_abi::set_xsave, xsave.data(), "KVM_SET_XSAVE");
    }
    kvm_xcrs get_xcrs() override
    {
        kvm_xcrs xcrs{};
        checked_ioctl(fd_.get(), KVM_GET_XCRS, &xcrs, "KVM_GET_XCRS");
        return xcrs;
    }
    void set_xcrs(const kvm_xcrs& xcrs) override { checked_ioctl(fd_.get(), KVM_SET_XCRS, &xcrs, "KVM_SET_XCRS"); }
    kvm_debugregs get_debugregs() override
    {
        kvm_debugregs regs{};
        checked_ioctl(fd_.get(), KVM_GET_DEBUGREGS, &regs, "KVM_GET_DEBUGREGS");
        return regs;
    }
    void set_debugregs(const kvm_debugregs& regs) override
    {
        checked_ioctl(fd_.get(), KVM_SET_DEBUGREGS, &regs, "KVM_SET_DEBUGREGS");
    }
    kvm_vcpu_events get_vcpu_events() override
    {
        kvm_vcpu_events events{};
        checked_ioctl(fd_.get(), KVM_GET_VCPU_EVENTS, &events, "KVM_GET_VCPU_EVENTS");
        return events;
    }
    void set_vcpu_events(const kvm_vcpu_events& events) override
    {
        checked_ioctl(fd_.get(), KVM_SET_VCPU_EVENTS, &events, "KVM_SET_VCPU_EVENTS");
    }
    void kvmclock_ctrl() override { ::ioctl(fd_.get(), KVM_KVMCLOCK_CTRL, 0); }

    void set_xsave_size(std::size_t size) { xsave_size_ = size; }

private:
    UniqueFd fd_;
    int index_;
    std::size_t xsave_size_ = 4096;
    int run_size_;
    kvm_run* run_ = nullptr;
    std::atomic<pthread_t> thread_{};
    std::atomic<bool> has_thread_{false};
};

class KvmVm : public Vm {
public:
    // kvm_fd stays the hypervisor's (it outlives its VMs); vm_fd becomes this VM's.
    KvmVm(int kvm_fd, UniqueFd vm_fd) : kvm_fd_(kvm_fd), fd_(std::move(vm_fd))
    {
        run_size_ = checked_ioctl(kvm_fd_, KVM_GET_VCPU_MMAP_SIZE, 0ul, "KVM_GET_VCPU_MMAP_SIZE");
    }
    KvmVm(const KvmVm&) = delete;
    KvmVm& operator=(const KvmVm&) = delete;

    void set_memory_region(const MemoryRegionSpec& r) override
    {
        kvm_userspace_memory_region region{};
        region.slot = r.slot;
        region.guest_phys_addr = r.guest_address;
        region.memory_size = r.size;
        region.userspace_addr = reinterpret_cast<std::uint64_t>(r.host_address);
        region.flags = (r.dirty_logging ? KVM_MEM_LOG_DIRTY_PAGES : 0u) | (r.read_only ? KVM_MEM_READONLY : 0u);
        checked_ioctl(fd_.get(), KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");
    }

    void create_irqchip() override { checked_ioctl(fd_.get(), KVM_CREATE_IRQCHIP, 0ul, "KVM_CREATE_IRQCHIP"); }

    void create_pit() override
    {
        kvm_pit_config config{};
        config.flags = KVM_PIT_SPEAKER_DUMMY;
        checked_ioctl(fd_.get(), KVM_CREATE_PIT2, &config, "KVM_CREATE_PIT2");
    }

    void set_tss_address(std::uint64_t address) override
    {
        checked_ioctl(fd_.get(), KVM_SET_TSS_ADDR, static_cast<unsigned long>(address), "KVM_SET_TSS_ADDR");
    }

    void set_identity_map_address(std::uint64_t address) override
    {
        std::uint64_t value = address;
        checked_ioctl(fd_.get(), KVM_SET_IDENTITY_MAP_ADDR, &value, "KVM_SET_IDENTITY_MAP_ADDR");
    }

    std::unique_ptr<Vcpu> create_vcpu(int index) override
    {
        UniqueFd fd(checked_ioctl(fd_.get(), KVM_CREATE_VCPU, static_cast<unsigned long>(index), "KVM_CREATE_VCPU"));
        auto vcpu = std::make_unique<KvmVcpu>(std::move(fd), index, run_size_);
        vcpu->set_xsave_size(xsave_size());
        return vcpu;
    }

    void set_irq_line(std::uint32_t irq, bool level) override
    {
        kvm_irq_level line{};
        line.irq = irq;
        line.level = level ? 1 : 0;
        checked_ioctl(fd_.get(), KVM_IRQ_LINE, &line, "KVM_IRQ_LINE");
    }

    std::vector<std::uint64_t> get_dirty_log(std::uint32_t slot, std::uint64_t size) override
    {
        const std::uint64_t pages = (size + 4095) / 4096;
        std::vector<std::uint64_t> bitmap((pages + 63) / 64, 0);
        kvm_dirty_log log{};
        log.slot = slot;
        log.dirty_bitmap = bitmap.data();
        checked_ioctl(fd_.get(), KVM_GET_DIRTY_LOG, &log, "KVM_GET_DIRTY_LOG");
        return bitmap;
    }

    std::vector<kvm_cpuid_entry2> supported_cpuid() override
    {
        for (std::uint32_t capacity = 128;; capacity *= 2) {
            std::vector<std::uint8_t> buffer(sizeof(kvm_abi::Cpuid2Header) + capacity * sizeof(kvm_cpuid_entry2));
            auto* header = reinterpret_cast<kvm_abi::Cpuid2Header*>(buffer.data());
            header->nent = capacity;
            if (::ioctl(kvm_fd_, kvm_abi::get_supported_cpuid, buffer.data()) == 0) {
                std::vector<kvm_cpuid_entry2> entries(header->nent);
                std::memcpy(entries.data(), buffer.data() + sizeof *header, entries.size() * sizeof(kvm_cpuid_entry2));
                return entries;
            }
            if (errno != E2BIG || capacity > 4096) {
                fail("KVM_GET_SUPPORTED_CPUID");
            }
        }
    }

    std::vector<std::uint32_t> msr_index_list() override
    {
        kvm_abi::MsrListHeader probe{0};
        if (::ioctl(kvm_fd_, kvm_abi::get_msr_index_list, &probe) < 0 && errno != E2BIG) {
            fail("KVM_GET_MSR_INDEX_LIST");
        }
        std::vector<std::uint8_t> buffer(sizeof probe + probe.nmsrs * sizeof(std::uint32_t));
        reinterpret_cast<kvm_abi::MsrListHeader*>(buffer.data())->nmsrs = probe.nmsrs;
        checked_ioctl(kvm_fd_, kvm_abi::get_msr_index_list, buffer.data(), "KVM_GET_MSR_INDEX_LIST");
        const auto count = reinterpret_cast<kvm_abi::MsrListHeader*>(buffer.data())->nmsrs;
        std::vector<std::uint32_t> indices(count);
        std::memcpy(indices.data(), buffer.data() + sizeof probe, count * sizeof(std::uint32_t));
        return indices;
    }

    std::size_t xsave_size() override
    {
        const int size = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
        return size > 0 ? static_cast<std::size_t>(size) : sizeof(kvm_abi::Xsave);
    }

    kvm_pit_state2 get_pit2() override
    {
        kvm_pit_state2 pit{};
        checked_ioctl(fd_.get(), KVM_GET_PIT2, &pit, "KVM_GET_PIT2");
        return pit;
    }
    void set_pit2(const kvm_pit_state2& pit) override { checked_ioctl(fd_.get(), KVM_SET_PIT2, &pit, "KVM_SET_PIT2"); }
    kvm_clock_data get_clock() override
    {
        kvm_clock_data clock{};
        checked_ioctl(fd_.get(), KVM_GET_CLOCK, &clock, "KVM_GET_CLOCK");
        return clock;
    }
    void set_clock(const kvm_clock_data& clock) override
    {
        kvm_clock_data value{};
        value.clock = clock.clock;  // only the clock: flags like KVM_CLOCK_REALTIME need matching fields
        checked_ioctl(fd_.get(), KVM_SET_CLOCK, &value, "KVM_SET_CLOCK");
    }
    kvm_irqchip get_irqchip(std::uint32_t chip_id) override
    {
        kvm_irqchip chip{};
        chip.chip_id = chip_id;
        checked_ioctl(fd_.get(), KVM_GET_IRQCHIP, &chip, "KVM_GET_IRQCHIP");
        return chip;
    }
    void set_irqchip(const kvm_irqchip& chip) override { checked_ioctl(fd_.get(), KVM_SET_IRQCHIP, &chip, "KVM_SET_IRQCHIP"); }

private:
    int kvm_fd_;
    UniqueFd fd_;
    int run_size_ = 0;
};

}  // namespace

KvmHypervisor::KvmHypervisor(const std::string& device)
{
    fd_.reset(::open(device.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd_) {
        const int err = errno;
        throw HvError(fmt::format("cannot open {}: {}{}", device, std::strerror(err),
                                  err == ENOENT   ? " (no KVM here: enable VT-x/AMD-V and load kvm_intel or kvm_amd)"
                                  : err == EACCES ? " (add this user to the 'kvm' group)"
                                                  : ""));
    }
    const int version = ::ioctl(fd_.get(), KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION) {
        throw HvError(fmt::format("{} speaks KVM API {}, need {}", device, version, KVM_API_VERSION));
    }
    install_kick_handler();
}

KvmHypervisor::~KvmHypervisor() = default;

std::unique_ptr<Vm> KvmHypervisor::create_vm()
{
    int vm_fd = -1;
    // KVM_CREATE_VM can fail with EINTR under signal load; retry a few times
    for (int attempt = 0; attempt < 5 && vm_fd < 0; ++attempt) {
        vm_fd = ::ioctl(fd_.get(), KVM_CREATE_VM, 0);
        if (vm_fd < 0 && errno != EINTR) {
            break;
        }
    }
    if (vm_fd < 0) {
        fail("KVM_CREATE_VM");
    }
    return std::make_unique<KvmVm>(fd_.get(), UniqueFd(vm_fd));
}

}  // namespace vdi::hv
