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

void Api::connect(const ParsedRequest& request, const Caller& caller, std::function<void(HttpResponse)> answer)
{
    db::ConnectRequest ask;
    ask.api_token_hash_hex = caller.token_hash;
    ask.pool = request.params.at(0);
    const std::string protocol_name = request.body["protocol"];
    ask.protocol = db::enum_from_string<db::DisplayProtocol>(protocol_name);
    ask.client_address = caller.address;
    ask.ticket = make_display_ticket(protocol_name);
    ask.ticket_hash_hex = sha256_hex(ask.ticket);
    ask.ticket_ttl = settings_.ticket_ttl;

    // the hot path of every logon: one statement (sql/0004_broker_connect.sql), its own
    // transaction, and the ticket is on its way to the host agent when it returns; the database
    // connection goes back to the pool before the wait for the agent's acknowledgement
    const auto done = [&] {
        auto lease = pool_.acquire();
        return db::in_autocommit(*lease, "connect a user to a desktop", [&](pqxx::nontransaction& tx) {
            return db::SessionRepository(tx).connect(ask);
        });
    }();
    const auto unavailable = [&](const std::string& message) {
        return ApiError(503, "desktop_unavailable", message, settings_.retry_after_s);
    };
    switch (done.outcome) {
    case db::ConnectOutcome::assigned:
    case db::ConnectOutcome::reconnected:
        break;
    case db::ConnectOutcome::unauthenticated:
        throw token_refused();
    case db::ConnectOutcome::no_pool:
        // a pool the caller may not use looks exactly like one that does not exist
        throw ApiError(404, "not_found", "no such pool");
    case db::ConnectOutcome::no_protocol:
        throw ApiError(400, "protocol_not_offered", "pool '" + ask.pool + "' does not offer " + protocol_name);
    case db::ConnectOutcome::not_running:
        throw unavailable("your desktop is not running right now; try again shortly");
    case db::ConnectOutcome::no_display:
        throw unavailable("the desktop's display server is not up yet");
    case db::ConnectOutcome::none_ready:
        // (the pool managers heard of the demand from the same statement)
        metrics_.no_desktop_ready();
        throw ApiError(503, "no_desktop_ready", "no desktop is ready in pool '" + ask.pool + "'; try again shortly",
                       settings_.retry_after_s);
    }
    const bool reconnected = done.outcome == db::ConnectOutcome::reconnected;
    if (!reconnected) {
        metrics_.assignment();
    }
    // the answer goes out when the host agent acknowledges the ticket; no thread waits meanwhile
    const nlohmann::json body = {{"session_id", done.session_id},
                                 {"pool", ask.pool},
                                 {"desktop", done.desktop_name},
                                 {"host", done.host_address},
                                 {"port", done.port},
                                 {"protocol", protocol_name},
                                 {"ticket", ask.ticket},
                                 {"ticket_expires_at", iso8601(done.ticket_expires_at)},
                                 {"reconnected", reconnected}};
    tickets_.on_ack(done.ticket_id, settings_.ticket_delivery_timeout,
                    [answer = std::move(answer), body, ticket_id = done.ticket_id, desktop_id = done.desktop_id,
                     retry_after_s = settings_.retry_after_s](std::optional<TicketAck> ack) {
                        if (ack && ack->ok) {
                            answer(json_response(200, body));
                            return;
                        }
                        const std::string why = !ack ? "the desktop's host did not answer in time" : ack->error;
                        spdlog::warn("broker.connect ticket {} for desktop {} not delivered: {}", ticket_id, desktop_id,
                                     why);
                        answer(error_response(503, "desktop_unreachable",
                                              "the desktop could not be prepared for your connection (" + why +
                                                  "); try again",
                                              retry_after_s));
                    });
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
