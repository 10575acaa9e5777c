// The audit log: GET /api/v1/admin/audit (paged, newest first).
#pragma once

#include <optional>
#include <string>

#include "vdi/common/api/json.h"

namespace vdi::api {

struct AuditEntry {
    Id id = 0;
    Time at;
    std::optional<Id> actor_user_id;
    std::string actor;   // a user name, or a component ("pool-manager@host1")
    std::string action;  // "user.login", "pool.create", ...
    std::optional<std::string> target_type;
    std::optional<std::string> target_id;
    bool success = true;
    std::optional<std::string> source_address;
    nlohmann::json details = nlohmann::json::object();
};

void to_json(nlohmann::json& j, const AuditEntry& v);
void from_json(const nlohmann::json& j, AuditEntry& v);

}  // namespace vdi::api
