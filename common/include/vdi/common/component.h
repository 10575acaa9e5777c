// What every control-plane executable shares: the common command-line options (config file,
// DSN, log level), loading the configuration, the top-level error boundary, schema checks.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <pqxx/pqxx>

#include "vdi/common/config.h"

namespace vdi {

struct CommonOptions {
    std::optional<std::filesystem::path> config_path;
    ConfigOverrides overrides;
};

// Adds --config, --dsn, --dsn-file and --log-level to `app`.
void add_common_options(CLI::App& app, CommonOptions& options);

// Loads the configuration named by the options and initialises logging from it.
Config load_component_config(const CommonOptions& options);

// Runs `body` and turns any escaping exception into "<program>: error: <message>" on stderr and
// exit status 1. CLI11 parse errors keep CLI11's own exit codes.
int run_main(const std::string& program, const std::function<int()>& body);

struct SchemaStatus {
    int database_version = 0;  // migrations recorded in the database
    int build_version = 0;     // migrations compiled into this binary
    bool current() const { return database_version == build_version; }
};

// Verifies checksums of applied migrations as well (MigrationError when they differ).
SchemaStatus schema_status(pqxx::connection& connection);

// Throws vdi::Error with instructions when the database schema is not at this build's version.
void require_current_schema(pqxx::connection& connection);

}  // namespace vdi

namespace vdi {

// The --check of every service: connects with the configured DSN and verifies the schema is at
// this build's version, printing what it found. Returns the exit status (0 when ready to run).
int check_database(const Config& config, const std::string& application_name);

}  // namespace vdi
