// vdi-pool-manager: keeps every pool sized, refreshed and placed (see pool_manager.h).
//
//   [pool_manager]
//   name = "pm-1"                  # this instance (job claims, audit log); default: the host name
//   interval_ms = 1000             # a pass at least this often; NOTIFY wakes it sooner
//   heartbeat_timeout_s = 15       # a host agent silent this long is lost
//   trim_grace_s = 300             # spare desktops above the target are kept this long
//   failures_before_stop = 3       # failed desktops of one image (within failure_window_s) ...
//   failure_window_s = 600         # ... before that pool's provisioning stops with an error
//   time_zone = "Europe/Berlin"    # cron schedules are read in this zone (default UTC)
//   refresh_deadline_s = 3600      # scheduled refresh: in-use desktops are forced after this
//   vcpu_overcommit = 8            # desktop vCPUs per host CPU
#include <csignal>
#include <thread>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "vdi/common/component.h"
#include "vdi/common/db/database.h"
#include "vdi/common/error.h"
#include "vdi/pool/pool_manager.h"

namespace {

vdi::pool::PoolManager* running = nullptr;

void on_signal(int)
{
    if (running != nullptr) running->request_stop();
}


}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"vdi-pool-manager: keeps every pool sized, refreshed and placed"};
    vdi::CommonOptions common;
    vdi::add_common_options(app, common);
    bool check = false;
    std::string name;
    app.add_flag("--check", check, "validate the configuration and the database schema, then exit");
    app.add_option("--name", name, "this instance's name (overrides [pool_manager] name)");
    CLI11_PARSE(app, argc, argv);

    return vdi::run_main("vdi-pool-manager", [&]() -> int {
        const vdi::Config config = vdi::load_component_config(common);
        if (check) {
            return vdi::check_database(config, "vdi-pool-manager");
        }
        const toml::table& section = config.section("pool_manager");
        vdi::reject_unknown_keys(section, "pool_manager",
                                 {"name", "interval_ms", "heartbeat_timeout_s", "trim_grace_s", "failures_before_stop",
                                  "failure_window_s", "time_zone", "refresh_deadline_s", "vcpu_overcommit"});
        vdi::pool::PoolManagerConfig pm;
        pm.dsn = config.require_dsn();
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        const auto integer = [&](const char* key, long fallback, long minimum, long maximum) {
            return vdi::config_integer<long>(section, "pool_manager", key, fallback, minimum, maximum);
        };
        pm.name = !name.empty() ? name : vdi::config_string(section, "pool_manager", "name", host);
        pm.interval = std::chrono::milliseconds(integer("interval_ms", 1000, 50, 600000));
        pm.heartbeat_timeout = std::chrono::seconds(integer("heartbeat_timeout_s", 15, 1, 3600));
        pm.trim_grace = std::chrono::seconds(integer("trim_grace_s", 300, 0, 86400));
        pm.failures_before_stop = static_cast<int>(integer("failures_before_stop", 3, 1, 1000));
        pm.failure_window = std::chrono::seconds(integer("failure_window_s", 600, 1, 86400));
        pm.time_zone = vdi::config_string(section, "pool_manager", "time_zone", "UTC");
        pm.refresh_deadline = std::chrono::seconds(integer("refresh_deadline_s", 3600, 0, 7 * 86400));
        pm.vcpu_overcommit = static_cast<int>(integer("vcpu_overcommit", 8, 1, 64));
        // the zone must exist before the first cron evaluation, not at it
        vdi::pool::CronSchedule::parse("0 0 * * *").next_after(std::chrono::system_clock::now(), pm.time_zone);
        {
            auto connection = vdi::db::connect(pm.dsn, "vdi-pool-manager");
            vdi::require_current_schema(*connection);
        }
        vdi::pool::SystemClock clock;
        vdi::pool::PoolManager manager(pm, clock);
        running = &manager;
        std::signal(SIGTERM, on_signal);
        std::signal(SIGINT, on_signal);
        manager.run();
        running = nullptr;
        return 0;
    });
}
