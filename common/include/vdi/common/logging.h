// Logging: spdlog loggers tagged by component ("broker.auth", "vmm.vcpu0").
//
// Lines carry key=value fields after the message ("desktop claimed desktop=12 pool=3"). Never log
// a secret: passwords, bearer tokens, display tickets and DSNs with passwords stay out of logs
// (redact_dsn() exists for the last).
// Thread-safety: init_logging() once at start-up from the main thread; logger() from any thread.
//
// init_logging() and logger() are inline, so that the VMM and its display modules (which link
// vdi-base, not vdi-common) log in the same style; spdlog is a shared library, so every module
// of a process shares one registry of loggers.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "vdi/common/error.h"

namespace vdi {

// Sets the default level and pattern for every logger (stderr sink): time, level, tag, message.
// Throws ConfigError on an unknown level name.
inline void init_logging(std::string_view level)
{
    const auto parsed = spdlog::level::from_str(std::string(level));
    if (parsed == spdlog::level::off && level != "off") {
        throw ConfigError(fmt::format("unknown log level '{}' (trace, debug, info, warn, error, critical, off)", level));
    }
    spdlog::set_level(parsed);
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %n %v");
}

// The logger for `tag`, created on first use with the process-wide level and sink.
inline std::shared_ptr<spdlog::logger> logger(const std::string& tag)
{
    if (auto existing = spdlog::get(tag)) {
        return existing;
    }
    try {
        return spdlog::stderr_color_mt(tag);  // the default pattern and level apply
    } catch (const spdlog::spdlog_ex&) {
        return spdlog::get(tag);  // another thread registered it first
    }
}

// "postgresql://vdi:secret@127.0.0.1:5432/vdi" -> "postgresql://vdi:***@127.0.0.1:5432/vdi";
// key=value DSNs get "password=***".
std::string redact_dsn(std::string_view dsn);

}  // namespace vdi
