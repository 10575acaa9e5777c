// Shared command-line handling and start-up checks of the control-plane executables.
#include "vdi/common/component.h"

#include <iostream>

#include <fmt/format.h>

#include "vdi/common/db/migrations.h"
#include "vdi/common/error.h"
#include "vdi/common/logging.h"

namespace vdi {

void add_common_options(CLI::App& app, CommonOptions& options)
{
    app.add_option("--config", options.config_path, "TOML configuration file")->check(CLI::ExistingFile);
    app.add_option("--dsn", options.overrides.dsn, "PostgreSQL connection string (overrides the config)");
    app.add_option("--dsn-file", options.overrides.dsn_file, "file holding the PostgreSQL connection string");
    app.add_option("--log-level", options.overrides.log_level, "trace|debug|info|warn|error|critical|off");
}

Config load_component_config(const CommonOptions& options)
{
    Config config = Config::load(options.config_path, options.overrides);
    init_logging(config.log().level);
    return config;
}

int run_main(const std::string& program, const std::function<int()>& body)
{
    try {
        return body();
    } catch (const CLI::ParseError&) {
        throw;  // handled by CLI11's exit() in the caller
    } catch (const std::exception& e) {
        std::cerr << program << ": error: " << e.what() << "\n";
        return 1;
    }
}

SchemaStatus schema_status(pqxx::connection& connection)
{
    auto migrations = db::embedded_migrations();
    SchemaStatus status;
    status.build_version = static_cast<int>(migrations.size());
    db::MigrationRunner runner(connection, std::move(migrations));
    const auto pending = runner.pending();
    status.database_version = status.build_version - static_cast<int>(pending.size());
    return status;
}

void require_current_schema(pqxx::connection& connection)
{
    const SchemaStatus status = schema_status(connection);
    if (!status.current()) {
        throw Error(fmt::format("the database schema is at version {} but this program needs version {}; "
                                "run 'vdictl migrate' (or './vdi migrate')",
                                status.database_version, status.build_version));
    }
}

}  // namespace vdi

namespace vdi {

int check_database(const Config& config, const std::string& application_name)
{
    auto connection = db::connect(config.require_dsn(), application_name, config.database().connect_timeout_s);
    require_current_schema(*connection);
    std::cout << fmt::format("{}: configuration ok; database {} reachable; schema current\n", application_name,
                             redact_dsn(config.require_dsn()));
    return 0;
}

}  // namespace vdi
