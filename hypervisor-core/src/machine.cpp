// Building a VM and running its vCPU threads.
#include "vdi/hv/machine.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "vdi/common/unique_fd.h"
#include "vdi/hv/boot/memory_layout.h"
#include "vdi/hv/boot/x86_boot.h"
#include "vdi/common/logging.h"

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

void Machine::check_config() const
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
}

void Machine::create_vm(Hypervisor& hypervisor)
{
    vm_ = hypervisor.create_vm();
    vm_->set_identity_map_address(layout::identity_map);
    vm_->set_tss_address(layout::tss);
}

void Machine::register_memory_and_create_irqchip()
{
    // Memory slots go in before the in-kernel irqchip: registering the first slot after it costs
    // about 5 ms here (measured), before it 0.1 ms, and a restore is mostly this.
    memory_.register_with(*vm_);
    vm_->create_irqchip();
    vm_->create_pit();
}

void Machine::create_devices()
{
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
    port_bus_.insert(Serial8250::com1_base, Serial8250::port_count, *console_, "com1");
    port_bus_.insert(Serial8250::com2_base, Serial8250::port_count, agent_->uart(), "agent");
    port_bus_.insert(I8042::data_port, 1, i8042_->data_device(), "i8042-data");
    port_bus_.insert(I8042::command_port, 1, i8042_->command_device(), "i8042-command");
    port_bus_.insert(CmosRtc::base_port, CmosRtc::port_count, rtc_, "rtc");
}

Machine::Machine(Hypervisor& hypervisor, MachineConfig config)
    : config_(std::move(config)), framebuffer_(config_.framebuffer)
{
    check_config();
    const std::uint64_t ram = config_.memory_mib << 20;
    create_vm(hypervisor);
    memory_.add_anonymous("ram", 0, ram);
    framebuffer_.attach(memory_);
    register_memory_and_create_irqchip();
    create_devices();
    rtc_.set_memory_size(ram);

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

Machine::Machine(Hypervisor& hypervisor, const std::filesystem::path& snapshot_dir,
                 std::function<void(std::span<const std::uint8_t>)> console_output)
    : Machine(hypervisor, read_snapshot(snapshot_dir), snapshot_dir, std::move(console_output))
{
}

Machine::Machine(Hypervisor& hypervisor, MachineSnapshot snapshot, const std::filesystem::path& dir,
                 std::function<void(std::span<const std::uint8_t>)> console_output)
    : config_{{}, {}, snapshot.machine.cmdline, snapshot.machine.memory_mib, static_cast<int>(snapshot.machine.vcpus),
              snapshot.devices.framebuffer, std::move(console_output)},
      framebuffer_(snapshot.devices.framebuffer)
{
    check_config();
    kernel_.format = snapshot.machine.kernel;
    // Firecracker's order, except that memory comes before the irqchip (see
    // register_memory_and_create_irqchip): VM, TSS, memory, irqchip, PIT, vCPUs; vCPU state;
    // VM state; devices
    create_vm(hypervisor);
    const auto memory_file = dir / snapshot_memory_file;
    for (const auto& region : snapshot.regions) {
        if (region.name == "ram") {
            if (region.guest_address != 0 || region.size != (config_.memory_mib << 20)) {
                throw SnapshotError("snapshot RAM region does not match its memory size");
            }
            memory_.add_file("ram", 0, region.size, memory_file, region.file_offset);
        } else if (region.name == "framebuffer") {
            if (region.guest_address != framebuffer_.guest_address() || region.size != framebuffer_.size()) {
                throw SnapshotError("snapshot framebuffer region does not match its geometry");
            }
            framebuffer_.attach_file(memory_, memory_file, region.file_offset);
        } else {
            throw SnapshotError("snapshot has an unknown memory region " + region.name);
        }
    }
    if (memory_.regions().size() != 2) {
        throw SnapshotError("snapshot must hold exactly a RAM and a framebuffer region");
    }
    register_memory_and_create_irqchip();
    for (int i = 0; i < config_.vcpus; ++i) {
        vcpus_.push_back(vm_->create_vcpu(i));
    }
    create_devices();
    for (std::size_t i = 0; i < vcpus_.size(); ++i) {
        restore_vcpu(*vcpus_[i], snapshot.vcpus[i]);
    }
    restore_vm(*vm_, snapshot.vm);
    console_->restore(snapshot.devices.console);
    agent_->restore(snapshot.devices.agent);
    i8042_->restore(snapshot.devices.i8042);
    rtc_.restore(snapshot.devices.rtc);
}

namespace {

// A snapshot file that did not reach the disk: the snapshot is unusable, and the caller (the
// control socket's "snapshot", a golden-image build) must hear why and what to do.
[[noreturn]] void fail_snapshot_write(const std::filesystem::path& path, const char* step, int err)
{
    const bool full = err == ENOSPC || err == EDQUOT;
    throw HvError(fmt::format("could not write snapshot file {} to disk ({}: {}); {}", path.string(), step,
                              std::strerror(err),
                              full ? "free space on its file system, then take the snapshot again (for a golden "
                                     "image: rebuild it)"
                                   : "check the disk and its file system, then take the snapshot again (for a "
                                     "golden image: rebuild it)"));
}

// fsync, then close with its error checked: a snapshot is complete only once both succeed.
void finish_snapshot_file(const std::filesystem::path& path, UniqueFd& fd)
{
    if (::fsync(fd.get()) != 0) {
        fail_snapshot_write(path, "fsync", errno);
    }
    if (const int err = fd.close_checked(); err != 0) {
        fail_snapshot_write(path, "close", err);
    }
}

// Writes the regions back to back at page-aligned offsets, leaving all-zero pages as holes.
std::vector<MemoryRegionRecord> write_memory_file(const std::filesystem::path& path, const GuestMemory& memory)
{
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) {
        throw HvError(fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
    }
    std::vector<MemoryRegionRecord> records;
    std::uint64_t offset = 0;
    static const std::uint8_t zero_page[4096] = {};
    for (const auto& region : memory.regions()) {
        records.push_back({region.name, region.guest_address, region.size, offset});
        for (std::uint64_t page = 0; page < region.size; page += 4096) {
            const std::uint8_t* data = region.host + page;
            if (std::memcmp(data, zero_page, 4096) == 0) {
                continue;
            }
            std::uint64_t written = 0;
            while (written < 4096) {
                const ssize_t n = ::pwrite(fd.get(), data + written, 4096 - written,
                                           static_cast<off_t>(offset + page + written));
                if (n <= 0) {
                    fail_snapshot_write(path, "write", n == 0 ? ENOSPC : errno);
                }
                written += static_cast<std::uint64_t>(n);
            }
        }
        offset += region.size;
    }
    if (::ftruncate(fd.get(), static_cast<off_t>(offset)) != 0) {
        fail_snapshot_write(path, "ftruncate", errno);
    }
    finish_snapshot_file(path, fd);
    return records;
}

void write_whole_file(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes)
{
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) {
        throw HvError(fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
    }
    std::size_t written = 0;
    while (written < bytes.size()) {
        const ssize_t n = ::write(fd.get(), bytes.data() + written, bytes.size() - written);
        if (n <= 0) {
            fail_snapshot_write(path, "write", n == 0 ? ENOSPC : errno);
        }
        written += static_cast<std::size_t>(n);
    }
    finish_snapshot_file(path, fd);
}

}  // namespace

void Machine::snapshot(const std::filesystem::path& dir)
{
    const bool was_running = state() == RunState::running;
    pause();
    const RunState now = state();
    if (now == RunState::stopped) {
        throw HvError("cannot snapshot a VM that has stopped");
    }
    std::filesystem::create_directories(dir);
    MachineSnapshot s;
    s.machine = {config_.memory_mib, static_cast<std::uint32_t>(config_.vcpus), kernel_.format, config_.cmdline};
    // devices first, then vCPUs, then VM-wide state, memory last
    s.devices = {console_->save(), agent_->save(), i8042_->save(), rtc_.save(), framebuffer_.save()};
    if (saveable_msrs_.empty()) {
        saveable_msrs_ = saveable_msrs(*vm_, *vcpus_[0]);
    }
    for (auto& vcpu : vcpus_) {
        s.vcpus.push_back(save_vcpu(*vcpu, saveable_msrs_));
    }
    s.vm = save_vm(*vm_);
    const auto memory_tmp = dir / (std::string(snapshot_memory_file) + ".tmp");
    const auto state_tmp = dir / (std::string(snapshot_state_file) + ".tmp");
    s.regions = write_memory_file(memory_tmp, memory_);
    write_whole_file(state_tmp, encode_snapshot(s));
    // new inodes: clones still mapping an older image keep it
    std::filesystem::rename(memory_tmp, dir / snapshot_memory_file);
    std::filesystem::rename(state_tmp, dir / snapshot_state_file);
    if (was_running || now == RunState::running) {
        resume();
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
    started_ = std::chrono::steady_clock::now();
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
            logger("vmm")->error("the VM stopped reason=\"{}\"", reason);
        } else {
            logger("vmm")->info("the VM stopped reason=\"{}\"", reason);
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

std::optional<std::chrono::steady_clock::time_point> Machine::start_time() const
{
    std::lock_guard lock(mutex_);
    return started_;
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
                // finish the last exit (an I/O read's result) so saved registers are complete
                lock.unlock();
                vcpu.complete_pending_exit();
                lock.lock();
            }
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
