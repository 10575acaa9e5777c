// vdi-hostd: the host agent of one hypervisor host (see host_agent.h).
#include <csignal>
#include <iostream>
#include <thread>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "vdi/common/component.h"
#include "vdi/hv/hostd/host_agent.h"

namespace {

std::string this_host_name()
{
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    return name;
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"vdi-hostd: runs the desktops placed on this host"};
    vdi::CommonOptions common;
    vdi::add_common_options(app, common);
    vdi::hv::HostAgentConfig config;
    config.name = this_host_name();
    config.address = "127.0.0.1";
    std::string state_dir = "var/hostd";
    std::string vmm = "";
    long heartbeat_ms = 2000, resync_ms = 5000, client_grace_s = 60;
    bool no_sandbox = false;
    app.add_option("--name", config.name, "this host's name in the database");
    app.add_option("--address", config.address, "address thin clients use to reach this host");
    app.add_option("--display-bind", config.display_bind, "address the desktops' VNC servers listen on");
    app.add_option("--vcpus", config.vcpus_total, "vCPU capacity (default: this machine's CPUs)");
    app.add_option("--memory-mib", config.memory_mib_total, "memory capacity (default: this machine's)");
    app.add_option("--max-concurrent-ops", config.max_concurrent_ops, "provisioning operations at once");
    app.add_option("--state-dir", state_dir, "VMM sockets, records and logs");
    app.add_option("--vmm", vmm, "the vdi-vmm binary (default: next to vdi-hostd)");
    app.add_option("--heartbeat-ms", heartbeat_ms, "heartbeat interval");
    app.add_option("--resync-ms", resync_ms, "full reconcile interval");
    app.add_option("--client-grace-s", client_grace_s,
                   "an active session whose desktop has no display client this long becomes disconnected");
    app.add_flag("--no-sandbox", no_sandbox, "run VMMs without the seccomp/capability sandbox (debugging)");
    CLI11_PARSE(app, argc, argv);

    return vdi::run_main("vdi-hostd", [&]() -> int {
        const vdi::Config loaded = vdi::load_component_config(common);
        config.dsn = loaded.require_dsn();
        config.state_dir = std::filesystem::absolute(state_dir);
        config.vmm_binary = vmm.empty() ? std::filesystem::canonical("/proc/self/exe").parent_path() / "vdi-vmm"
                                        : std::filesystem::path(vmm);
        config.sandbox_vmms = !no_sandbox;
        config.heartbeat = std::chrono::milliseconds(heartbeat_ms);
        config.resync = std::chrono::milliseconds(resync_ms);
        config.client_grace = std::chrono::seconds(client_grace_s);

        sigset_t signals;
        sigemptyset(&signals);
        sigaddset(&signals, SIGTERM);
        sigaddset(&signals, SIGINT);
        pthread_sigmask(SIG_BLOCK, &signals, nullptr);
        vdi::hv::HostAgent agent(config);
        std::thread waiter([&] {
            int sig = 0;
            sigwait(&signals, &sig);
            agent.request_stop();
        });
        waiter.detach();
        agent.run();
        return 0;
    });
}
