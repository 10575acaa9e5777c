// Redacting secrets from what is logged (the loggers themselves are inline in logging.h).
#include "vdi/common/logging.h"

#include <regex>

namespace vdi {

std::string redact_dsn(std::string_view dsn)
{
    static const std::regex uri_password(R"(^([a-z]+://[^:/@]*:)[^@]*@)");
    static const std::regex kv_password(R"((password\s*=\s*)('[^']*'|\S+))");
    std::string out = std::regex_replace(std::string(dsn), uri_password, "$1***@");
    return std::regex_replace(out, kv_password, "$1***");
}

}  // namespace vdi
