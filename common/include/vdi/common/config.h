// Component configuration: one TOML file per component, plus the database DSN resolution.
//
// File layout (every section optional):
//   [database]
//   dsn = "postgresql://user:pw@host:5432/vdi"   # or
//   dsn_file = "/etc/vdi/db.dsn"                  # a file holding the DSN (keeps it out of the config)
//   connect_timeout_s = 5
//   [log]
//   level = "info"                                # trace|debug|info|warn|error|critical|off
//   [<component>]                                 # read by the component itself via section()
// Unknown keys in [database] and [log] are errors, so a typo is never silently ignored.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <toml++/toml.h>

namespace vdi {

struct DatabaseConfig {
    std::string dsn;
    int connect_timeout_s = 5;
};

struct LogConfig {
    std::string level = "info";
};

// Overrides from the command line / environment, strongest first.
struct ConfigOverrides {
    std::optional<std::string> dsn;                 // --dsn
    std::optional<std::filesystem::path> dsn_file;  // --dsn-file
    std::optional<std::string> log_level;           // --log-level
};

class Config {
public:
    // Loads `path` (if set) and applies overrides. The DSN is resolved in this order:
    // --dsn, --dsn-file, $VDI_DSN, [database].dsn, [database].dsn_file, ./var/db.dsn.
    // Throws ConfigError naming the file, key and problem.
    static Config load(const std::optional<std::filesystem::path>& path, const ConfigOverrides& overrides = {});

    const DatabaseConfig& database() const { return database_; }
    const LogConfig& log() const { return log_; }

    // The component's own section ([broker], [pool_manager], ...); empty if absent.
    const toml::table& section(std::string_view name) const;

    // The database DSN, or ConfigError saying every place that was looked at.
    const std::string& require_dsn() const;

private:
    toml::table table_;
    DatabaseConfig database_;
    LogConfig log_;
    std::string source_;  // for messages: the file name or "defaults"
};

// Reads a DSN file: first non-empty line, surrounding whitespace removed. Throws ConfigError.
std::string read_dsn_file(const std::filesystem::path& path);

}  // namespace vdi
