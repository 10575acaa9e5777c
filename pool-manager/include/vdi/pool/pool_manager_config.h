// The pool manager's configuration: the [pool_manager] section of its TOML file (all keys
// optional; each default is the member's initializer below) plus command-line overrides.
//
//   [pool_manager]
//   name = "pm-1"                  # this instance (job claims, audit log); default: the host name
//   interval_ms = 1000             # a pass at least this often; NOTIFY wakes it sooner
//   heartbeat_timeout_s = 15       # a host agent silent this long is lost
//   trim_grace_s = 300             # spare desktops above the target are kept this long
//   failures_before_stop = 3       # failed desktops of one image (within failure_window_s) ...
//   failure_window_s = 600         # ... before that pool's provisioning stops with an error
//   time_zone = "Europe/Berlin"    # cron schedules are read in this zone
//   refresh_deadline_s = 3600      # scheduled refresh: in-use desktops are forced after this
//   vcpu_overcommit = 8            # desktop vCPUs per host CPU
// Unknown keys are errors (ConfigError naming them), so a typo never passes silently.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "vdi/common/config.h"

namespace vdi::pool {

struct PoolManagerConfig {
    std::string dsn;
    std::string name;  // this instance, in job claims and the audit log; empty: the host name
    std::chrono::milliseconds interval{1000};     // a pass at least this often (NOTIFY wakes sooner)
    std::chrono::seconds heartbeat_timeout{15};   // a host silent this long is lost
    std::chrono::seconds trim_grace{300};         // spare desktops above the target live this long
    int failures_before_stop = 3;                 // failed desktops of one image (recently) before provisioning stops
    std::chrono::seconds failure_window{600};
    std::string time_zone = "UTC";                // cron schedules are read in this zone
    std::chrono::seconds refresh_deadline{3600};  // scheduled refresh: in-use desktops forced after this
    int vcpu_overcommit = 8;                      // desktop vCPUs per host CPU (idle desktops)
};

// The command line's say over the file.
struct PoolManagerOverrides {
    std::optional<std::string> name;  // --name
};

// The file's [pool_manager] section over the defaults, the overrides over both; the DSN from
// `config` (ConfigError if there is none); an empty name becomes the host name. ConfigError
// names the key for an unknown key, a value out of range or an unknown time zone.
PoolManagerConfig load_pool_manager_config(const Config& config, const PoolManagerOverrides& overrides = {});

// The effective configuration as `--check` prints it (the DSN's password masked).
std::string describe_pool_manager_config(const Config& config, const PoolManagerConfig& pool_manager);

}  // namespace vdi::pool
