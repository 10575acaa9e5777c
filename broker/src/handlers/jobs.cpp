// The admin's job endpoints: /api/v1/admin/jobs (jobs are started in pools.cpp).
#include "admin_reads.h"
#include "handler_support.h"
#include "vdi/broker/api.h"
#include "vdi/common/db/job_repository.h"

namespace vdi::broker {

using admin::Filter;
using admin::job_select;
using admin::one;
using admin::page_of;
using admin::query_json;

Api::Reply Api::list_jobs(const Call& call)
{
    const ParsedRequest& request = call.request;
    Filter filter("j");
    if (const auto pool = query_int(request, "pool_id", 1, 9'000'000'000'000'000'000LL)) {
        filter.add("j.pool_id = ${}", *pool);
    }
    if (const auto state = query_string(request, "state")) {
        static const std::vector<std::string> states = {"queued", "running", "succeeded", "failed", "cancelled"};
        if (std::find(states.begin(), states.end(), *state) == states.end()) {
            throw ApiError(400, "invalid_request", "query parameter 'state' is not a job state");
        }
        filter.add("j.state = ${}::job_state", *state);
    }
    const auto sql = filter.sql(job_select, page_of(request));
    return {200, transact(pool_, "list jobs", [&](pqxx::work& tx) { return query_json(tx, sql, filter.params()); })};
}

Api::Reply Api::show_job(const Call& call)
{
    const auto id = id_param(call.request, 0);
    return {200, transact(pool_, "show a job", [&](pqxx::work& tx) { return one(tx, job_select, "j", id, "job"); })};
}

Api::Reply Api::cancel_job(const Call& call)
{
    const auto id = id_param(call.request, 0);
    return {200, transact(pool_, "cancel a job", [&](pqxx::work& tx) {
                one(tx, job_select, "j", id, "job");
                if (!db::JobRepository(tx).request_cancel(id)) {
                    throw ApiError(409, "conflict", "the job has finished");
                }
                audit(tx, call.caller, "job.cancel", "job", std::to_string(id));
                return one(tx, job_select, "j", id, "job");
            })};
}

}  // namespace vdi::broker
