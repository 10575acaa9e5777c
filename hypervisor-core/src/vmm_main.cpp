// vdi-vmm: the monitor process of one desktop VM (boot a kernel, serve its control socket).
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <iostream>
#include <optional>
#include <regex>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "vdi/hv/boot/memory_layout.h"
#include "vdi/hv/control_server.h"
#include "vdi/hv/kvm/kvm_hypervisor.h"
#include "vdi/hv/kvm_probe.h"
#include "vdi/hv/machine.h"

namespace {

int fail(const std::string& message)
{
    std::cerr << "vdi-vmm: " << message << "\n";
    return 1;
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"vdi-vmm: KVM virtual machine monitor for one desktop"};
    bool probe = false;
    std::string device = "/dev/kvm";
    std::string kernel, initrd, cmdline = "console=ttyS0", serial = "-", control, fb = "1024x768", log_level = "warn";
    std::uint64_t memory_mib = 256;
    int vcpus = 1;
    app.add_flag("--probe", probe, "print the KVM API version and capabilities as JSON, then exit");
    app.add_option("--kvm-device", device, "the KVM device node");
    app.add_option("--kernel", kernel, "ELF (vmlinux, demo guest) or bzImage to boot");
    app.add_option("--initrd", initrd, "initial ramdisk");
    app.add_option("--cmdline", cmdline, "kernel command line");
    app.add_option("--memory", memory_mib, "guest RAM in MiB");
    app.add_option("--vcpus", vcpus, "virtual CPUs (1-4)");
    app.add_option("--fb", fb, "framebuffer size WIDTHxHEIGHT");
    app.add_option("--serial", serial, "file receiving the guest console, '-' for stdout");
    app.add_option("--control", control, "unix socket for the JSON-lines control protocol");
    app.add_option("--log-level", log_level, "trace|debug|info|warn|error");
    CLI11_PARSE(app, argc, argv);
    spdlog::set_level(spdlog::level::from_str(log_level));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");

    if (probe) {
        try {
            std::cout << vdi::hv::probe_kvm(device).to_json().dump(2) << "\n";
            return 0;
        } catch (const vdi::hv::KvmUnavailable& e) {
            return fail(e.what());
        }
    }
    if (kernel.empty()) {
        return fail("--kernel is required (or --probe)");
    }
    std::smatch size;
    if (!std::regex_match(fb, size, std::regex(R"((\d{2,5})x(\d{2,5}))"))) {
        return fail("--fb must look like 1024x768");
    }

    // SIGTERM/SIGINT are taken by sigwait below; block them before any thread starts
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    int serial_fd = STDOUT_FILENO;
    if (serial != "-") {
        serial_fd = ::open(serial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (serial_fd < 0) {
            return fail("cannot open --serial file " + serial);
        }
    }
    try {
        vdi::hv::KvmHypervisor hypervisor(device);
        vdi::hv::MachineConfig config;
        config.kernel = kernel;
        if (!initrd.empty()) {
            config.initrd = initrd;
        }
        config.cmdline = cmdline;
        config.memory_mib = memory_mib;
        config.vcpus = vcpus;
        config.framebuffer.width = static_cast<std::uint32_t>(std::stoul(size[1]));
        config.framebuffer.height = static_cast<std::uint32_t>(std::stoul(size[2]));
        config.framebuffer.guest_address = vdi::hv::layout::framebuffer;
        config.console_output = [serial_fd](std::span<const std::uint8_t> bytes) {
            [[maybe_unused]] auto n = ::write(serial_fd, bytes.data(), bytes.size());
        };
        vdi::hv::Machine machine(hypervisor, config);
        std::optional<vdi::hv::ControlServer> control_server;
        if (!control.empty()) {
            control_server.emplace(machine, control);
        }
        machine.start();

        // wait for a signal or for the guest to stop on its own
        std::optional<vdi::hv::StopInfo> stopped;
        while (!(stopped = machine.wait(std::chrono::milliseconds(0)))) {
            timespec tick{0, 100'000'000};
            const int sig = sigtimedwait(&signals, nullptr, &tick);
            if (sig == SIGTERM || sig == SIGINT) {
                machine.request_stop(sig == SIGTERM ? "SIGTERM" : "SIGINT");
                stopped = machine.wait();
                break;
            }
        }
        if (stopped->guest_failure) {
            return fail("the VM stopped: " + stopped->reason);
        }
        return 0;
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}
