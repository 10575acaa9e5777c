// Logon traces: one row per connect, a JSON object of stages per component.
#include "vdi/common/db/logon_timing_repository.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace vdi::db {
namespace {

// {"stage": [start_us, duration_us], ...} of one component's stages
nlohmann::json stages_object(const std::vector<LogonStage>& stages, std::string_view component)
{
    nlohmann::json out = nlohmann::json::object();
    for (const auto& s : stages) {
        if (s.component == component && valid_stage_name(s.stage)) out[s.stage] = {s.start_us, s.duration_us};
    }
    return out;
}

}  // namespace

bool valid_stage_name(std::string_view name)
{
    if (name.empty() || name.size() > 40 || name[0] < 'a' || name[0] > 'z') return false;
    return std::all_of(name.begin(), name.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

int LogonTimingRepository::add_broker_traces(const std::vector<BrokerTrace>& traces)
{
    if (traces.empty()) return 0;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& t : traces) {
        const auto host = stages_object(t.stages, "host");
        rows.push_back({{"ticket_id", t.ticket_id},
                        {"session_id", t.session_id},
                        {"pool_id", t.pool_id},
                        {"protocol", to_string(t.protocol)},
                        {"resumed", t.resumed},
                        {"broker", stages_object(t.stages, "broker")},
                        {"host", host.empty() ? nlohmann::json(nullptr) : host}});
    }
    return static_cast<int>(
        exec_cached(tx_, "vdi_logon_add_broker",
                    "INSERT INTO logon_traces (ticket_id, session_id, pool_id, protocol, resumed, broker, host) "
                    "SELECT u.ticket_id, u.session_id, u.pool_id, u.protocol::display_protocol, u.resumed, u.broker, "
                    "u.host FROM jsonb_to_recordset($1::jsonb) AS u(ticket_id bigint, session_id bigint, pool_id bigint, "
                    "protocol text, resumed boolean, broker jsonb, host jsonb) "
                    "ON CONFLICT (ticket_id) DO UPDATE SET resumed = EXCLUDED.resumed, broker = EXCLUDED.broker, "
                    "host = coalesce(logon_traces.host, EXCLUDED.host) WHERE logon_traces.broker IS NULL",
                    rows.dump())
            .affected_rows());
}

int LogonTimingRepository::add_display_stages(const std::vector<DisplayStages>& displays)
{
    if (displays.empty()) return 0;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& d : displays) {
        rows.push_back({{"ticket_id", d.ticket_id}, {"display", stages_object(d.stages, "display")}});
    }
    return static_cast<int>(exec_cached(tx_, "vdi_logon_add_display",
                                        "UPDATE logon_traces t SET display = u.display "
                                        "FROM jsonb_to_recordset($1::jsonb) AS u(ticket_id bigint, display jsonb) "
                                        "WHERE t.ticket_id = u.ticket_id AND t.display IS NULL",
                                        rows.dump())
                                .affected_rows());
}

ClientTimingResult LogonTimingRepository::add_client_stages(Id ticket_id, Id session_id, Id user_id, bool reconnect,
                                                            const std::vector<LogonStage>& stages)
{
    // the connect is the caller's: its ticket, of this session, of this user
    const auto mine = tx_.exec_params("SELECT s.pool_id, p.name, dt.protocol::text FROM display_tickets dt "
                                      "JOIN sessions s ON s.id = dt.session_id JOIN pools p ON p.id = s.pool_id "
                                      "WHERE dt.id = $1 AND dt.session_id = $2 AND s.user_id = $3",
                                      ticket_id, session_id, user_id);
    if (mine.empty()) return {ClientTimingOutcome::not_found, ""};
    const auto pool = mine[0][1].as<std::string>();
    // one statement: the report is stored only if there was none
    const auto stored = tx_.exec_params(
        "INSERT INTO logon_traces (ticket_id, session_id, pool_id, protocol, reconnect, client) "
        "VALUES ($1, $2, $3, $4::display_protocol, $5, $6::jsonb) "
        "ON CONFLICT (ticket_id) DO UPDATE SET client = EXCLUDED.client, reconnect = EXCLUDED.reconnect "
        "WHERE logon_traces.client IS NULL RETURNING ticket_id",
        ticket_id, session_id, mine[0][0].as<Id>(), mine[0][2].as<std::string>(), reconnect,
        stages_object(stages, "client").dump());
    return {stored.empty() ? ClientTimingOutcome::already_reported : ClientTimingOutcome::recorded, pool};
}

std::vector<LogonTrace> LogonTimingRepository::traces_of_session(Id session_id, int limit)
{
    std::vector<LogonTrace> out;
    for (const auto& row : tx_.exec_params("SELECT ticket_id, session_id, pool_id, protocol, resumed, reconnect, "
                                           "created_at, broker::text, host::text, display::text, client::text "
                                           "FROM logon_traces WHERE session_id = $1 "
                                           "ORDER BY created_at DESC, ticket_id DESC LIMIT $2",
                                           session_id, limit)) {
        LogonTrace t;
        t.ticket_id = get<Id>(row, "ticket_id");
        t.session_id = get<Id>(row, "session_id");
        t.pool_id = get<Id>(row, "pool_id");
        t.protocol = enum_from_string<DisplayProtocol>(get<std::string>(row, "protocol"));
        t.resumed = get_optional<bool>(row, "resumed");
        t.reconnect = get_optional<bool>(row, "reconnect");
        t.created_at = get_time(row, "created_at");
        for (const char* component : {"broker", "host", "display", "client"}) {
            const auto text = get_optional<std::string>(row, component);
            if (!text) continue;
            const auto stages = nlohmann::json::parse(*text, nullptr, false);
            if (!stages.is_object()) continue;
            for (const auto& [stage, times] : stages.items()) {
                if (!times.is_array() || times.size() != 2 || !times[0].is_number_integer() ||
                    !times[1].is_number_integer()) {
                    continue;
                }
                t.stages.push_back({component, stage, times[0].get<std::int64_t>(), times[1].get<std::int64_t>()});
            }
        }
        std::stable_sort(t.stages.begin(), t.stages.end(), [](const LogonStage& a, const LogonStage& b) {
            return a.component != b.component ? a.component < b.component : a.start_us < b.start_us;
        });
        out.push_back(std::move(t));
    }
    return out;
}

std::map<StageKey, StageNormal> LogonTimingRepository::pool_normals(Id pool_id, Timestamp since)
{
    std::map<StageKey, StageNormal> out;
    for (const auto& row : tx_.exec_params(
             "SELECT component, stage, percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_us) AS p50, "
             "percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_us) AS p95, count(*) AS n "
             "FROM logon_stages WHERE pool_id = $1 AND created_at >= $2::timestamptz GROUP BY component, stage",
             pool_id, to_sql(since))) {
        out[{get<std::string>(row, "component"), get<std::string>(row, "stage")}] =
            StageNormal{get<double>(row, "p50"), get<double>(row, "p95"), get<long>(row, "n")};
    }
    return out;
}

std::vector<StageStats> LogonTimingRepository::pool_stats(Id pool_id, Timestamp since, long period_s)
{
    std::vector<StageStats> out;
    for (const auto& row : tx_.exec_params(
             "SELECT to_timestamp(floor(extract(epoch FROM created_at) / $3) * $3) AS period, component, stage, "
             "percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_us) AS p50, "
             "percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_us) AS p95, count(*) AS n "
             "FROM logon_stages WHERE pool_id = $1 AND created_at >= $2::timestamptz GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
             pool_id, to_sql(since), period_s)) {
        out.push_back({get_time(row, "period"), get<std::string>(row, "component"), get<std::string>(row, "stage"),
                       get<double>(row, "p50"), get<double>(row, "p95"), get<long>(row, "n")});
    }
    return out;
}

}  // namespace vdi::db
