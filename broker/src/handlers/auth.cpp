// The thin client's authentication endpoints: login, logout, me.
#include "handler_support.h"
#include "vdi/broker/api.h"
#include "vdi/common/api/user.h"
#include "vdi/common/db/api_token_repository.h"
#include "vdi/common/db/audit_repository.h"
#include "vdi/common/db/login_throttle_repository.h"
#include "vdi/common/db/user_repository.h"

namespace vdi::broker {
namespace {

using db::LockoutScope;

// Seconds until the later of two locks ends (0: not locked).
int locked_for_s(const std::optional<db::Lockout>& a, const std::optional<db::Lockout>& b, TimePoint now)
{
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

Api::Reply Api::login(const Call& call)
{
    const ParsedRequest& request = call.request;
    const RequestContext& context = call.context;
    const std::string username = request.body["user"];
    const std::string password = request.body["password"];
    const std::string& address = context.remote_address;

    // 1. a locked name or address is refused before any password is checked
    std::optional<db::User> user;
    int locked_s = 0;
    {
        auto lease = pool_.acquire();
        db::in_transaction(*lease, "check login locks", [&](pqxx::work& tx) {
            db::LoginThrottleRepository throttle(tx);
            locked_s = locked_for_s(throttle.find(LockoutScope::user, username),
                                    throttle.find(LockoutScope::address, address), clock_.now());
            if (locked_s > 0) {
                throttle.record_attempt(username, address, false);
                db::AuditRepository(tx).append(db::AuditEntry::of({std::nullopt, username, address}, "user.login",
                                                                   "user", username, {{"reason", "locked"}}, false));
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
        return {200, api::LoginResponse{token, issued.expires_at,
                                        api::LoginUser{user->id, user->username, db::to_string(user->role)}}};
    }
    db::in_transaction(*lease, "record a failed login", [&](pqxx::work& tx) {
        db::LoginThrottleRepository throttle(tx);
        throttle.record_attempt(username, address, false);
        const auto now = clock_.now();
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
        db::AuditRepository(tx).append(db::AuditEntry::of(
            {user ? std::optional<db::Id>(user->id) : std::nullopt, username, address}, "user.login", "user",
            user ? std::to_string(user->id) : username,
            {{"reason", !user ? "unknown user" : user->disabled ? "disabled" : "wrong password"}}, false));
    });
    metrics_.login(false);
    // the same answer whether the name exists, the password is wrong or the account is disabled
    throw ApiError(401, "invalid_credentials", "wrong user name or password");
}

Api::Reply Api::logout(const Call& call)
{
    const Caller& caller = call.caller;
    auto lease = pool_.acquire();
    db::in_transaction(*lease, "log out", [&](pqxx::work& tx) {
        db::ApiTokenRepository(tx).revoke(caller.token_hash);
        audit(tx, caller, "user.logout", "user", std::to_string(caller.user.id));
    });
    return {200, api::LogoutResponse{}};
}

Api::Reply Api::me(const Call& call)
{
    const db::User& user = call.caller.user;
    return {200, api::Me{user.id, user.username, user.display_name, db::to_string(user.role), user.last_login_at}};
}

}  // namespace vdi::broker
