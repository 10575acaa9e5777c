// SQL for login attempts and lockouts.
#include "vdi/common/db/login_throttle_repository.h"

#include <algorithm>
#include <cctype>

namespace vdi::db {
namespace {

constexpr const char* lockout_columns = "scope, subject, consecutive_failures, last_failure_at, locked_until";

Lockout lockout_from_row(const pqxx::row& row)
{
    Lockout l;
    l.scope = enum_from_string<LockoutScope>(get<std::string>(row, "scope"));
    l.subject = get<std::string>(row, "subject");
    l.consecutive_failures = get<int>(row, "consecutive_failures");
    l.last_failure_at = get_optional_time(row, "last_failure_at");
    l.locked_until = get_optional_time(row, "locked_until");
    return l;
}

// user names are case-insensitive; addresses are kept as given
std::string normalise(LockoutScope scope, const std::string& subject)
{
    if (scope != LockoutScope::user) {
        return subject;
    }
    std::string lower = subject;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    return lower;
}

}  // namespace

void LoginThrottleRepository::record_attempt(const std::string& username, const std::string& source_address,
                                             bool succeeded)
{
    tx_.exec_params("INSERT INTO login_attempts (username, source_address, succeeded) VALUES ($1, $2, $3)", username,
                    source_address, succeeded);
}

Lockout LoginThrottleRepository::register_failure(LockoutScope scope, const std::string& subject)
{
    return lockout_from_row(tx_.exec_params1(
        std::string("INSERT INTO login_lockouts AS l (scope, subject, consecutive_failures, last_failure_at) "
                    "VALUES ($1::lockout_scope, $2, 1, now()) ON CONFLICT (scope, subject) DO UPDATE SET "
                    "consecutive_failures = l.consecutive_failures + 1, last_failure_at = now() RETURNING ") +
            lockout_columns,
        to_string(scope), normalise(scope, subject)));
}

void LoginThrottleRepository::lock_until(LockoutScope scope, const std::string& subject, Timestamp until)
{
    tx_.exec_params("INSERT INTO login_lockouts AS l (scope, subject, locked_until) "
                    "VALUES ($1::lockout_scope, $2, $3::timestamptz) ON CONFLICT (scope, subject) DO UPDATE SET "
                    "locked_until = greatest(l.locked_until, EXCLUDED.locked_until)",
                    to_string(scope), normalise(scope, subject), to_sql(until));
}

void LoginThrottleRepository::clear(LockoutScope scope, const std::string& subject)
{
    tx_.exec_params("DELETE FROM login_lockouts WHERE scope = $1::lockout_scope AND subject = $2", to_string(scope),
                    normalise(scope, subject));
}

std::optional<Lockout> LoginThrottleRepository::find(LockoutScope scope, const std::string& subject)
{
    return first_row(tx_.exec_params(std::string("SELECT ") + lockout_columns +
                                         " FROM login_lockouts WHERE scope = $1::lockout_scope AND subject = $2",
                                     to_string(scope), normalise(scope, subject)),
                     lockout_from_row);
}

int LoginThrottleRepository::failures_since(const std::string& username, Timestamp since)
{
    return tx_.exec_params1("SELECT count(*) FROM login_attempts WHERE lower(username) = lower($1) "
                            "AND NOT succeeded AND attempted_at >= $2::timestamptz",
                            username, to_sql(since))[0]
        .as<int>();
}

}  // namespace vdi::db
