// Logon timing: the thin client's report of its stages, and the admin's tree of a session's
// connects (docs/logon-timing.md).
#include <algorithm>
#include <set>

#include "handler_support.h"
#include "vdi/broker/api.h"
#include "vdi/broker/logon_timing.h"
#include "vdi/common/api/desktop.h"
#include "vdi/common/db/logon_timing_repository.h"
#include "vdi/common/db/session_repository.h"

namespace vdi::broker {
namespace {

constexpr std::int64_t max_stage_us = 3'600'000'000LL;  // an hour: anything longer is not a logon

// The report's stages, checked: known client stages, each once, inside the total.
std::vector<db::LogonStage> checked_client_stages(const api::TimingReport& report)
{
    const auto bad = [](const std::string& why) { throw ApiError(400, "invalid_request", why); };
    const auto& names = client_stage_names();
    std::set<std::string> seen;
    std::vector<db::LogonStage> out;
    for (const auto& s : report.stages) {
        if (std::find(names.begin(), names.end(), s.stage) == names.end()) {
            bad("'" + s.stage.substr(0, 40) + "' is not a thin client stage");
        }
        if (!seen.insert(s.stage).second) bad("stage '" + s.stage + "' is reported twice");
        if (s.start_us < 0 || s.duration_us < 0 || s.start_us > max_stage_us || s.duration_us > max_stage_us) {
            bad("stage '" + s.stage + "' has a negative or impossible time");
        }
        if (s.start_us + s.duration_us > report.total_us + 1000) {
            bad("stage '" + s.stage + "' ends after the total");
        }
        out.push_back({"client", s.stage, s.start_us, s.duration_us});
    }
    out.push_back({"client", "total", 0, report.total_us});
    return out;
}

}  // namespace

Api::Reply Api::post_timing(const Call& call)
{
    const auto session_id = id_param(call.request, 0);
    api::TimingReport report;
    try {
        report = call.request.body.get<api::TimingReport>();
    } catch (const nlohmann::json::exception&) {
        throw ApiError(400, "invalid_request",
                       "a stage is {\"stage\": name, \"start_us\": integer, \"duration_us\": integer}");
    }
    const auto stages = checked_client_stages(report);
    const auto result = transact(pool_, "record a connect's client stages", [&](pqxx::work& tx) {
        return db::LogonTimingRepository(tx).add_client_stages(report.trace_id, session_id, call.caller.user.id,
                                                               report.reconnect, stages);
    });
    switch (result.outcome) {
    case db::ClientTimingOutcome::recorded:
        for (const auto& s : stages) {
            metrics_.logon_stage(result.pool, "client", s.stage, std::chrono::microseconds(s.duration_us));
        }
        break;
    case db::ClientTimingOutcome::not_found:
        // another user's session or trace looks exactly like a missing one
        throw ApiError(404, "not_found", "no such trace in this session");
    case db::ClientTimingOutcome::already_reported:
        throw ApiError(409, "already_reported", "this connect's stages were reported already");
    }
    return {200, nlohmann::json{{"trace_id", report.trace_id}, {"recorded", stages.size() - 1}}};
}

Api::Reply Api::session_timing(const Call& call)
{
    const auto session_id = id_param(call.request, 0);
    const int limit = static_cast<int>(query_int(call.request, "limit", 1, 100).value_or(20));
    return {200, transact(pool_, "read a session's logon timing", [&](pqxx::work& tx) {
        const auto session = db::SessionRepository(tx).find(session_id);
        if (!session) throw ApiError(404, "not_found", "no such session");
        db::LogonTimingRepository timing(tx);
        const auto normals = timing.pool_normals(session->pool_id, clock_.now() - std::chrono::hours(24 * 7));
        nlohmann::json traces = nlohmann::json::array();
        for (const auto& trace : timing.traces_of_session(session_id, limit)) {
            traces.push_back(timing_tree(trace, normals));
        }
        return nlohmann::json{{"session_id", session_id}, {"pool_id", session->pool_id}, {"traces", std::move(traces)}};
    })};
}

Api::Reply Api::pool_logon_stats(const Call& call)
{
    const auto pool_id = id_param(call.request, 0);
    const long period_s = static_cast<long>(query_int(call.request, "period_s", 60, 86'400).value_or(3600));
    auto since = clock_.now() - std::chrono::hours(24);
    if (const auto text = query_string(call.request, "since")) {
        try {
            since = db::parse_timestamp(*text);
        } catch (const std::exception&) {
            throw ApiError(400, "invalid_request", "query parameter 'since' is not a time (2026-12-01T08:00:00Z)");
        }
    }
    return {200, transact(pool_, "read a pool's logon statistics", [&](pqxx::work& tx) {
        if (tx.exec_params("SELECT 1 FROM pools WHERE id = $1", pool_id).empty()) {
            throw ApiError(404, "not_found", "no such pool");
        }
        nlohmann::json periods = nlohmann::json::array();
        std::optional<db::Timestamp> current;
        for (const auto& s : db::LogonTimingRepository(tx).pool_stats(pool_id, since, period_s)) {
            if (!current || *current != s.period) {
                periods.push_back({{"at", db::to_sql(s.period)}, {"stages", nlohmann::json::array()}});
                current = s.period;
            }
            periods.back()["stages"].push_back({{"component", s.component}, {"stage", s.stage},
                                                {"p50_ms", s.p50_us / 1000.0}, {"p95_ms", s.p95_us / 1000.0},
                                                {"count", s.count}});
        }
        return nlohmann::json{{"pool_id", pool_id}, {"since", db::to_sql(since)}, {"period_s", period_s},
                              {"periods", std::move(periods)}};
    })};
}

}  // namespace vdi::broker
