// Reading the [pool_manager] configuration section.
#include "vdi/pool/pool_manager_config.h"

#include <unistd.h>

#include "vdi/common/effective_config.h"
#include "vdi/common/error.h"
#include "vdi/pool/cron.h"

namespace vdi::pool {

PoolManagerConfig load_pool_manager_config(const Config& config, const PoolManagerOverrides& overrides)
{
    const std::string where = "pool_manager";
    const toml::table& section = config.section(where);
    reject_unknown_keys(section, where,
                        {"name", "interval_ms", "heartbeat_timeout_s", "trim_grace_s", "failures_before_stop",
                         "failure_window_s", "time_zone", "refresh_deadline_s", "vcpu_overcommit"});
    PoolManagerConfig out;
    const auto integer = [&](const char* key, long fallback, long minimum, long maximum) {
        return config_integer<long>(section, where, key, fallback, minimum, maximum);
    };
    out.name = config_string(section, where, "name", out.name);
    out.interval = std::chrono::milliseconds(integer("interval_ms", out.interval.count(), 50, 600000));
    out.heartbeat_timeout = std::chrono::seconds(integer("heartbeat_timeout_s", out.heartbeat_timeout.count(), 1, 3600));
    out.trim_grace = std::chrono::seconds(integer("trim_grace_s", out.trim_grace.count(), 0, 86400));
    out.failures_before_stop = static_cast<int>(integer("failures_before_stop", out.failures_before_stop, 1, 1000));
    out.failure_window = std::chrono::seconds(integer("failure_window_s", out.failure_window.count(), 1, 86400));
    out.time_zone = config_string(section, where, "time_zone", out.time_zone);
    out.refresh_deadline = std::chrono::seconds(integer("refresh_deadline_s", out.refresh_deadline.count(), 0, 7 * 86400));
    out.vcpu_overcommit = static_cast<int>(integer("vcpu_overcommit", out.vcpu_overcommit, 1, 64));

    if (overrides.name) out.name = *overrides.name;
    if (out.name.empty()) {
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        out.name = host;
    }
    // the zone must exist before the first cron evaluation, not at it
    try {
        CronSchedule::parse("0 0 * * *").next_after(std::chrono::system_clock::now(), out.time_zone);
    } catch (const std::exception& e) {
        throw ConfigError("[pool_manager] time_zone '" + out.time_zone + "' is not usable: " + e.what() +
                          "; name a zone of the tz database, such as \"UTC\" or \"Europe/Berlin\"");
    }
    out.dsn = config.require_dsn();
    return out;
}

std::string describe_pool_manager_config(const Config& config, const PoolManagerConfig& pm)
{
    EffectiveConfig out;
    out.add_common(config);
    out.section("pool_manager");
    out.add("name", pm.name);
    out.add("interval_ms", static_cast<long long>(pm.interval.count()));
    out.add("heartbeat_timeout_s", static_cast<long long>(pm.heartbeat_timeout.count()));
    out.add("trim_grace_s", static_cast<long long>(pm.trim_grace.count()));
    out.add("failures_before_stop", static_cast<long long>(pm.failures_before_stop));
    out.add("failure_window_s", static_cast<long long>(pm.failure_window.count()));
    out.add("time_zone", pm.time_zone);
    out.add("refresh_deadline_s", static_cast<long long>(pm.refresh_deadline.count()));
    out.add("vcpu_overcommit", static_cast<long long>(pm.vcpu_overcommit));
    return out.text();
}

}  // namespace vdi::pool
