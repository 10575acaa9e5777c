// The admin's job endpoints: /api/v1/admin/jobs (jobs are started in pools.cpp).
#include "handler_support.h"
#include "to_api.h"
#include "vdi/broker/api.h"

namespace vdi::broker {
namespace {

db::Job found(pqxx::transaction_base& tx, db::Id id)
{
    auto job = db::JobRepository(tx).find(id);
    if (!job) throw ApiError(404, "not_found", "no such job");
    return *job;
}

}  // namespace

Api::Reply Api::list_jobs(const Call& call)
{
    const ParsedRequest& request = call.request;
    db::JobFilter filter;
    filter.pool_id = query_int(request, "pool_id", 1, 9'000'000'000'000'000'000LL);
    if (const auto state = query_string(request, "state")) {
        static const std::vector<std::string> states = {"queued", "running", "succeeded", "failed", "cancelled"};
        if (std::find(states.begin(), states.end(), *state) == states.end()) {
            throw ApiError(400, "invalid_request", "query parameter 'state' is not a job state");
        }
        filter.state = db::enum_from_string<db::JobState>(*state);
    }
    const auto page = page_of(request);
    const auto jobs =
        transact(pool_, "list jobs", [&](pqxx::work& tx) { return db::JobRepository(tx).list(filter, page); });
    nlohmann::json out = nlohmann::json::array();
    for (const auto& job : jobs) out.push_back(to_api(job));
    return {200, out};
}

Api::Reply Api::show_job(const Call& call)
{
    const auto id = id_param(call.request, 0);
    return {200, transact(pool_, "show a job", [&](pqxx::work& tx) { return nlohmann::json(to_api(found(tx, id))); })};
}

Api::Reply Api::cancel_job(const Call& call)
{
    const auto id = id_param(call.request, 0);
    return {200, transact(pool_, "cancel a job", [&](pqxx::work& tx) {
                found(tx, id);
                if (!db::JobRepository(tx).request_cancel(id)) {
                    throw ApiError(409, "conflict", "the job has finished");
                }
                audit(tx, call.caller, "job.cancel", "job", std::to_string(id));
                return nlohmann::json(to_api(found(tx, id)));
            })};
}

}  // namespace vdi::broker
