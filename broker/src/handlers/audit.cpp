// The admin's audit log endpoint: GET /api/v1/admin/audit.
#include "admin_reads.h"
#include "handler_support.h"
#include "vdi/broker/api.h"

namespace vdi::broker {

Api::Reply Api::list_audit(const Call& call)
{
    const ParsedRequest& request = call.request;
    admin::Filter filter("a");
    if (const auto actor = query_int(request, "actor_user_id", 1, 9'000'000'000'000'000'000LL)) {
        filter.add("a.actor_user_id = ${}", *actor);
    }
    if (const auto action = query_string(request, "action")) {
        // a prefix: "user." matches every user action (LIKE metacharacters taken literally)
        std::string escaped;
        for (const char c : *action) {
            if (c == '%' || c == '_' || c == '\\') escaped.push_back('\\');
            escaped.push_back(c);
        }
        filter.add("a.action LIKE ${}::text || '%'", escaped);
    }
    const auto sql = filter.sql(admin::audit_select, admin::page_of(request));
    return {200, transact(pool_, "list the audit log",
                          [&](pqxx::work& tx) { return admin::query_json(tx, sql, filter.params()); })};
}

}  // namespace vdi::broker
