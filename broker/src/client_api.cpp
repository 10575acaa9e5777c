// The thin-client endpoints: login, logout, me, desktops, connect, disconnect, logoff.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "audit.h"
#include "vdi/broker/api.h"
#include "vdi/common/db/api_token_repository.h"
#include "vdi/common/db/database.h"
#include "vdi/common/db/desktop_repository.h"
#include "vdi/common/db/host_repository.h"
#include "vdi/common/db/login_throttle_repository.h"
#include "vdi/common/db/pool_repository.h"
#include "vdi/common/db/session_repository.h"
#include "vdi/common/db/ticket_repository.h"
#include "vdi/common/error.h"

namespace vdi::broker {
namespace {

using db::LockoutScope;

// Seconds until the later of two locks ends (0: not locked).
int locked_for_s(const std::optional<db::Lockout>& a, const std::optional<db::Lockout>& b)
{
    const auto now = std::chrono::system_clock::now();
    long seconds = 0;
    for (const auto* lock : {&a, &b}) {
        if (*lock && (*lock)->locked_until && *(*lock)->locked_until > now) {
            seconds = std::max<long>(
                seconds, std::chrono::ceil<std::chrono::seconds>(*(*lock)->locked_until - now).count());
        }
    }
    return static_cast<int>(seconds);
}

struct NoDesktopReady {};

}  // namespace

nlohmann::json Api::login(const ParsedRequest& request, const RequestContext& context)
{
    const std::string username = request.body["user"];
    const std::string password = request.body["password"];
    const std::string& address = context.remote_address;
    Caller anonymous;
    anonymous.user.username = username;
    anonymous.address = address;

    // 1. a locked name or address is refused before any password is checked
    std::optional<db::User> user;
    int locked_s = 0;
    {
        auto lease = pool_.acquire();
        db::in_transaction(*lease, "check login locks", [&](pqxx::work& tx) {
            db::LoginThrottleRepository throttle(tx);
            locked_s = locked_for_s(throttle.find(LockoutScope::user, username),
                                    throttle.find(LockoutScope::address, address));
            if (locked_s > 0) {
                throttle.record_attempt(username, address, false);
                db::AuditEntry entry;
                entry.actor = username;
                entry.action = "user.login";
                entry.target_type = "user";
                entry.target_id = username;
                entry.success = false;
                entry.source_address = address;
                entry.details = {{"reason", "locked"}};
                db::AuditRepository(tx).append(entry);
                return;
            }
            user = db::UserRepository(tx).find_by_username(username);
        });
    }
    if (locked_s > 0) {
        metrics_.login_throttled();
        throw ApiError(429, "too_many_attempts", "too many failed logins; try again later", locked_s);
    }

    // 2. the password, off any database connection (Argon2id is the expensive part); unknown
    //    users are checked against a dummy hash so that the answer takes as long
    const bool password_ok = verify_password(password, user ? user->password_hash : dummy_hash_);
    const bool ok = user && password_ok && !user->disabled;

    // 3. record the outcome: a token, or a failure counted against name and address
    auto lease = pool_.acquire();
    if (ok) {
        const std::string token = random_token(32);
        const auto issued = db::in_transaction(*lease, "log a user in", [&](pqxx::work& tx) {
            db::LoginThrottleRepository throttle(tx);
            throttle.clear(LockoutScope::user, username);
            throttle.clear(LockoutScope::address, address);
            throttle.record_attempt(username, address, true);
            db::UserRepository users(tx);
            users.record_login(user->id);
            if (password_needs_rehash(user->password_hash, settings_.password_hash)) {
                users.set_password_hash(user->id, hash_password(password, settings_.password_hash));
            }
            const auto api_token =
                db::ApiTokenRepository(tx).create(user->id, sha256_hex(token), settings_.token_ttl, address);
            Caller caller;
            caller.user = *user;
            caller.address = address;
            audit(tx, caller, "user.login", "user", std::to_string(user->id));
            return api_token;
        });
        metrics_.login(true);
        return {{"token", token},
                {"expires_at", iso8601(issued.expires_at)},
                {"user", {{"id", user->id}, {"username", user->username}, {"role", db::to_string(user->role)}}}};
    }
    db::in_transaction(*lease, "record a failed login", [&](pqxx::work& tx) {
        db::LoginThrottleRepository throttle(tx);
        throttle.record_attempt(username, address, false);
        const auto now = std::chrono::system_clock::now();
        const auto by_user = throttle.register_failure(LockoutScope::user, username);
        if (const auto lock = settings_.throttle.lock_for(by_user.consecutive_failures,
                                                          settings_.throttle.user_failures_before_lock);
            lock.count() > 0) {
            throttle.lock_until(LockoutScope::user, username, now + lock);
        }
        const auto by_address = throttle.register_failure(LockoutScope::address, address);
        if (const auto lock = settings_.throttle.lock_for(by_address.consecutive_failures,
                                                          settings_.throttle.address_failures_before_lock);
            lock.count() > 0) {
            throttle.lock_until(LockoutScope::address, address, now + lock);
        }
        db::AuditEntry entry;
        entry.actor_user_id = user ? std::optional<db::Id>(user->id) : std::nullopt;
        entry.actor = username;
        entry.action = "user.login";
        entry.target_type = "user";
        entry.target_id = user ? std::to_string(user->id) : username;
        entry.success = false;
        entry.source_address = address;
        entry.details = {{"reason", !user ? "unknown user" : user->disabled ? "disabled" : "wrong password"}};
        db::AuditRepository(tx).append(entry);
    });
    metrics_.login(false);
    // the same answer whether the name exists, the password is wrong or the account is disabled
    throw ApiError(401, "invalid_credentials", "wrong user name or password");
}

nlohmann::json Api::logout(const Caller& caller)
{
    auto lease = pool_.acquire();
    db::in_transaction(*lease, "log out", [&](pqxx::work& tx) {
        db::ApiTokenRepository(tx).revoke(caller.token_hash);
        audit(tx, caller, "user.logout", "user", std::to_string(caller.user.id));
    });
    return {{"logged_out", true}};
}

nlohmann::json Api::me(const Caller& caller)
{
    return {{"id", caller.user.id},
            {"username", caller.user.username},
            {"display_name", caller.user.display_name},
            {"role", db::to_string(caller.user.role)},
            {"last_login_at", caller.user.last_login_at ? nlohmann::json(iso8601(*caller.user.last_login_at)) : nullptr}};
}

nlohmann::json Api::desktops(const Caller& caller)
{
    auto lease = pool_.acquire();
    return db::in_transaction(*lease, "list the user's desktops", [&](pqxx::work& tx) {
        nlohmann::json out = {{"pools", nlohmann::json::array()}, {"sessions", nlohmann::json::array()}};
        // ready counts are capped: a thin client needs "how many, roughly", and counting ten
        // thousand ready desktops on every listing would cost more than the rest of it
        const auto pools = db::exec_cached(
            tx, "vdi_broker_entitled_pools",
            std::string("SELECT p.name, p.display_name, p.assignment, array_to_string(p.protocols, ',') AS protocols, "
                        "(SELECT count(*) FROM (SELECT 1 FROM desktops d WHERE d.pool_id = p.id AND ") +
                db::ready_desktop_sql() +
                " LIMIT 100) r) AS ready FROM pools p WHERE p.enabled AND EXISTS ("
                "SELECT 1 FROM entitlements e LEFT JOIN group_members m ON m.group_id = e.group_id AND m.user_id = $1 "
                "WHERE e.pool_id = p.id AND (e.user_id = $1 OR m.user_id IS NOT NULL)) ORDER BY p.name",
            caller.user.id);
        for (const auto& row : pools) {
            nlohmann::json protocols = nlohmann::json::array();
            const std::string list = row["protocols"].as<std::string>();
            for (std::size_t at = 0; at < list.size();) {
                const auto comma = list.find(',', at);
                protocols.push_back(list.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
                at = comma == std::string::npos ? list.size() : comma + 1;
            }
            const int ready = row["ready"].as<int>();
            out["pools"].push_back({{"name", row["name"].as<std::string>()},
                                    {"display_name", row["display_name"].as<std::string>()},
                                    {"assignment", row["assignment"].as<std::string>()},
                                    {"protocols", protocols},
                                    {"available", ready > 0},
                                    {"ready", ready}});
        }
        const auto sessions = db::exec_cached(
            tx, "vdi_broker_live_sessions",
            "SELECT s.id, p.name AS pool, d.name AS desktop, s.protocol, s.state, s.started_at, s.disconnected_at, s.warning "
            "FROM sessions s JOIN pools p ON p.id = s.pool_id JOIN desktops d ON d.id = s.desktop_id "
            "WHERE s.user_id = $1 AND s.state <> 'ended' ORDER BY s.id",
            caller.user.id);
        for (const auto& row : sessions) {
            const auto disconnected = db::get_optional_time(row, "disconnected_at");
            out["sessions"].push_back({{"id", row["id"].as<long long>()},
                                       {"pool", row["pool"].as<std::string>()},
                                       {"desktop", row["desktop"].as<std::string>()},
                                       {"protocol", row["protocol"].as<std::string>()},
                                       {"state", row["state"].as<std::string>()},
                                       {"started_at", iso8601(db::get_time(row, "started_at"))},
                                       {"disconnected_at", disconnected ? nlohmann::json(iso8601(*disconnected)) : nullptr},
                                       {"warning", row["warning"].is_null() ? nlohmann::json(nullptr)
                                                                            : nlohmann::json(row["warning"].as<std::string>())}});
        }
        return out;
    });
}

nlohmann::json Api::connect(const ParsedRequest& request, const Caller& caller)
{
    const std::string pool_name = request.params.at(0);
    const std::string protocol_name = request.body["protocol"];
    const auto protocol = db::enum_from_string<db::DisplayProtocol>(protocol_name);
    const std::string ticket = make_display_ticket(protocol_name);
    const std::string ticket_hash = sha256_hex(ticket);

    struct Outcome {
        db::Id session_id = 0;
        db::Id desktop_id = 0;
        std::string desktop_name;
        std::int64_t generation = 0;
        db::Id host_id = 0;
        std::string host_address;
        int port = 0;
        std::int64_t ticket_id = 0;
        bool reconnected = false;
        std::string expires_at;
    };
    auto lease = pool_.acquire();
    std::optional<Outcome> outcome;
    std::optional<db::Pool> pool;
    std::vector<std::int64_t> expected;  // tickets of attempts a retried transaction rolled back too
    const auto forget_all_but = [&](std::int64_t keep) {
        for (const auto id : expected) {
            if (id != keep) tickets_.forget(id);
        }
    };
    const char* port_column = protocol == db::DisplayProtocol::vnc ? "vnc_port" : "rdp_port";
    try {
        // (few round trips: this is the hot path of every logon)
        outcome = db::in_transaction(*lease, "connect a user to a desktop", [&](pqxx::work& tx) {
            pool = db::PoolRepository(tx).find_entitled(pool_name, caller.user.id);
            // a pool the caller may not use looks exactly like one that does not exist
            if (!pool) {
                throw ApiError(404, "not_found", "no such pool");
            }
            if (std::find(pool->protocols.begin(), pool->protocols.end(), protocol) == pool->protocols.end()) {
                throw ApiError(400, "protocol_not_offered", "pool '" + pool_name + "' does not offer " + protocol_name);
            }
            Outcome o;
            // the user's live session in this pool, with its desktop and host, in one query
            const auto live = db::exec_cached(
                tx, std::string("vdi_broker_live_session_") + port_column,
                std::string("SELECT s.id AS session_id, s.desktop_generation, d.id AS desktop_id, d.name, d.generation, "
                            "d.actual_state = 'running' AND d.actual_generation = s.desktop_generation AS running, "
                            "d.") + port_column + " AS port, h.id AS host_id, h.address "
                "FROM sessions s JOIN desktops d ON d.id = s.desktop_id LEFT JOIN hosts h ON h.id = d.host_id "
                "WHERE s.user_id = $1 AND s.pool_id = $2 AND s.state <> 'ended' FOR UPDATE OF s",
                caller.user.id, pool->id);
            if (!live.empty()) {
                const auto& row = live[0];
                if (!row["running"].as<bool>(false)) {
                    throw ApiError(503, "desktop_unavailable",
                                   "your desktop is not running right now; try again shortly", settings_.retry_after_s);
                }
                db::SessionRepository(tx).mark_active(row["session_id"].as<db::Id>(), protocol, caller.address);
                o.session_id = row["session_id"].as<db::Id>();
                o.desktop_id = row["desktop_id"].as<db::Id>();
                o.desktop_name = row["name"].as<std::string>();
                o.generation = row["generation"].as<std::int64_t>();
                if (!row["host_id"].is_null()) {
                    o.host_id = row["host_id"].as<db::Id>();
                    o.host_address = row["address"].as<std::string>();
                }
                o.port = row["port"].as<int>(0);
                o.reconnected = true;
            } else {
                db::DesktopRepository desktops(tx);
                auto desktop = pool->assignment == db::PoolAssignment::floating
                                   ? desktops.claim_floating(pool->id, caller.user.id)
                                   : desktops.claim_dedicated(pool->id, caller.user.id);
                if (!desktop) {
                    throw NoDesktopReady{};
                }
                // (a dedicated user's own desktop may be being refreshed right now)
                if (desktop->actual_state != db::DesktopActualState::running ||
                    desktop->actual_generation != desktop->generation) {
                    throw ApiError(503, "desktop_unavailable", "your desktop is starting; try again shortly",
                                   settings_.retry_after_s);
                }
                db::NewSession fresh;
                fresh.user_id = caller.user.id;
                fresh.desktop_id = desktop->id;
                fresh.pool_id = pool->id;
                fresh.desktop_generation = desktop->generation;
                fresh.protocol = protocol;
                fresh.client_address = caller.address;
                o.session_id = db::SessionRepository(tx).open(fresh).id;
                o.desktop_id = desktop->id;
                o.desktop_name = desktop->name;
                o.generation = desktop->generation;
                const auto port = protocol == db::DisplayProtocol::vnc ? desktop->vnc_port : desktop->rdp_port;
                o.port = port.value_or(0);
                if (desktop->host_id) {
                    if (const auto host = db::HostRepository(tx).find(*desktop->host_id)) {
                        o.host_id = host->id;
                        o.host_address = host->address;
                    }
                }
            }
            if (o.host_id == 0 || o.port == 0) {
                throw ApiError(503, "desktop_unavailable", "the desktop's display server is not up yet",
                               settings_.retry_after_s);
            }
            // one statement: the ticket (its hash), its delivery to the host agent (the plaintext,
            // sent with the commit and stored nowhere) and the audit record
            const nlohmann::json details = {{"pool", pool_name}, {"session_id", o.session_id},
                                            {"protocol", protocol_name}, {"generation", o.generation}};
            const auto issued_rows = db::exec_cached(
                tx, "vdi_broker_issue_ticket",
                "WITH t AS (INSERT INTO display_tickets (session_id, desktop_id, protocol, ticket_hash, expires_at) "
                "  VALUES ($1, $2, $3::display_protocol, decode($4, 'hex'), now() + $5 * interval '1 second') "
                "  RETURNING id, expires_at), "
                "n AS (SELECT pg_notify($6, json_build_object('ticket_id', t.id, 'desktop_id', $2::bigint, "
                "  'generation', $7::bigint, 'protocol', $3::text, 'ticket', $8::text, 'ttl_s', $5::bigint)::text) "
                "  FROM t), "
                "a AS (INSERT INTO audit_log (actor_user_id, actor, action, target_type, target_id, source_address, details) "
                "  VALUES ($9, $10, $11, 'desktop', $2::text, $12, $13::jsonb)) "
                "SELECT t.id, t.expires_at FROM t, n",
                o.session_id, o.desktop_id, protocol_name, ticket_hash,
                static_cast<std::int64_t>(settings_.ticket_ttl.count()), "vdi_tickets_" + std::to_string(o.host_id),
                o.generation, ticket, caller.user.id, caller.user.username,
                std::string(o.reconnected ? "session.reconnect" : "desktop.assign"), caller.address, details.dump());
            const auto& issued = issued_rows.at(0);
            o.ticket_id = issued[0].as<std::int64_t>();
            o.expires_at = iso8601(db::parse_timestamp(issued[1].as<std::string>()));
            tickets_.expect(o.ticket_id);
            expected.push_back(o.ticket_id);
            return o;
        });
    } catch (const NoDesktopReady&) {
        forget_all_but(0);
        metrics_.no_desktop_ready();
        // tell the pool managers there is demand (they grow the pool up to max_size)
        try {
            pqxx::nontransaction tx(*lease);
            tx.exec_params("SELECT pg_notify('vdi_pools', $1)",
                           nlohmann::json{{"pool_id", pool->id}, {"event", "demand"}}.dump());
        } catch (const std::exception&) {
        }
        throw ApiError(503, "no_desktop_ready", "no desktop is ready in pool '" + pool_name + "'; try again shortly",
                       settings_.retry_after_s);
    }
    catch (...) {
        forget_all_but(0);
        throw;
    }
    forget_all_but(outcome->ticket_id);
    if (!outcome->reconnected) {
        metrics_.assignment();
    }
    const auto ack = tickets_.wait(outcome->ticket_id, settings_.ticket_delivery_timeout);
    if (!ack || !ack->ok) {
        const std::string why = !ack ? "the desktop's host did not answer in time" : ack->error;
        spdlog::warn("broker.connect ticket {} for desktop {} not delivered: {}", outcome->ticket_id,
                     outcome->desktop_id, why);
        throw ApiError(503, "desktop_unreachable",
                       "the desktop could not be prepared for your connection (" + why + "); try again",
                       settings_.retry_after_s);
    }
    return {{"session_id", outcome->session_id},
            {"pool", pool_name},
            {"desktop", outcome->desktop_name},
            {"host", outcome->host_address},
            {"port", outcome->port},
            {"protocol", protocol_name},
            {"ticket", ticket},
            {"ticket_expires_at", outcome->expires_at},
            {"reconnected", outcome->reconnected}};
}

nlohmann::json Api::disconnect(long long session_id, const Caller& caller)
{
    auto lease = pool_.acquire();
    return db::in_transaction(*lease, "disconnect a session", [&](pqxx::work& tx) {
        db::SessionRepository sessions(tx);
        const auto session = sessions.find(session_id);
        // another user's session looks exactly like a missing one
        if (!session || (session->user_id != caller.user.id && !caller.is_admin())) {
            throw ApiError(404, "not_found", "no such session");
        }
        if (session->state == db::SessionState::ended) {
            throw ApiError(409, "session_ended", "the session has ended");
        }
        sessions.mark_disconnected(session_id);
        audit(tx, caller, "session.disconnect", "session", std::to_string(session_id));
        return nlohmann::json{{"session_id", session_id}, {"state", "disconnected"}};
    });
}

nlohmann::json Api::logoff(long long session_id, const Caller& caller, bool forced)
{
    auto lease = pool_.acquire();
    return db::in_transaction(*lease, "log a session off", [&](pqxx::work& tx) {
        db::SessionRepository sessions(tx);
        const auto session = sessions.find(session_id);
        if (!session || (session->user_id != caller.user.id && !forced)) {
            throw ApiError(404, "not_found", "no such session");
        }
        if (session->state == db::SessionState::ended) {
            throw ApiError(409, "session_ended", "the session has ended");
        }
        sessions.end(session_id, forced ? "forced logoff by " + caller.user.username : "logoff");
        const auto pool = db::PoolRepository(tx).find(session->pool_id);
        db::DesktopRepository desktops(tx);
        nlohmann::json result = {{"session_id", session_id}, {"state", "ended"}, {"refresh", false}};
        if (pool && pool->assignment == db::PoolAssignment::floating) {
            desktops.release(session->desktop_id, session->user_id);
            // the next user must never see this user's state: a new clone from the golden image
            if (pool->refresh_policy == db::RefreshPolicy::on_logoff) {
                if (const auto desktop = desktops.find(session->desktop_id)) {
                    if (const auto generation = desktops.bump_generation(desktop->id, desktop->generation)) {
                        result["refresh"] = true;
                        result["generation"] = *generation;
                    }
                }
            }
        }
        audit(tx, caller, forced ? "session.force_logoff" : "session.logoff", "session", std::to_string(session_id),
              {{"desktop_id", session->desktop_id}, {"user_id", session->user_id}, {"refresh", result["refresh"]}});
        return result;
    });
}

}  // namespace vdi::broker
