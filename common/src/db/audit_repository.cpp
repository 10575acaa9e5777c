// SQL for the audit log.
#include "vdi/common/db/audit_repository.h"

namespace vdi::db {
namespace {

constexpr const char* audit_columns =
    "id, at, actor_user_id, actor, action, target_type, target_id, success, source_address, details";

AuditEntry audit_from_row(const pqxx::row& row)
{
    AuditEntry e;
    e.id = get<Id>(row, "id");
    e.at = get_time(row, "at");
    e.actor_user_id = get_optional<Id>(row, "actor_user_id");
    e.actor = get<std::string>(row, "actor");
    e.action = get<std::string>(row, "action");
    e.target_type = get_optional<std::string>(row, "target_type");
    e.target_id = get_optional<std::string>(row, "target_id");
    e.success = get<bool>(row, "success");
    e.source_address = get_optional<std::string>(row, "source_address");
    e.details = nlohmann::json::parse(get<std::string>(row, "details"));
    return e;
}

}  // namespace

AuditEntry AuditEntry::of(const AuditActor& actor, std::string action, std::optional<std::string> target_type,
                          std::optional<std::string> target_id, nlohmann::json details, bool success)
{
    AuditEntry entry;
    entry.actor_user_id = actor.user_id;
    entry.actor = actor.name;
    entry.action = std::move(action);
    entry.target_type = std::move(target_type);
    entry.target_id = std::move(target_id);
    entry.success = success;
    entry.source_address = actor.source_address;
    entry.details = std::move(details);
    return entry;
}

AuditEntry AuditRepository::append(const AuditEntry& e)
{
    return audit_from_row(tx_.exec_params1(
        std::string("INSERT INTO audit_log (actor_user_id, actor, action, target_type, target_id, success, "
                    "source_address, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) RETURNING ") +
            audit_columns,
        e.actor_user_id, e.actor, e.action, e.target_type, e.target_id, e.success, e.source_address,
        e.details.is_null() ? std::string("{}") : e.details.dump()));
}

std::vector<AuditEntry> AuditRepository::list(const AuditFilter& f)
{
    std::optional<std::string> like;
    if (f.action_prefix) {
        // escape LIKE metacharacters so the prefix matches literally
        std::string escaped;
        for (char c : *f.action_prefix) {
            if (c == '%' || c == '_' || c == '\\') {
                escaped += '\\';
            }
            escaped += c;
        }
        like = escaped + "%";
    }
    return map_rows(tx_.exec_params(std::string("SELECT ") + audit_columns +
                                        " FROM audit_log WHERE ($1::bigint IS NULL OR actor_user_id = $1) "
                                        "AND ($2::text IS NULL OR action LIKE $2) "
                                        "AND ($3::bigint IS NULL OR id < $3) ORDER BY id DESC LIMIT $4",
                                    f.actor_user_id, like, f.before_id, f.limit),
                    audit_from_row);
}

}  // namespace vdi::db
