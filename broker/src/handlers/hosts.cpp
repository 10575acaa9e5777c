// The admin's host endpoint: GET /api/v1/admin/hosts.
#include "admin_reads.h"
#include "handler_support.h"
#include "vdi/broker/api.h"

namespace vdi::broker {

Api::Reply Api::list_hosts(const Call&)
{
    return {200, transact(pool_, "list hosts", [&](pqxx::work& tx) {
                return admin::query_json(tx, admin::list_sql(admin::host_select));
            })};
}

}  // namespace vdi::broker
