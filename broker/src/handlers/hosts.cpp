// The admin's host endpoints: GET /api/v1/admin/hosts, and draining a host (no new desktops are
// placed on it; those there keep running), audited.
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

namespace {

nlohmann::json set_drained(ConnectionPool& pool, const Api::Call& call, bool drained)
{
    const auto id = id_param(call.request, 0);
    return transact(pool, drained ? "drain a host" : "end a host's drain", [&](pqxx::work& tx) {
        db::HostRepository hosts(tx);
        if (!hosts.set_drained(id, drained)) {
            throw ApiError(404, "not_found", "no such host");
        }
        audit(tx, call.caller, drained ? "host.drain" : "host.undrain", "host", std::to_string(id));
        for (const auto& h : hosts.list_summaries()) {
            if (h.id == id) return nlohmann::json(to_api(h));
        }
        throw ApiError(404, "not_found", "no such host");
    });
}

}  // namespace

Api::Reply Api::drain_host(const Call& call)
{
    return {200, set_drained(pool_, call, true)};
}

Api::Reply Api::undrain_host(const Call& call)
{
    return {200, set_drained(pool_, call, false)};
}

}  // namespace vdi::broker
