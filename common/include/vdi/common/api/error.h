// The body of every refusal: {"error": {"code": "invalid_request", "message": "..."}}
// (docs/api.md lists the codes per status).
#pragma once

#include <string>

#include "vdi/common/api/json.h"

namespace vdi::api {

struct Error {
    std::string code;     // stable, for programs: "not_found", "conflict", "invalid_request", ...
    std::string message;  // for people: what failed and what to do
};
void to_json(nlohmann::json& j, const Error& v);
void from_json(const nlohmann::json& j, Error& v);

}  // namespace vdi::api
