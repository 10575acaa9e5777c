// Desktop sessions (table sessions): a user's use of a desktop from connect to logoff.
// At most one live (not ended) session per desktop and per user and pool; the database enforces
// both with partial unique indexes, so a racing second open gets ConflictError.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "vdi/common/db/database.h"
#include "vdi/common/db/enums.h"

namespace vdi::db {

struct Session {
    Id id = 0;
    Id user_id = 0;
    Id desktop_id = 0;
    Id pool_id = 0;
    std::int64_t desktop_generation = 0;
    DisplayProtocol protocol = DisplayProtocol::vnc;
    SessionState state = SessionState::active;
    std::optional<std::string> client_address;
    Timestamp started_at;
    Timestamp last_activity_at;
    std::optional<Timestamp> disconnected_at;
    std::optional<Timestamp> ended_at;
    std::optional<std::string> end_reason;
};

// A session as the admin API lists it: with its user's name.
struct SessionSummary : Session {
    std::string username;
};

// Which sessions the admin API lists (every condition given must hold).
struct SessionFilter {
    std::optional<Id> user_id;
    std::optional<Id> pool_id;
    std::optional<bool> live;  // true: not ended; false: ended
};

struct NewSession {
    Id user_id = 0;
    Id desktop_id = 0;
    Id pool_id = 0;
    std::int64_t desktop_generation = 0;
    DisplayProtocol protocol = DisplayProtocol::vnc;
    std::optional<std::string> client_address;
};

// A user, known by their API token, asking for a desktop of a pool (the broker's connect), with
// the display ticket to issue.
struct ConnectRequest {
    std::string api_token_hash_hex;  // SHA-256 of the bearer token
    std::string pool;
    DisplayProtocol protocol = DisplayProtocol::vnc;
    std::string client_address;
    std::string ticket_hash_hex;  // SHA-256 of the ticket, stored
    std::string ticket;           // the plaintext, sent to the host agent and stored nowhere
    std::chrono::seconds ticket_ttl{30};
};

// What came of it. The fields after `outcome` are set for assigned and reconnected (pool_id
// for every outcome but unauthenticated and no_pool).
struct ConnectResult {
    ConnectOutcome outcome = ConnectOutcome::no_pool;
    std::optional<Id> pool_id;
    Id session_id = 0;
    Id desktop_id = 0;
    std::string desktop_name;
    std::int64_t generation = 0;
    std::string host_address;
    int port = 0;
    std::int64_t ticket_id = 0;
    Timestamp ticket_expires_at;
    // the statement's own parts, on the database server's clock: the token check, the claim (or
    // the reconnect) with its session, and the ticket with its notice, audit and trace
    std::chrono::microseconds token_check{0}, claim{0}, ticket{0};
};

// A live session that a limit of its pool ends (pool manager: session policies).
struct ExpiredSession {
    Session session;
    std::string reason;  // "maximum session length reached", "disconnected too long", "idle too long"
    RefreshPolicy refresh_policy = RefreshPolicy::on_logoff;  // the pool's
};

class SessionRepository {
public:
    explicit SessionRepository(pqxx::transaction_base& tx) : tx_(tx) {}

    Session open(const NewSession& session);
    std::optional<Session> find(Id id);
    // The sessions matching `filter` with their users' names, newest (highest id) first, one page.
    std::vector<SessionSummary> list(const SessionFilter& filter, const Page& page);
    std::optional<Session> live_for_user_in_pool(Id user_id, Id pool_id);
    std::optional<Session> live_for_desktop(Id desktop_id);
    std::vector<Session> live_for_user(Id user_id);
    std::vector<Session> list_live();
    // State changes of a live session; false if it has ended (or does not exist).
    bool mark_disconnected(Id id);
    bool mark_active(Id id, DisplayProtocol protocol, const std::optional<std::string>& client_address);
    bool touch(Id id);
    bool end(Id id, const std::string& reason);
    // Whether any session (live or ended) ever ran for the user / in the pool: history that
    // blocks deleting them.
    bool any_for_user(Id user_id);
    bool any_for_pool(Id pool_id);

    // Authenticates the token, then reconnects its user to their live session in the pool, or
    // claims a desktop and opens one;
    // then issues the display ticket, sends it to the desktop's host agent (NOTIFY
    // 'vdi_tickets_<host>', at commit) and audits. One statement (broker_connect() in
    // sql/0004): run it in autocommit, where it is its own transaction. Refusals change nothing.
    ConnectResult connect(const ConnectRequest& request);

    // The pool manager's session policies.
    // Live sessions past a limit of their pool at `now` (maximum length, disconnected or idle
    // timeout), locked for this transaction; sessions another transaction holds are skipped.
    std::vector<ExpiredSession> list_expired(Timestamp now);
    // Shows `warning` to every live session (not warned yet) on a desktop the job flagged;
    // returns how many.
    int warn_job_sessions(Id job_id, const std::string& warning);

private:
    pqxx::transaction_base& tx_;
};

}  // namespace vdi::db
