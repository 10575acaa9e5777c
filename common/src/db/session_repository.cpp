// SQL for desktop sessions.
#include "vdi/common/db/session_repository.h"

namespace vdi::db {
namespace {

constexpr const char* session_columns =
    "id, user_id, desktop_id, pool_id, desktop_generation, protocol, state, client_address, started_at, "
    "last_activity_at, disconnected_at, ended_at, end_reason";

Session session_from_row(const pqxx::row& row)
{
    Session s;
    s.id = get<Id>(row, "id");
    s.user_id = get<Id>(row, "user_id");
    s.desktop_id = get<Id>(row, "desktop_id");
    s.pool_id = get<Id>(row, "pool_id");
    s.desktop_generation = get<std::int64_t>(row, "desktop_generation");
    s.protocol = enum_from_string<DisplayProtocol>(get<std::string>(row, "protocol"));
    s.state = enum_from_string<SessionState>(get<std::string>(row, "state"));
    s.client_address = get_optional<std::string>(row, "client_address");
    s.started_at = get_time(row, "started_at");
    s.last_activity_at = get_time(row, "last_activity_at");
    s.disconnected_at = get_optional_time(row, "disconnected_at");
    s.ended_at = get_optional_time(row, "ended_at");
    s.end_reason = get_optional<std::string>(row, "end_reason");
    return s;
}

std::string select_sessions(const std::string& where)
{
    return std::string("SELECT ") + session_columns + " FROM sessions WHERE " + where;
}

}  // namespace

Session SessionRepository::open(const NewSession& s)
{
    return session_from_row(tx_.exec_params1(
        std::string("INSERT INTO sessions (user_id, desktop_id, pool_id, desktop_generation, protocol, client_address) "
                    "VALUES ($1, $2, $3, $4, $5::display_protocol, $6) RETURNING ") + session_columns,
        s.user_id, s.desktop_id, s.pool_id, s.desktop_generation, to_string(s.protocol), s.client_address));
}

std::optional<Session> SessionRepository::find(Id id)
{
    return first_row(tx_.exec_params(select_sessions("id = $1"), id), session_from_row);
}

std::vector<SessionSummary> SessionRepository::list(const SessionFilter& filter, const Page& page)
{
    return map_rows(
        tx_.exec_params("SELECT s.id, s.user_id, u.username, s.desktop_id, s.pool_id, s.desktop_generation, s.protocol, "
                        "s.state, s.client_address, s.started_at, s.last_activity_at, s.disconnected_at, s.ended_at, "
                        "s.end_reason FROM sessions s JOIN users u ON u.id = s.user_id "
                        "WHERE ($1::bigint IS NULL OR s.user_id = $1) AND ($2::bigint IS NULL OR s.pool_id = $2) "
                        "AND ($3::boolean IS NULL OR (s.state <> 'ended') = $3) "
                        "AND ($4::bigint IS NULL OR s.id < $4) ORDER BY s.id DESC LIMIT $5",
                        filter.user_id, filter.pool_id, filter.live, page.before, page.limit),
        [](const pqxx::row& row) {
            return SessionSummary{session_from_row(row), get<std::string>(row, "username")};
        });
}

std::optional<Session> SessionRepository::live_for_user_in_pool(Id user_id, Id pool_id)
{
    return first_row(tx_.exec_params(select_sessions("user_id = $1 AND pool_id = $2 AND state <> 'ended'"), user_id,
                                     pool_id),
                     session_from_row);
}

std::optional<Session> SessionRepository::live_for_desktop(Id desktop_id)
{
    return first_row(tx_.exec_params(select_sessions("desktop_id = $1 AND state <> 'ended'"), desktop_id),
                     session_from_row);
}

std::vector<Session> SessionRepository::live_for_user(Id user_id)
{
    return map_rows(tx_.exec_params(select_sessions("user_id = $1 AND state <> 'ended' ORDER BY id"), user_id),
                    session_from_row);
}

std::vector<Session> SessionRepository::list_live()
{
    return map_rows(tx_.exec(select_sessions("state <> 'ended' ORDER BY id")), session_from_row);
}

bool SessionRepository::mark_disconnected(Id id)
{
    return tx_.exec_params("UPDATE sessions SET state = 'disconnected', disconnected_at = now() "
                           "WHERE id = $1 AND state = 'active'",
                           id)
               .affected_rows() == 1;
}

bool SessionRepository::mark_active(Id id, DisplayProtocol protocol, const std::optional<std::string>& client_address)
{
    return exec_cached(tx_, "vdi_session_mark_active",
                       "UPDATE sessions SET state = 'active', disconnected_at = NULL, last_activity_at = now(), "
                           "protocol = $2::display_protocol, client_address = coalesce($3, client_address) "
                           "WHERE id = $1 AND state <> 'ended'",
                           id, to_string(protocol), client_address)
               .affected_rows() == 1;
}

bool SessionRepository::touch(Id id)
{
    return tx_.exec_params("UPDATE sessions SET last_activity_at = now() WHERE id = $1 AND state <> 'ended'", id)
               .affected_rows() == 1;
}

bool SessionRepository::end(Id id, const std::string& reason)
{
    return tx_.exec_params("UPDATE sessions SET state = 'ended', ended_at = now(), end_reason = $2 "
                           "WHERE id = $1 AND state <> 'ended'",
                           id, reason)
               .affected_rows() == 1;
}

ConnectResult SessionRepository::connect(const ConnectRequest& r)
{
    const auto row = exec_cached(tx_, "vdi_broker_connect",
                                 "SELECT * FROM broker_connect(decode($1, 'hex'), $2, $3::display_protocol, $4, "
                                 "decode($5, 'hex'), $6, $7)",
                                 r.api_token_hash_hex, r.pool, to_string(r.protocol), r.client_address,
                                 r.ticket_hash_hex, r.ticket, static_cast<int>(r.ticket_ttl.count()))
                         .at(0);
    ConnectResult out;
    out.outcome = enum_from_string<ConnectOutcome>(get<std::string>(row, "outcome"));
    out.pool_id = get_optional<Id>(row, "pool_id");
    if (out.outcome == ConnectOutcome::assigned || out.outcome == ConnectOutcome::reconnected) {
        out.session_id = get<Id>(row, "session_id");
        out.desktop_id = get<Id>(row, "desktop_id");
        out.desktop_name = get<std::string>(row, "desktop_name");
        out.generation = get<std::int64_t>(row, "generation");
        out.host_address = get<std::string>(row, "host_address");
        out.port = get<int>(row, "port");
        out.ticket_id = get<std::int64_t>(row, "ticket_id");
        out.ticket_expires_at = get_time(row, "ticket_expires_at");
        out.token_check = std::chrono::microseconds(get<std::int64_t>(row, "token_us"));
        out.claim = std::chrono::microseconds(get<std::int64_t>(row, "claim_us"));
        out.ticket = std::chrono::microseconds(get<std::int64_t>(row, "ticket_us"));
    }
    return out;
}

std::vector<ExpiredSession> SessionRepository::list_expired(Timestamp now)
{
    return map_rows(
        tx_.exec_params(
            std::string("WITH due AS (SELECT s.id, "
                        "CASE WHEN p.max_session_s IS NOT NULL AND s.started_at < $1::timestamptz - p.max_session_s * interval '1 second' "
                        "       THEN 'maximum session length reached' "
                        "     WHEN s.state = 'disconnected' AND p.disconnected_timeout_s IS NOT NULL "
                        "       AND s.disconnected_at < $1::timestamptz - p.disconnected_timeout_s * interval '1 second' "
                        "       THEN 'disconnected too long' "
                        "     ELSE 'idle too long' END AS reason, p.refresh_policy "
                        "FROM sessions s JOIN pools p ON p.id = s.pool_id WHERE s.state <> 'ended' AND ("
                        " (p.max_session_s IS NOT NULL AND s.started_at < $1::timestamptz - p.max_session_s * interval '1 second') OR"
                        " (s.state = 'disconnected' AND p.disconnected_timeout_s IS NOT NULL"
                        "   AND s.disconnected_at < $1::timestamptz - p.disconnected_timeout_s * interval '1 second') OR"
                        " (s.state = 'active' AND p.idle_timeout_s IS NOT NULL"
                        "   AND s.last_activity_at < $1::timestamptz - p.idle_timeout_s * interval '1 second'))"
                        " FOR UPDATE OF s SKIP LOCKED) "
                        "SELECT ") + session_columns + ", due.reason, due.refresh_policy "
                "FROM due JOIN sessions USING (id) ORDER BY id",
            to_sql(now)),
        [](const pqxx::row& row) {
            return ExpiredSession{session_from_row(row), get<std::string>(row, "reason"),
                                  enum_from_string<RefreshPolicy>(get<std::string>(row, "refresh_policy"))};
        });
}

int SessionRepository::warn_job_sessions(Id job_id, const std::string& warning)
{
    return static_cast<int>(tx_.exec_params("UPDATE sessions s SET warning = $2 FROM desktops d WHERE d.id = s.desktop_id "
                                            "AND d.refresh_job_id = $1 AND s.state <> 'ended' AND s.warning IS NULL",
                                            job_id, warning)
                                .affected_rows());
}

bool SessionRepository::any_for_user(Id user_id)
{
    return !tx_.exec_params("SELECT 1 FROM sessions WHERE user_id = $1 LIMIT 1", user_id).empty();
}

bool SessionRepository::any_for_pool(Id pool_id)
{
    return !tx_.exec_params("SELECT 1 FROM sessions WHERE pool_id = $1 LIMIT 1", pool_id).empty();
}

}  // namespace vdi::db
