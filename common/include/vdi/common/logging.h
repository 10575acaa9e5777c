// Logging: spdlog loggers tagged by component ("broker.auth", "vmm.vcpu0").
//
// Lines carry key=value fields after the message ("desktop claimed desktop=12 pool=3"). Never log
// a secret: passwords, bearer tokens, display tickets and DSNs with passwords stay out of logs
// (redact_dsn() exists for the last).
// Thread-safety: init_logging() once at start-up from the main thread; logger() from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace vdi {

// Sets the default level and pattern for every logger (stderr sink). Throws ConfigError on an
// unknown level name.
void init_logging(std::string_view level);

// The logger for `tag`, created on first use with the process-wide level and sink.
std::shared_ptr<spdlog::logger> logger(const std::string& tag);

// "postgresql://vdi:secret@127.0.0.1:5432/vdi" -> "postgresql://vdi:***@127.0.0.1:5432/vdi";
// key=value DSNs get "password=***".
std::string redact_dsn(std::string_view dsn);

}  // namespace vdi
