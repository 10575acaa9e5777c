// Loading component configuration files and resolving the database DSN.
#include "vdi/common/config.h"

#include <cstdlib>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "vdi/common/error.h"

namespace vdi {
namespace {

const toml::table empty_table;

void reject_unknown_keys(const toml::table& table, std::string_view section, const std::set<std::string>& known,
                         const std::string& source)
{
    for (const auto& [key, value] : table) {
        if (!known.count(std::string(key.str()))) {
            throw ConfigError(fmt::format("{}: unknown key '{}' in [{}]", source, key.str(), section));
        }
    }
}

const toml::table* sub_table(const toml::table& root, std::string_view name, const std::string& source)
{
    const toml::node* node = root.get(name);
    if (node == nullptr) {
        return nullptr;
    }
    const toml::table* table = node->as_table();
    if (table == nullptr) {
        throw ConfigError(fmt::format("{}: '{}' must be a table ([{}])", source, name, name));
    }
    return table;
}

std::string string_key(const toml::table& table, std::string_view section, std::string_view key,
                       const std::string& source)
{
    const toml::node* node = table.get(key);
    if (node == nullptr || !node->is_string()) {
        throw ConfigError(fmt::format("{}: [{}].{} must be a string", source, section, key));
    }
    return **node->as_string();
}

}  // namespace

std::string read_dsn_file(const std::filesystem::path& path)
{
    std::ifstream in(path);
    if (!in) {
        throw ConfigError(fmt::format("cannot read DSN file {} (start the embedded database with './vdi db start' "
                                      "or point --dsn at your PostgreSQL)",
                                      path.string()));
    }
    std::string line;
    while (std::getline(in, line)) {
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos) {
            continue;
        }
        const auto last = line.find_last_not_of(" \t\r");
        return line.substr(first, last - first + 1);
    }
    throw ConfigError(fmt::format("DSN file {} is empty", path.string()));
}

Config Config::load(const std::optional<std::filesystem::path>& path, const ConfigOverrides& overrides)
{
    Config config;
    config.source_ = "defaults";
    if (path) {
        config.source_ = path->string();
        try {
            config.table_ = toml::parse_file(path->string());
        } catch (const toml::parse_error& e) {
            const auto& where = e.source().begin;
            throw ConfigError(fmt::format("{}:{}:{}: {}", path->string(), where.line, where.column, e.description()));
        }
    }
    const std::string& source = config.source_;

    std::string file_dsn;
    std::optional<std::filesystem::path> file_dsn_file;
    if (const toml::table* db = sub_table(config.table_, "database", source)) {
        reject_unknown_keys(*db, "database", {"dsn", "dsn_file", "connect_timeout_s"}, source);
        if (db->contains("dsn")) {
            file_dsn = string_key(*db, "database", "dsn", source);
        }
        if (db->contains("dsn_file")) {
            file_dsn_file = string_key(*db, "database", "dsn_file", source);
        }
        if (const toml::node* timeout = db->get("connect_timeout_s")) {
            auto value = timeout->value<int64_t>();
            if (!value || *value < 1 || *value > 600) {
                throw ConfigError(fmt::format("{}: [database].connect_timeout_s must be an integer 1..600", source));
            }
            config.database_.connect_timeout_s = static_cast<int>(*value);
        }
    }
    if (const toml::table* log = sub_table(config.table_, "log", source)) {
        reject_unknown_keys(*log, "log", {"level"}, source);
        if (log->contains("level")) {
            config.log_.level = string_key(*log, "log", "level", source);
        }
    }
    if (overrides.log_level) {
        config.log_.level = *overrides.log_level;
    }
    static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (!levels.count(config.log_.level)) {
        throw ConfigError(fmt::format("{}: log level '{}' is not one of trace, debug, info, warn, error, critical, off",
                                      source, config.log_.level));
    }

    const char* env_dsn = std::getenv("VDI_DSN");
    if (overrides.dsn) {
        config.database_.dsn = *overrides.dsn;
    } else if (overrides.dsn_file) {
        config.database_.dsn = read_dsn_file(*overrides.dsn_file);
    } else if (env_dsn != nullptr && *env_dsn != '\0') {
        config.database_.dsn = env_dsn;
    } else if (!file_dsn.empty()) {
        config.database_.dsn = file_dsn;
    } else if (file_dsn_file) {
        config.database_.dsn = read_dsn_file(*file_dsn_file);
    } else if (std::filesystem::exists("var/db.dsn")) {
        config.database_.dsn = read_dsn_file("var/db.dsn");
    }
    return config;
}

const toml::table& Config::section(std::string_view name) const
{
    const toml::table* table = sub_table(table_, name, source_);
    return table != nullptr ? *table : empty_table;
}

const std::string& Config::require_dsn() const
{
    if (database_.dsn.empty()) {
        throw ConfigError(fmt::format("no database configured: pass --dsn or --dsn-file, set VDI_DSN, set [database].dsn "
                                      "in {}, or start the embedded database with './vdi db start'",
                                      source_));
    }
    return database_.dsn;
}

void reject_unknown_keys(const toml::table& table, const std::string& where, const std::set<std::string>& known)
{
    for (const auto& [key, value] : table) {
        if (!known.count(std::string(key.str()))) {
            throw ConfigError("[" + where + "]: unknown key '" + std::string(key.str()) + "'");
        }
    }
}

std::string config_string(const toml::table& table, const std::string& where, const char* key,
                          const std::string& fallback)
{
    const auto* node = table.get(key);
    if (node == nullptr) return fallback;
    const auto value = node->value<std::string>();
    if (!value) throw ConfigError("[" + where + "] " + key + " must be a string");
    return *value;
}

const toml::table& config_table(const toml::table& table, const std::string& where, const char* key)
{
    static const toml::table empty;
    const auto* node = table.get(key);
    if (node == nullptr) return empty;
    if (!node->is_table()) throw ConfigError("[" + where + "] " + key + " must be a table");
    return *node->as_table();
}

}  // namespace vdi
