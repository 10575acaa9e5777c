// The admin's host endpoint: GET /api/v1/admin/hosts.
#include "handler_support.h"
#include "to_api.h"
#include "vdi/broker/api.h"

namespace vdi::broker {

Api::Reply Api::list_hosts(const Call&)
{
    const auto hosts =
        transact(pool_, "list hosts", [&](pqxx::work& tx) { return db::HostRepository(tx).list_summaries(); });
    nlohmann::json out = nlohmann::json::array();
    for (const auto& h : hosts) {
        out.push_back(to_api(h));
    }
    return {200, out};
}

}  // namespace vdi::broker
