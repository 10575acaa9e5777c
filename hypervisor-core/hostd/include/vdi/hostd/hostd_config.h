// The host agent's configuration: the [hostd] section of its TOML file, then the command line.
//
//   [hostd]                  every key optional; each default is the member's in HostdConfig
//   name, address, display_bind               strings
//   vcpus, memory_mib, max_concurrent_ops     integers (capacity the pool manager plans with)
//   state_dir, vmm                            paths (relative ones: to the working directory)
//   sandbox                                   true or false (false only for debugging)
//   heartbeat_ms, resync_ms, vmm_start_timeout_ms, client_grace_s   integers
//
// The command line overrides the file (--name, --address, ..., --no-sandbox). Unknown keys are
// refused, like in every other section. Errors: vdi::ConfigError naming the key or option.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "vdi/common/config.h"

namespace vdi::hostd {

// What the host agent runs with. The defaults here are the only ones (the loader falls back to
// them, the command line's help shows them).
struct HostdConfig {
    std::string dsn;                          // from [database] / --dsn (common/config.h)
    std::string name;                         // empty: this machine's host name
    std::string address = "127.0.0.1";        // where thin clients reach this host's display servers
    std::string display_bind = "127.0.0.1";   // where VMMs' display servers listen
    int vcpus_total = 0;                      // 0: this machine's online CPUs
    std::int64_t memory_mib_total = 0;        // 0: this machine's physical memory
    int max_concurrent_ops = 4;
    std::filesystem::path state_dir = "var/hostd";  // VMM sockets, records and logs
    std::filesystem::path vmm_binary;         // empty: vdi-vmm next to this executable
    bool sandbox_vmms = true;
    std::chrono::milliseconds heartbeat{2000};
    std::chrono::milliseconds resync{5000};
    std::chrono::milliseconds vmm_start_timeout{30000};
    std::chrono::seconds client_grace{60};    // no display client this long: the session is disconnected
};

// Command-line overrides (each stronger than the file); unset ones leave the file's value.
struct HostdOverrides {
    std::optional<std::string> name;
    std::optional<std::string> address;
    std::optional<std::string> display_bind;
    std::optional<int> vcpus_total;
    std::optional<std::int64_t> memory_mib_total;
    std::optional<int> max_concurrent_ops;
    std::optional<std::filesystem::path> state_dir;
    std::optional<std::filesystem::path> vmm_binary;
    bool no_sandbox = false;
    std::optional<long> heartbeat_ms;
    std::optional<long> resync_ms;
    std::optional<long> client_grace_s;
};

// The effective configuration: [hostd] of `config`, then `overrides`, then what "this machine"
// means filled in (host name, capacity, the vdi-vmm next to this executable, an absolute state
// directory), so the result is what the agent runs with. Throws ConfigError.
HostdConfig load_hostd_config(const Config& config, const HostdOverrides& overrides = {});

// The configuration as a TOML [hostd] section (what `vdi-hostd --check` prints); the DSN is not
// part of it.
std::string to_toml(const HostdConfig& config);

}  // namespace vdi::hostd
