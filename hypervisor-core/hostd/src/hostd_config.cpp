// Reading the [hostd] configuration section and the command line's overrides.
#include "vdi/hostd/hostd_config.h"

#include <sstream>
#include <unistd.h>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "vdi/common/error.h"

namespace vdi::hostd {
namespace {

const char* const section_name = "hostd";

std::string this_host_name()
{
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') {
        throw ConfigError("this machine has no host name: set [hostd] name or pass --name");
    }
    return name;
}

// An integer from the command line (named `option`) if given, else from the file's `key`, else
// `fallback`; in [minimum, maximum] either way.
template <typename T, typename Override>
T integer(const toml::table& section, const char* key, const char* option, T fallback,
          const std::optional<Override>& override, long long minimum, long long maximum)
{
    if (override) {
        const auto value = static_cast<long long>(*override);
        if (value < minimum || value > maximum) {
            throw ConfigError(fmt::format("{} must be an integer from {} to {}", option, minimum, maximum));
        }
        return static_cast<T>(value);
    }
    return config_integer<T>(section, section_name, key, fallback, minimum, maximum);
}

std::string text(const toml::table& section, const char* key, const char* option, const std::string& fallback,
                 const std::optional<std::string>& override, bool may_be_empty)
{
    std::string value = override ? *override : config_string(section, section_name, key, fallback);
    if (!may_be_empty && value.empty()) {
        throw ConfigError(override ? fmt::format("{} must not be empty", option)
                                   : fmt::format("[{}] {} must not be empty", section_name, key));
    }
    return value;
}

}  // namespace

HostdConfig load_hostd_config(const Config& config, const HostdOverrides& overrides)
{
    const toml::table& s = config.section(section_name);
    reject_unknown_keys(s, section_name,
                        {"name", "address", "display_bind", "vcpus", "memory_mib", "max_concurrent_ops", "state_dir",
                         "vmm", "sandbox", "heartbeat_ms", "resync_ms", "vmm_start_timeout_ms", "client_grace_s"});
    HostdConfig out;
    out.dsn = config.require_dsn();
    out.name = text(s, "name", "--name", out.name, overrides.name, true);
    out.address = text(s, "address", "--address", out.address, overrides.address, false);
    out.display_bind = text(s, "display_bind", "--display-bind", out.display_bind, overrides.display_bind, false);
    out.vcpus_total = integer(s, "vcpus", "--vcpus", out.vcpus_total, overrides.vcpus_total, 0, 4096);
    out.memory_mib_total =
        integer(s, "memory_mib", "--memory-mib", out.memory_mib_total, overrides.memory_mib_total, 0, 1LL << 32);
    out.max_concurrent_ops = integer(s, "max_concurrent_ops", "--max-concurrent-ops", out.max_concurrent_ops,
                                     overrides.max_concurrent_ops, 1, 1024);
    out.state_dir = overrides.state_dir ? *overrides.state_dir
                                        : std::filesystem::path(text(s, "state_dir", "--state-dir",
                                                                     out.state_dir.string(), std::nullopt, false));
    if (out.state_dir.empty()) throw ConfigError("--state-dir must not be empty");
    out.vmm_binary = overrides.vmm_binary ? *overrides.vmm_binary
                                          : std::filesystem::path(config_string(s, section_name, "vmm",
                                                                                out.vmm_binary.string()));
    if (const auto* node = s.get("sandbox")) {
        const auto value = node->value<bool>();
        if (!value) throw ConfigError("[hostd] sandbox must be true or false");
        out.sandbox_vmms = *value;
    }
    if (overrides.no_sandbox) out.sandbox_vmms = false;
    out.heartbeat = std::chrono::milliseconds(
        integer(s, "heartbeat_ms", "--heartbeat-ms", out.heartbeat.count(), overrides.heartbeat_ms, 10, 3600000));
    out.resync = std::chrono::milliseconds(
        integer(s, "resync_ms", "--resync-ms", out.resync.count(), overrides.resync_ms, 10, 3600000));
    out.vmm_start_timeout = std::chrono::milliseconds(integer(s, "vmm_start_timeout_ms", "vmm_start_timeout_ms",
                                                              out.vmm_start_timeout.count(),
                                                              std::optional<long>(), 1000, 600000));
    out.client_grace = std::chrono::seconds(integer(s, "client_grace_s", "--client-grace-s", out.client_grace.count(),
                                                    overrides.client_grace_s, 1, 86400));

    // what "this machine" means, so that --check shows what the agent will run with
    if (out.name.empty()) out.name = this_host_name();
    if (out.vcpus_total == 0) out.vcpus_total = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
    if (out.memory_mib_total == 0) {
        out.memory_mib_total = static_cast<std::int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGE_SIZE) / (1 << 20);
    }
    if (out.vmm_binary.empty()) {
        out.vmm_binary = std::filesystem::canonical("/proc/self/exe").parent_path() / "vdi-vmm";
    }
    out.state_dir = std::filesystem::absolute(out.state_dir);
    return out;
}

std::string to_toml(const HostdConfig& config)
{
    toml::table hostd{
        {"name", config.name},
        {"address", config.address},
        {"display_bind", config.display_bind},
        {"vcpus", config.vcpus_total},
        {"memory_mib", config.memory_mib_total},
        {"max_concurrent_ops", config.max_concurrent_ops},
        {"state_dir", config.state_dir.string()},
        {"vmm", config.vmm_binary.string()},
        {"sandbox", config.sandbox_vmms},
        {"heartbeat_ms", static_cast<std::int64_t>(config.heartbeat.count())},
        {"resync_ms", static_cast<std::int64_t>(config.resync.count())},
        {"vmm_start_timeout_ms", static_cast<std::int64_t>(config.vmm_start_timeout.count())},
        {"client_grace_s", static_cast<std::int64_t>(config.client_grace.count())},
    };
    std::ostringstream out;
    out << toml::table{{section_name, std::move(hostd)}} << "\n";
    return out.str();
}

}  // namespace vdi::hostd
