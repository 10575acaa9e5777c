// vdictl: the scriptable administration CLI. Everything goes through the broker's admin API over
// HTTPS, like every other client; only `migrate` and `bootstrap-admin` use the database.
// The grammar, the output and the exit codes: docs/vdictl.md.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli_context.h"
#include "commands.h"
#include "vdi/common/component.h"

namespace {

constexpr const char* footer = R"(
Commands are NOUN VERB: vdictl pool list, vdictl user add NAME, vdictl pool create --name N
--image I. Objects are named by name (users, groups, pools, images) or id; 'vdictl NOUN VERB --help'
lists a command's options. Tables fit the terminal (--wide: every column); --json prints the
broker's JSON as it is. First 'vdictl login --broker URL (--ca FILE | --pin SHA256)'.

Exit codes: 0 ok, 1 failed (locally: a file, the database, a bad answer), 2 usage error,
3 refused by the broker (4xx, also 'no such object'), 4 the broker failed (5xx), 5 the broker
unreachable (connection, timeout, TLS, certificate), 6 not logged in (run 'vdictl login').
More: docs/vdictl.md.
)";

}  // namespace

int main(int argc, char** argv)
{
    using vdi::admin::CliExit;
    using vdi::admin::Exit;

    CLI::App app{"vdictl: administer the VDI broker through its admin API"};
    app.footer(footer);
    app.require_subcommand(1);
    app.fallthrough();  // global options after the subcommand too: vdictl pool list --json

    vdi::admin::GlobalOptions global;
    app.add_option("--broker", global.broker, "the broker: https://HOST[:PORT] (default: the logged-in one)")
        ->envname("VDI_BROKER");
    auto* ca = app.add_option("--ca", global.ca_file, "trust the broker's certificate by this PEM file (CA or the "
                                                      "certificate itself)")
                   ->envname("VDI_CA");
    app.add_option("--pin", global.pin, "trust the broker's certificate by its SHA-256 fingerprint")
        ->envname("VDI_PIN")
        ->excludes(ca);
    app.add_flag("--json", global.json, "print the broker's JSON answer as it is");
    app.add_flag("--wide", global.wide, "tables with every column, however wide");
    vdi::CommonOptions common;
    vdi::add_common_options(app, common);  // the database, for migrate and bootstrap-admin
    for (auto* option : app.get_options()) {
        const std::string name = option->get_name();
        if (name == "--config" || name == "--dsn" || name == "--dsn-file" || name == "--log-level") {
            option->group("Database options (migrate, bootstrap-admin)");
        }
    }

    vdi::admin::Action action;
    vdi::admin::add_account_commands(app, action);
    vdi::admin::add_user_commands(app, action);
    vdi::admin::add_pool_commands(app, action);
    vdi::admin::add_runtime_commands(app, action);
    vdi::admin::add_database_commands(app, action, common);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);  // prints help, or the error
        return code == 0 ? 0 : static_cast<int>(Exit::usage);
    }
    if (!action) {
        std::cerr << "vdictl: give a command (see --help)\n";
        return static_cast<int>(Exit::usage);
    }
    vdi::admin::CliContext context(global);
    try {
        return action(context);
    } catch (const CliExit& e) {
        std::cerr << "vdictl: " << e.what() << "\n";
        return static_cast<int>(e.code());
    } catch (const std::exception& e) {
        std::cerr << "vdictl: error: " << e.what() << "\n";
        return static_cast<int>(Exit::failed);
    }
}
