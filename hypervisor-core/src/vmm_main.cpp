// vdi-vmm: the monitor process of one desktop VM (boot a kernel, serve its control socket).
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <iostream>
#include <optional>
#include <regex>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "vdi/common/unique_fd.h"
#include "vdi/hv/boot/memory_layout.h"
#include "vdi/hv/control_server.h"
#include "vdi/hv/kvm/kvm_hypervisor.h"
#include "vdi/hv/kvm_probe.h"
#include "vdi/hv/machine.h"
#include "vdi/hv/sandbox.h"
#include "vdi/hv/display/display_module.h"
#include "vdi/common/logging.h"

#include <nlohmann/json.hpp>

namespace {

int fail(const std::string& message)
{
    std::cerr << "vdi-vmm: " << message << "\n";
    return 1;
}

// A VMM holds a few dozen descriptors (KVM, its vCPUs, event descriptors, the control socket,
// display clients). libvncserver counts the open ones on every new VNC connection by trying
// every number up to the soft limit (its fdQuota check): under an inherited limit of 20,000 that
// is 20,000 system calls, about 7 ms, before the client sees the server's banner. 1,024 is far
// more than a VMM opens and costs a fraction of a millisecond; a lower inherited limit stays.
constexpr rlim_t kVmmOpenFiles = 1024;

void limit_open_files()
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    limit.rlim_cur = std::min(limit.rlim_cur, kVmmOpenFiles);
    limit.rlim_max = std::min(limit.rlim_max, kVmmOpenFiles);
    ::setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"vdi-vmm: KVM virtual machine monitor for one desktop"};
    bool probe = false;
    std::string device = "/dev/kvm";
    std::string kernel, initrd, cmdline = "console=ttyS0", serial = "-", control, fb = "1024x768", log_level = "warn";
    std::string golden_out, restore, identity;
    int ready_timeout_s = 300;
    int notify_fd = -1;
    bool sandbox = false;
    std::string vnc, rdp, rdp_cert, rdp_key;
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
    app.add_option("--golden-out", golden_out,
                   "boot, wait for the guest's 'ready', write a golden image to this directory, exit");
    app.add_option("--ready-timeout", ready_timeout_s, "seconds --golden-out waits for 'ready'");
    app.add_option("--restore", restore, "instant-clone the golden image in this directory instead of booting");
    app.add_option("--vnc", vnc, "serve the display over VNC on ADDRESS:PORT (port 0: any free port)");
    app.add_option("--rdp", rdp, "serve the display over RDP on ADDRESS:PORT (port 0: any free port)");
    app.add_option("--rdp-cert", rdp_cert, "PEM certificate for RDP's TLS (created self-signed if missing)");
    app.add_option("--rdp-key", rdp_key, "PEM private key for RDP's TLS (created if missing)");
    bool rdp_key_checked = false;
    app.add_flag("--rdp-key-checked", rdp_key_checked,
                 "the RDP key was checked by the caller (the host agent): not checked again per connection");
    app.add_flag("--sandbox", sandbox,
                 "once running: no new privileges, no capabilities, a seccomp allow-list of system calls");
    app.add_option("--notify-fd", notify_fd,
                   "write 'running' to this inherited file descriptor once the vCPUs run, then close it");
    app.add_option("--identity", identity,
                   R"(JSON {"host":..,"user":..} sent to the guest agent right after the restore)");
    CLI11_PARSE(app, argc, argv);
    try {
        vdi::init_logging(log_level);
    } catch (const vdi::ConfigError& e) {
        std::cerr << "vdi-vmm: " << e.what() << "\n";
        return 2;
    }

    if (probe) {
        try {
            std::cout << vdi::hv::probe_kvm(device).to_json().dump(2) << "\n";
            return 0;
        } catch (const vdi::hv::KvmUnavailable& e) {
            return fail(e.what());
        }
    }
    if (kernel.empty() == restore.empty()) {
        return fail("give either --kernel (boot) or --restore (clone a golden image)");
    }
    if (!golden_out.empty() && !restore.empty()) {
        return fail("--golden-out boots a kernel; it cannot be combined with --restore");
    }
    std::optional<nlohmann::json> identity_request;
    if (!identity.empty()) {
        try {
            identity_request = nlohmann::json::parse(identity);
            (*identity_request)["cmd"] = "identity";
        } catch (const std::exception& e) {
            return fail(std::string("--identity is not valid JSON: ") + e.what());
        }
    }
    std::smatch size;
    if (!std::regex_match(fb, size, std::regex(R"((\d{2,5})x(\d{2,5}))"))) {
        return fail("--fb must look like 1024x768");
    }

    limit_open_files();

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
        std::unique_ptr<vdi::hv::Machine> machine_owner =
            restore.empty() ? std::make_unique<vdi::hv::Machine>(hypervisor, config)
                            : std::make_unique<vdi::hv::Machine>(hypervisor, restore, config.console_output);
        vdi::hv::Machine& machine = *machine_owner;
        if (identity_request) {
            // queued before the vCPUs run: the clone's agent reads it as soon as it resumes
            vdi::hv::ControlServer::Handler handler(machine);
            const auto response = handler.handle(*identity_request);
            if (!response["ok"].get<bool>()) {
                return fail("--identity: " + response["error"].get<std::string>());
            }
        }
        // display servers bind their sockets before the sandbox closes the door
        // (each protocol's module is loaded only when asked for: see display_module.h)
        std::vector<std::unique_ptr<vdi::hv::DisplayServer>> display_owners;
        std::vector<vdi::hv::DisplayServer*> displays;
        if (!vnc.empty()) {
            display_owners.push_back(
                vdi::hv::load_display_server(machine, vdi::hv::parse_display_endpoint("vnc", vnc)));
        }
        if (!rdp.empty()) {
            if (rdp_cert.empty() || rdp_key.empty()) {
                return fail("--rdp needs --rdp-cert and --rdp-key (the host's TLS certificate)");
            }
            auto options = vdi::hv::parse_display_endpoint("rdp", rdp);
            options.certificate = rdp_cert;
            options.private_key = rdp_key;
            options.key_checked = rdp_key_checked;
            display_owners.push_back(vdi::hv::load_display_server(machine, options));
        }
        for (const auto& display : display_owners) {
            displays.push_back(display.get());
        }
        if (sandbox) {
            vdi::hv::SandboxPaths paths;
            if (!control.empty()) {
                paths.read_write.push_back(std::filesystem::absolute(control).parent_path());
            }
            if (!restore.empty()) {
                paths.read_only.push_back(std::filesystem::absolute(restore));
            }
            const auto report = vdi::hv::enter_sandbox(paths);
            if (!report.landlock) {
                vdi::logger("vmm.sandbox")->warn("the kernel has no Landlock: file access is not confined");
            }
        }
        std::optional<vdi::hv::ControlServer> control_server;
        if (!control.empty()) {
            control_server.emplace(machine, control, displays);
        }
        machine.start();
        for (auto* display : displays) {
            display->start();
        }
        if (notify_fd >= 0) {
            // the inherited readiness pipe is ours alone: one line, then closed (the agent waits on it)
            const vdi::UniqueFd notify(notify_fd);
            [[maybe_unused]] auto n = ::write(notify.get(), "running\n", 8);
        }
        if (!golden_out.empty()) {
            const auto ready_count = machine.agent().ready_count();
            if (!machine.agent().wait_ready(ready_count + 1, std::chrono::seconds(ready_timeout_s))) {
                machine.request_stop("no ready");
                return fail("the guest did not say 'ready' within " + std::to_string(ready_timeout_s) +
                            " s; no golden image written");
            }
            machine.snapshot(golden_out);
            machine.request_stop("golden image written");
            machine.wait();
            std::cerr << "vdi-vmm: golden image written to " << golden_out << "\n";
            return 0;
        }

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
