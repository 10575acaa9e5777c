// vdi-hostd: the host agent of one hypervisor host (see host_agent.h and docs/hostd.md).
#include <csignal>
#include <iostream>
#include <thread>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "vdi/common/component.h"
#include "vdi/hostd/host_agent.h"
#include "vdi/hostd/hostd_config.h"

int main(int argc, char** argv)
{
    CLI::App app{"vdi-hostd: runs the desktops placed on this host"};
    vdi::CommonOptions common;
    vdi::add_common_options(app, common);
    // the defaults shown are HostdConfig's, the only place they are stated
    const vdi::hostd::HostdConfig defaults;
    vdi::hostd::HostdOverrides overrides;
    bool check = false;
    app.add_flag("--check", check,
                 "print the effective configuration, check the database and its schema, then exit");
    app.add_option("--name", overrides.name, "this host's name in the database (overrides [hostd] name; "
                                             "default: this machine's host name)");
    app.add_option("--address", overrides.address, "address thin clients use to reach this host (default: " +
                                                       defaults.address + ")");
    app.add_option("--display-bind", overrides.display_bind,
                   "address the desktops' VNC and RDP servers listen on (default: " + defaults.display_bind + ")");
    app.add_option("--vcpus", overrides.vcpus_total, "vCPU capacity (default: this machine's CPUs)");
    app.add_option("--memory-mib", overrides.memory_mib_total, "memory capacity (default: this machine's)");
    app.add_option("--max-concurrent-ops", overrides.max_concurrent_ops,
                   "provisioning operations at once (default: " + std::to_string(defaults.max_concurrent_ops) + ")");
    app.add_option("--state-dir", overrides.state_dir,
                   "VMM sockets, records and logs (default: " + defaults.state_dir.string() + ")");
    app.add_option("--vmm", overrides.vmm_binary, "the vdi-vmm binary (default: next to vdi-hostd)");
    app.add_option("--heartbeat-ms", overrides.heartbeat_ms,
                   "heartbeat interval (default: " + std::to_string(defaults.heartbeat.count()) + ")");
    app.add_option("--resync-ms", overrides.resync_ms,
                   "full reconcile interval (default: " + std::to_string(defaults.resync.count()) + ")");
    app.add_option("--client-grace-s", overrides.client_grace_s,
                   "an active session whose desktop has no display client this long becomes disconnected "
                   "(default: " + std::to_string(defaults.client_grace.count()) + ")");
    app.add_flag("--no-sandbox", overrides.no_sandbox, "run VMMs without the seccomp/capability sandbox (debugging)");
    CLI11_PARSE(app, argc, argv);

    return vdi::run_main("vdi-hostd", [&]() -> int {
        const vdi::Config loaded = vdi::load_component_config(common);
        const vdi::hostd::HostdConfig config = vdi::hostd::load_hostd_config(loaded, overrides);
        if (check) {
            std::cout << vdi::hostd::to_toml(config) << std::flush;
            if (!std::filesystem::is_regular_file(config.vmm_binary) || ::access(config.vmm_binary.c_str(), X_OK) != 0) {
                throw vdi::ConfigError("the VMM binary " + config.vmm_binary.string() +
                                       " is not an executable file: set [hostd] vmm or pass --vmm");
            }
            return vdi::check_database(loaded, "vdi-hostd");
        }

        sigset_t signals;
        sigemptyset(&signals);
        sigaddset(&signals, SIGTERM);
        sigaddset(&signals, SIGINT);
        pthread_sigmask(SIG_BLOCK, &signals, nullptr);
        vdi::hostd::HostAgent agent(config);
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
