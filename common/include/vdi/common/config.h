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
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include <toml++/toml.h>

#include "vdi/common/error.h"

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

// Reading a component's own section (or a table in it), strictly: every error is a ConfigError
// naming "[where] key".
void reject_unknown_keys(const toml::table& table, const std::string& where, const std::set<std::string>& known);
std::string config_string(const toml::table& table, const std::string& where, const char* key,
                          const std::string& fallback);
// A sub-table such as [broker.limits]; an empty table if absent.
const toml::table& config_table(const toml::table& table, const std::string& where, const char* key);
// An integer within [minimum, maximum], or `fallback` when the key is absent.
template <typename T>
T config_integer(const toml::table& table, const std::string& where, const char* key, T fallback, long long minimum,
                 long long maximum)
{
    const auto* node = table.get(key);
    if (node == nullptr) return fallback;
    const auto value = node->value<std::int64_t>();
    if (!value || *value < minimum || *value > maximum) {
        throw ConfigError("[" + where + "] " + key + " must be an integer from " + std::to_string(minimum) + " to " +
                          std::to_string(maximum));
    }
    return static_cast<T>(*value);
}

// Reads a DSN file: first non-empty line, surrounding whitespace removed. Throws ConfigError.
std::string read_dsn_file(const std::filesystem::path& path);

}  // namespace vdi
