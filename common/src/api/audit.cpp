// JSON conversion of the audit log entry.
#include "vdi/common/api/audit.h"

namespace vdi::api {
namespace {

constexpr auto audit_fields = [](auto& v, auto&& f) {
    f("id", v.id);
    f("at", v.at);
    f("actor_user_id", v.actor_user_id);
    f("actor", v.actor);
    f("action", v.action);
    f("target_type", v.target_type);
    f("target_id", v.target_id);
    f("success", v.success);
    f("source_address", v.source_address);
    f("details", v.details);
};

}  // namespace

void to_json(nlohmann::json& j, const AuditEntry& v) { field::write_response(j, v, audit_fields); }
void from_json(const nlohmann::json& j, AuditEntry& v) { field::read(j, v, audit_fields); }

}  // namespace vdi::api
