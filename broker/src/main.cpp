// vdi-broker: the HTTPS API for thin clients and administrators. Today: --check (configuration and database readiness).
#include <iostream>

#include <CLI/CLI.hpp>

#include "vdi/common/component.h"

int main(int argc, char** argv)
{
    CLI::App app{"vdi-broker: the HTTPS API for thin clients and administrators"};
    vdi::CommonOptions common;
    vdi::add_common_options(app, common);
    bool check = false;
    app.add_flag("--check", check, "validate the configuration and the database schema, then exit");
    CLI11_PARSE(app, argc, argv);

    return vdi::run_main("vdi-broker", [&]() -> int {
        const vdi::Config config = vdi::load_component_config(common);
        if (!check) {
            std::cerr << "vdi-broker: only --check is available in this version (the HTTPS API for thin clients and administrators is not built yet)\n";
            return 2;
        }
        return vdi::check_database(config, "vdi-broker");
    });
}
