// One desktop virtual machine: guest memory, the in-kernel irqchip and PIT, the devices on the
// port bus, the booted kernel, and one thread per vCPU with a Running/Paused/Stopped state
// machine.
//
// Threads: start/pause/resume/request_stop/wait may be called from any thread (one mutex
// guards the run state). pause() returns once every vCPU thread is outside KVM_RUN, so state
// can be read consistently (snapshots). A guest failure (triple fault, unsupported instruction,
// failed entry) stops this VM with a reason; it never takes down the process.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "vdi/hv/boot/kernel_loader.h"
#include "vdi/hv/devices/agent_channel.h"
#include "vdi/hv/devices/cmos_rtc.h"
#include "vdi/hv/devices/framebuffer.h"
#include "vdi/hv/devices/i8042.h"
#include "vdi/hv/devices/serial_8250.h"
#include "vdi/hv/guest_memory.h"
#include "vdi/hv/hypervisor.h"
#include "vdi/hv/io_bus.h"
#include "vdi/hv/snapshot/snapshot.h"

namespace vdi::hv {

struct MachineConfig {
    std::filesystem::path kernel;
    std::optional<std::filesystem::path> initrd;
    std::string cmdline;
    std::uint64_t memory_mib = 256;
    int vcpus = 1;
    FramebufferState framebuffer;
    // Bytes the guest writes to its console (COM1); called on vCPU threads.
    std::function<void(std::span<const std::uint8_t>)> console_output;
};

enum class RunState { created, running, paused, stopped };
std::string to_string(RunState state);

struct StopInfo {
    bool guest_failure = false;  // false: stopped on request (or the guest powered off cleanly)
    std::string reason;
};

class Machine {
public:
    static constexpr int max_vcpus = 4;

    // Builds the VM and loads the kernel. HvError with a one-line reason on bad configuration
    // (memory out of range, unreadable kernel, ...).
    Machine(Hypervisor& hypervisor, MachineConfig config);
    // Restores a golden image (an instant clone): memory mapped copy-on-write from DIR/memory,
    // vCPU, VM and device state from DIR/state. The clone starts paused-equivalent (created);
    // start() resumes the guest exactly where the snapshot left it. SnapshotError/HvError.
    Machine(Hypervisor& hypervisor, const std::filesystem::path& snapshot_dir,
            std::function<void(std::span<const std::uint8_t>)> console_output);
    ~Machine();
    Machine(const Machine&) = delete;
    Machine& operator=(const Machine&) = delete;

    void start();
    void pause();
    void resume();
    // Asks the vCPUs to stop; wait() returns once they have.
    void request_stop(const std::string& reason);
    // Blocks until the machine has stopped (or `timeout` passed: nullopt).
    std::optional<StopInfo> wait(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
    RunState state() const;

    // Writes a golden image of this VM to `dir` (created if needed): pauses the vCPUs, saves
    // devices, vCPUs, VM state and memory, and resumes them if they were running. Files are
    // written under temporary names and renamed, so a clone never maps a half-written image.
    void snapshot(const std::filesystem::path& dir);

    Vm& vm() { return *vm_; }
    GuestMemory& memory() { return memory_; }
    Framebuffer& framebuffer() { return framebuffer_; }
    I8042& input() { return *i8042_; }
    AgentChannel& agent() { return *agent_; }
    Serial8250& console() { return *console_; }
    CmosRtc& rtc() { return rtc_; }
    IoBus& port_bus() { return port_bus_; }
    const LoadedKernel& kernel() const { return kernel_; }
    const MachineConfig& config() const { return config_; }
    // When the first vCPU exit was seen (the guest has executed instructions); nullopt before.
    std::optional<std::chrono::steady_clock::time_point> first_exit_time() const;
    // When start() let the vCPU threads go; nullopt before.
    std::optional<std::chrono::steady_clock::time_point> start_time() const;

private:
    Machine(Hypervisor& hypervisor, MachineSnapshot snapshot, const std::filesystem::path& dir,
            std::function<void(std::span<const std::uint8_t>)> console_output);
    void check_config() const;
    void create_vm(Hypervisor& hypervisor);
    void register_memory_and_create_irqchip();
    void create_devices();
    void vcpu_loop(Vcpu& vcpu);
    bool handle_exit(Vcpu& vcpu, const VmExit& exit);  // false: the VM must stop
    void stop_from_vcpu(bool failure, const std::string& reason);

    MachineConfig config_;
    std::unique_ptr<Vm> vm_;
    GuestMemory memory_;
    Framebuffer framebuffer_;
    IoBus port_bus_{"pio"};
    IoBus mmio_bus_{"mmio"};
    std::vector<std::unique_ptr<InterruptLine>> irq_lines_;
    std::unique_ptr<Serial8250> console_;
    std::unique_ptr<AgentChannel> agent_;
    std::unique_ptr<I8042> i8042_;
    CmosRtc rtc_;
    LoadedKernel kernel_;
    std::vector<std::unique_ptr<Vcpu>> vcpus_;
    std::vector<std::thread> threads_;
    std::vector<std::uint32_t> saveable_msrs_;  // computed at the first snapshot

    mutable std::mutex mutex_;  // guards everything below
    std::condition_variable changed_;
    RunState state_ = RunState::created;
    RunState desired_ = RunState::created;
    int vcpus_paused_ = 0;
    int vcpus_exited_ = 0;
    std::optional<StopInfo> stop_info_;
    std::optional<std::chrono::steady_clock::time_point> first_exit_;
    std::optional<std::chrono::steady_clock::time_point> started_;
};

}  // namespace vdi::hv
