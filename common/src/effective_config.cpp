// The --check listing of a service's effective configuration.
#include "vdi/common/effective_config.h"

#include <fmt/format.h>

#include "vdi/common/config.h"
#include "vdi/common/logging.h"

namespace vdi {

void EffectiveConfig::section(const std::string& name)
{
    text_ += fmt::format("{}[{}]\n", text_.empty() ? "" : "\n", name);
}

void EffectiveConfig::add(const std::string& key, const std::string& value)
{
    std::string quoted;
    for (const char c : value) {
        if (c == '"' || c == '\\') {
            quoted += '\\';
            quoted += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            quoted += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
            quoted += c;
        }
    }
    text_ += fmt::format("{} = \"{}\"\n", key, quoted);
}

void EffectiveConfig::add(const std::string& key, long long value)
{
    text_ += fmt::format("{} = {}\n", key, value);
}

void EffectiveConfig::add(const std::string& key, bool value)
{
    text_ += fmt::format("{} = {}\n", key, value ? "true" : "false");
}

void EffectiveConfig::add_common(const Config& config)
{
    section("database");
    add("dsn", redact_dsn(config.require_dsn()));
    add("connect_timeout_s", static_cast<long long>(config.database().connect_timeout_s));
    section("log");
    add("level", config.log().level);
}

}  // namespace vdi
