// The audit log (table audit_log): append-only record of admin actions, logins and assignments.
// The database refuses UPDATE and DELETE on it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vdi/common/db/database.h"

namespace vdi::db {

// Who did something: a user (by id when known: a failed login may name no account), or a
// component such as "pool-manager@host1" or "vdictl@alice" (no id).
struct AuditActor {
    std::optional<Id> user_id;
    std::string name;
    std::optional<std::string> source_address;
};

struct AuditEntry {
    Id id = 0;
    Timestamp at;
    std::optional<Id> actor_user_id;
    std::string actor;   // user name or component ("pool-manager@host1")
    std::string action;  // dotted lowercase: "user.login", "pool.update", "desktop.assign"
    std::optional<std::string> target_type;
    std::optional<std::string> target_id;
    bool success = true;
    std::optional<std::string> source_address;
    nlohmann::json details = nlohmann::json::object();  // never secrets

    // The one way to fill an entry for append(): `actor` did `action` to the target.
    static AuditEntry of(const AuditActor& actor, std::string action, std::optional<std::string> target_type,
                         std::optional<std::string> target_id, nlohmann::json details = nlohmann::json::object(),
                         bool success = true);
};

struct AuditFilter {
    std::optional<Id> actor_user_id;
    std::optional<std::string> action_prefix;  // "pool." matches every pool action
    int limit = 100;
    std::optional<Id> before_id;  // paging: entries older than this id
};

class AuditRepository {
public:
    explicit AuditRepository(pqxx::transaction_base& tx) : tx_(tx) {}

    // Writes `entry` (its id and at are assigned by the database) and returns it as stored.
    AuditEntry append(const AuditEntry& entry);
    // Newest first.
    std::vector<AuditEntry> list(const AuditFilter& filter = {});

private:
    pqxx::transaction_base& tx_;
};

}  // namespace vdi::db
