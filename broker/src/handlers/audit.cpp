// The admin's audit log endpoint: GET /api/v1/admin/audit.
#include "handler_support.h"
#include "vdi/broker/api.h"
#include "vdi/common/api/audit.h"
#include "vdi/common/db/audit_repository.h"

namespace vdi::broker {

Api::Reply Api::list_audit(const Call& call)
{
    const ParsedRequest& request = call.request;
    db::AuditFilter filter;
    filter.actor_user_id = query_int(request, "actor_user_id", 1, 9'000'000'000'000'000'000LL);
    filter.action_prefix = query_string(request, "action");  // "user." matches every user action
    const auto page = page_of(request);
    filter.limit = page.limit;
    filter.before_id = page.before;
    const auto entries =
        transact(pool_, "list the audit log", [&](pqxx::work& tx) { return db::AuditRepository(tx).list(filter); });
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : entries) {
        out.push_back(api::AuditEntry{e.id, e.at, e.actor_user_id, e.actor, e.action, e.target_type, e.target_id,
                                      e.success, e.source_address, e.details});
    }
    return {200, out};
}

}  // namespace vdi::broker
