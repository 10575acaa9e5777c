// Logon traces and their stages.
#include "vdi/common/db/logon_timing_repository.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace vdi::db {
namespace {

std::string stages_json(const std::vector<LogonStage>& stages)
{
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : stages) {
        out.push_back({{"component", s.component}, {"stage", s.stage}, {"start_us", s.start_us},
                       {"duration_us", s.duration_us}});
    }
    return out.dump();
}

const char* const trace_columns = "ticket_id, session_id, pool_id, protocol, resumed, reconnect, created_at";

LogonTrace trace_from(const pqxx::row& row)
{
    LogonTrace t;
    t.ticket_id = get<Id>(row, "ticket_id");
    t.session_id = get<Id>(row, "session_id");
    t.pool_id = get<Id>(row, "pool_id");
    t.protocol = enum_from_string<DisplayProtocol>(get<std::string>(row, "protocol"));
    t.resumed = get<bool>(row, "resumed");
    t.reconnect = get_optional<bool>(row, "reconnect");
    t.created_at = get_time(row, "created_at");
    return t;
}

}  // namespace

bool valid_stage_name(std::string_view name)
{
    if (name.empty() || name.size() > 40 || name[0] < 'a' || name[0] > 'z') return false;
    return std::all_of(name.begin(), name.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

int LogonTimingRepository::add_stages(Id ticket_id, const std::vector<LogonStage>& stages)
{
    if (stages.empty()) return 0;
    return static_cast<int>(
        exec_cached(tx_, "vdi_logon_add_stages",
                    "INSERT INTO logon_stages (ticket_id, component, stage, start_us, duration_us) "
                    "SELECT t.ticket_id, u.component, u.stage, u.start_us, u.duration_us FROM logon_traces t, "
                    "jsonb_to_recordset($2::jsonb) AS u(component text, stage text, start_us bigint, duration_us bigint) "
                    "WHERE t.ticket_id = $1 ON CONFLICT DO NOTHING",
                    ticket_id, stages_json(stages))
            .affected_rows());
}

int LogonTimingRepository::add_stage_rows(const std::vector<std::pair<Id, LogonStage>>& rows)
{
    if (rows.empty()) return 0;
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [ticket_id, s] : rows) {
        out.push_back({{"ticket_id", ticket_id}, {"component", s.component}, {"stage", s.stage},
                       {"start_us", s.start_us}, {"duration_us", s.duration_us}});
    }
    return static_cast<int>(
        exec_cached(tx_, "vdi_logon_add_stage_rows",
                    "INSERT INTO logon_stages (ticket_id, component, stage, start_us, duration_us) "
                    "SELECT u.ticket_id, u.component, u.stage, u.start_us, u.duration_us "
                    "FROM jsonb_to_recordset($1::jsonb) AS u(ticket_id bigint, component text, stage text, "
                    "start_us bigint, duration_us bigint) JOIN logon_traces t ON t.ticket_id = u.ticket_id "
                    "ON CONFLICT DO NOTHING",
                    out.dump())
            .affected_rows());
}

ClientTimingOutcome LogonTimingRepository::add_client_stages(Id ticket_id, Id session_id, Id user_id, bool reconnect,
                                                             const std::vector<LogonStage>& stages)
{
    const auto mine = tx_.exec_params("SELECT t.ticket_id FROM logon_traces t JOIN sessions s ON s.id = t.session_id "
                                      "WHERE t.ticket_id = $1 AND t.session_id = $2 AND s.user_id = $3 FOR UPDATE OF t",
                                      ticket_id, session_id, user_id);
    if (mine.empty()) return ClientTimingOutcome::not_found;
    // (a statement of its own: it sees what a post that held the lock before this one committed)
    if (!tx_.exec_params("SELECT 1 FROM logon_stages WHERE ticket_id = $1 AND component = 'client' LIMIT 1", ticket_id)
             .empty()) {
        return ClientTimingOutcome::already_reported;
    }
    std::vector<LogonStage> client = stages;
    for (auto& s : client) s.component = "client";
    add_stages(ticket_id, client);
    tx_.exec_params("UPDATE logon_traces SET reconnect = $2 WHERE ticket_id = $1", ticket_id, reconnect);
    return ClientTimingOutcome::recorded;
}

std::vector<LogonStage> LogonTimingRepository::stages_of(Id ticket_id)
{
    std::vector<LogonStage> out;
    for (const auto& row : tx_.exec_params("SELECT component, stage, start_us, duration_us FROM logon_stages "
                                           "WHERE ticket_id = $1 ORDER BY component, start_us, stage",
                                           ticket_id)) {
        out.push_back({get<std::string>(row, "component"), get<std::string>(row, "stage"),
                       get<std::int64_t>(row, "start_us"), get<std::int64_t>(row, "duration_us")});
    }
    return out;
}

std::vector<LogonTrace> LogonTimingRepository::traces_of_session(Id session_id, int limit)
{
    std::vector<LogonTrace> out;
    for (const auto& row : tx_.exec_params(std::string("SELECT ") + trace_columns +
                                               " FROM logon_traces WHERE session_id = $1 "
                                               "ORDER BY created_at DESC, ticket_id DESC LIMIT $2",
                                           session_id, limit)) {
        out.push_back(trace_from(row));
        out.back().stages = stages_of(out.back().ticket_id);
    }
    return out;
}

std::optional<LogonTrace> LogonTimingRepository::find(Id ticket_id)
{
    const auto rows =
        tx_.exec_params(std::string("SELECT ") + trace_columns + " FROM logon_traces WHERE ticket_id = $1", ticket_id);
    if (rows.empty()) return std::nullopt;
    auto trace = trace_from(rows[0]);
    trace.stages = stages_of(ticket_id);
    return trace;
}

std::map<StageKey, StageNormal> LogonTimingRepository::pool_normals(Id pool_id, Timestamp since)
{
    std::map<StageKey, StageNormal> out;
    for (const auto& row : tx_.exec_params(
             "SELECT st.component, st.stage, percentile_cont(0.5) WITHIN GROUP (ORDER BY st.duration_us) AS p50, "
             "percentile_cont(0.95) WITHIN GROUP (ORDER BY st.duration_us) AS p95, count(*) AS n "
             "FROM logon_traces t JOIN logon_stages st USING (ticket_id) "
             "WHERE t.pool_id = $1 AND t.created_at >= $2::timestamptz GROUP BY st.component, st.stage",
             pool_id, to_sql(since))) {
        out[{get<std::string>(row, "component"), get<std::string>(row, "stage")}] =
            StageNormal{get<double>(row, "p50"), get<double>(row, "p95"), get<long>(row, "n")};
    }
    return out;
}

}  // namespace vdi::db
