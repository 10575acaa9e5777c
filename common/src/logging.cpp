// spdlog set-up shared by every component.
#include "vdi/common/logging.h"

#include <regex>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "vdi/common/error.h"

namespace vdi {

void init_logging(std::string_view level)
{
    const auto parsed = spdlog::level::from_str(std::string(level));
    if (parsed == spdlog::level::off && level != "off") {
        throw ConfigError(fmt::format("unknown log level '{}'", level));
    }
    spdlog::set_level(parsed);
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %n %v");
}

std::shared_ptr<spdlog::logger> logger(const std::string& tag)
{
    if (auto existing = spdlog::get(tag)) {
        return existing;
    }
    auto created = spdlog::stderr_color_mt(tag);  // the default pattern and level apply
    return created;
}

std::string redact_dsn(std::string_view dsn)
{
    static const std::regex uri_password(R"(^([a-z]+://[^:/@]*:)[^@]*@)");
    static const std::regex kv_password(R"((password\s*=\s*)('[^']*'|\S+))");
    std::string out = std::regex_replace(std::string(dsn), uri_password, "$1***@");
    return std::regex_replace(out, kv_password, "$1***");
}

}  // namespace vdi
