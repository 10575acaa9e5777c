// Login attempts and lockouts (tables login_attempts, login_lockouts), shared by all broker
// replicas so that every replica enforces the same limits. The back-off policy itself (how long
// a lock lasts after N failures) belongs to the broker; this class only counts and stores.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "vdi/common/db/database.h"
#include "vdi/common/db/enums.h"

namespace vdi::db {

struct Lockout {
    LockoutScope scope = LockoutScope::user;
    std::string subject;  // lower-cased user name, or source address
    int consecutive_failures = 0;
    std::optional<Timestamp> last_failure_at;
    std::optional<Timestamp> locked_until;
};

class LoginThrottleRepository {
public:
    explicit LoginThrottleRepository(pqxx::transaction_base& tx) : tx_(tx) {}

    void record_attempt(const std::string& username, const std::string& source_address, bool succeeded);
    // Counts one more consecutive failure (atomically, under concurrency) and returns the result.
    Lockout register_failure(LockoutScope scope, const std::string& subject);
    // Sets or extends the lock (never shortens one already further in the future).
    void lock_until(LockoutScope scope, const std::string& subject, Timestamp until);
    // A successful login resets the subject.
    void clear(LockoutScope scope, const std::string& subject);
    std::optional<Lockout> find(LockoutScope scope, const std::string& subject);
    // Failed attempts for the user name since `since` (case-insensitive).
    int failures_since(const std::string& username, Timestamp since);

private:
    pqxx::transaction_base& tx_;
};

}  // namespace vdi::db
