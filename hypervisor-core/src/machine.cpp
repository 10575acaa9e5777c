// Building a VM and running its vCPU threads.
#include "vdi/hv/machine.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "vdi/hv/boot/memory_layout.h"
#include "vdi/hv/boot/x86_boot.h"

namespace vdi::hv {

std::string to_string(RunState state)
{
    switch (state) {
    case RunState::created: return "created";
    case RunState::running: return "running";
    case RunState::paused: return "paused";
    case RunState::stopped: return "stopped";
    }
    return "unknown";
}

Machine::Machine(Hypervisor& hypervisor, MachineConfig config)
    : config_(std::move(config)), framebuffer_(config_.framebuffer)
{
    const std::uint64_t ram = config_.memory_mib << 20;
    if (ram < layout::min_ram || ram > layout::ram_limit) {
        throw HvError(fmt::format("--memory {} MiB is out of range: use {} to {} MiB", config_.memory_mib,
                                  layout::min_ram >> 20, layout::ram_limit >> 20));
    }
    if (config_.vcpus < 1 || config_.vcpus > max_vcpus) {
        throw HvError(fmt::format("--vcpus {} is out of range: use 1 to {}", config_.vcpus, max_vcpus));
    }
    if (framebuffer_.guest_address() < ram) {
        throw HvError("the framebuffer overlaps guest RAM");
    }

    vm_ = hypervisor.create_vm();
    vm_->set_identity_map_address(layout::identity_map);
    vm_->set_tss_address(layout::tss);
    vm_->create_irqchip();
    vm_->create_pit();

    memory_.add_anonymous("ram", 0, ram);
    framebuffer_.attach(memory_);
    memory_.register_with(*vm_);

    auto irq = [this](std::uint32_t line) -> InterruptLine& {
        irq_lines_.push_back(std::make_unique<VmInterruptLine>(*vm_, line));
        return *irq_lines_.back();
    };
    console_ = std::make_unique<Serial8250>(irq(4), [this](std::span<const std::uint8_t> bytes) {
        if (config_.console_output) {
            config_.console_output(bytes);
        }
    });
    agent_ = std::make_unique<AgentChannel>(irq(3));
    i8042_ = std::make_unique<I8042>(irq(1), irq(12), [this] { stop_from_vcpu(false, "the guest asked for a reset"); });
    rtc_.set_memory_size(ram);
    port_bus_.insert(Serial8250::com1_base, Serial8250::port_count, *console_, "com1");
    port_bus_.insert(Serial8250::com2_base, Serial8250::port_count, agent_->uart(), "agent");
    port_bus_.insert(I8042::data_port, 1, i8042_->data_device(), "i8042-data");
    port_bus_.insert(I8042::command_port, 1, i8042_->command_device(), "i8042-command");
    port_bus_.insert(CmosRtc::base_port, CmosRtc::port_count, rtc_, "rtc");

    kernel_ = load_kernel_file(memory_, config_.kernel);
    BootConfig boot;
    boot.ram_bytes = ram;
    boot.cmdline = config_.cmdline;
    boot.framebuffer = &framebuffer_;
    if (config_.initrd) {
        const auto initrd = read_file(*config_.initrd);
        boot.initrd_address = place_initrd(memory_, ram, kernel_, initrd);
        boot.initrd_size = initrd.size();
    }
    write_boot_params(memory_, kernel_, boot);
    write_page_tables_and_gdt(memory_);

    for (int i = 0; i < config_.vcpus; ++i) {
        vcpus_.push_back(vm_->create_vcpu(i));
        configure_vcpu(*vcpus_.back(), *vm_, i, config_.vcpus, kernel_.entry);
    }
}

Machine::~Machine()
{
    request_stop("the VMM is shutting down");
    for (auto& t : threads_) {
        if (t.joinable()) {
            t.join();
        }
    }
}

void Machine::start()
{
    std::lock_guard lock(mutex_);
    if (state_ != RunState::created) {
        return;
    }
    state_ = desired_ = RunState::running;
    for (auto& vcpu : vcpus_) {
        threads_.emplace_back([this, &vcpu] { vcpu_loop(*vcpu); });
    }
}

void Machine::pause()
{
    std::unique_lock lock(mutex_);
    if (state_ != RunState::running) {
        return;
    }
    desired_ = RunState::paused;
    for (auto& vcpu : vcpus_) {
        vcpu->request_exit();
    }
    changed_.wait(lock, [&] {
        return vcpus_paused_ + vcpus_exited_ == static_cast<int>(vcpus_.size()) || state_ == RunState::stopped;
    });
    if (state_ != RunState::stopped) {
        state_ = RunState::paused;
    }
}

void Machine::resume()
{
    std::lock_guard lock(mutex_);
    if (state_ != RunState::paused) {
        return;
    }
    desired_ = state_ = RunState::running;
    changed_.notify_all();
}

void Machine::request_stop(const std::string& reason)
{
    std::unique_lock lock(mutex_);
    if (state_ == RunState::stopped) {
        return;
    }
    if (!stop_info_) {
        stop_info_ = StopInfo{false, reason};
    }
    desired_ = RunState::stopped;
    for (auto& vcpu : vcpus_) {
        vcpu->request_exit();
    }
    changed_.notify_all();
    if (threads_.empty()) {
        state_ = RunState::stopped;
    }
}

void Machine::stop_from_vcpu(bool failure, const std::string& reason)
{
    std::lock_guard lock(mutex_);
    if (!stop_info_) {
        stop_info_ = StopInfo{failure, reason};
        if (failure) {
            spdlog::error("vmm the VM stopped: {}", reason);
        } else {
            spdlog::info("vmm the VM stopped: {}", reason);
        }
    }
    desired_ = RunState::stopped;
    for (auto& vcpu : vcpus_) {
        vcpu->request_exit();
    }
    changed_.notify_all();
}

std::optional<StopInfo> Machine::wait(std::optional<std::chrono::milliseconds> timeout)
{
    std::unique_lock lock(mutex_);
    auto stopped = [&] { return state_ == RunState::stopped; };
    if (timeout) {
        if (!changed_.wait_for(lock, *timeout, stopped)) {
            return std::nullopt;
        }
    } else {
        changed_.wait(lock, stopped);
    }
    return stop_info_.value_or(StopInfo{false, "stopped"});
}

RunState Machine::state() const
{
    std::lock_guard lock(mutex_);
    return state_;
}

std::optional<std::chrono::steady_clock::time_point> Machine::first_exit_time() const
{
    std::lock_guard lock(mutex_);
    return first_exit_;
}

void Machine::vcpu_loop(Vcpu& vcpu)
{
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            if (desired_ == RunState::paused) {
                ++vcpus_paused_;
                changed_.notify_all();
                changed_.wait(lock, [&] { return desired_ != RunState::paused; });
                --vcpus_paused_;
            }
            if (desired_ == RunState::stopped) {
                break;
            }
        }
        VmExit exit;
        try {
            exit = vcpu.run();
        } catch (const std::exception& e) {
            stop_from_vcpu(true, fmt::format("vCPU {} could not run: {}", vcpu.index(), e.what()));
            break;
        }
        if (exit.kind != VmExit::Kind::interrupted) {
            std::lock_guard lock(mutex_);
            if (!first_exit_) {
                first_exit_ = std::chrono::steady_clock::now();
            }
        }
        if (!handle_exit(vcpu, exit)) {
            break;
        }
    }
    std::lock_guard lock(mutex_);
    ++vcpus_exited_;
    if (vcpus_exited_ == static_cast<int>(vcpus_.size())) {
        state_ = RunState::stopped;
        if (!stop_info_) {
            stop_info_ = StopInfo{false, "stopped"};
        }
    }
    changed_.notify_all();
}

bool Machine::handle_exit(Vcpu& vcpu, const VmExit& exit)
{
    switch (exit.kind) {
    case VmExit::Kind::io_in:
        for (std::uint32_t i = 0; i < exit.count; ++i) {
            port_bus_.read(exit.address, std::span(exit.data + i * exit.size, exit.size));
        }
        return true;
    case VmExit::Kind::io_out:
        for (std::uint32_t i = 0; i < exit.count; ++i) {
            port_bus_.write(exit.address, std::span<const std::uint8_t>(exit.data + i * exit.size, exit.size));
        }
        return true;
    case VmExit::Kind::mmio_read:
        mmio_bus_.read(exit.address, std::span(exit.data, exit.size));
        return true;
    case VmExit::Kind::mmio_write:
        mmio_bus_.write(exit.address, std::span<const std::uint8_t>(exit.data, exit.size));
        return true;
    case VmExit::Kind::interrupted:
    case VmExit::Kind::halt:
        return true;  // the loop checks for pause/stop; HLT without in-kernel irqchip just retries
    case VmExit::Kind::shutdown:
        stop_from_vcpu(true, fmt::format("the guest triple-faulted (or reset) at RIP {:#x} on vCPU {}", exit.rip,
                                         vcpu.index()));
        return false;
    case VmExit::Kind::emulation_failure:
        stop_from_vcpu(true, fmt::format("instruction not supported at RIP {:#x} on vCPU {}", exit.rip, vcpu.index()));
        return false;
    case VmExit::Kind::system_event:
        stop_from_vcpu(false, "the guest powered off (" + exit.reason + ")");
        return false;
    case VmExit::Kind::fail_entry:
    case VmExit::Kind::unknown:
        stop_from_vcpu(true, fmt::format("{} at RIP {:#x} on vCPU {}", exit.reason, exit.rip, vcpu.index()));
        return false;
    }
    return true;
}

}  // namespace vdi::hv
