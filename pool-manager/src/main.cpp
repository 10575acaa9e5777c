// vdi-pool-manager: keeps every pool sized, refreshed and placed (see pool_manager.h); its
// configuration file is described in pool_manager_config.h.
#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>

#include "vdi/common/component.h"
#include "vdi/common/db/database.h"
#include "vdi/common/error.h"
#include "vdi/pool/pool_manager.h"
#include "vdi/pool/pool_manager_config.h"

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
    vdi::pool::PoolManagerOverrides overrides;
    app.add_flag("--check", check,
                 "print the effective configuration, validate it and the database schema, then exit");
    app.add_option("--name", overrides.name, "this instance's name (overrides [pool_manager] name)");
    CLI11_PARSE(app, argc, argv);

    return vdi::run_main("vdi-pool-manager", [&]() -> int {
        const vdi::Config config = vdi::load_component_config(common);
        const vdi::pool::PoolManagerConfig pm = vdi::pool::load_pool_manager_config(config, overrides);
        if (check) {
            std::cout << vdi::pool::describe_pool_manager_config(config, pm) << "\n";
            return vdi::check_database(config, "vdi-pool-manager");
        }
        {
            auto connection = vdi::db::connect(pm.dsn, "vdi-pool-manager");
            vdi::require_current_schema(*connection);
        }
        vdi::SystemClock clock;
        vdi::pool::PoolManager manager(pm, clock);
        running = &manager;
        std::signal(SIGTERM, on_signal);
        std::signal(SIGINT, on_signal);
        manager.run();
        running = nullptr;
        return 0;
    });
}
