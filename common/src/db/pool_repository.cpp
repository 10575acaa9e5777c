// SQL for pools and entitlements.
#include "vdi/common/db/pool_repository.h"

#include "vdi/common/db/desktop_repository.h"

namespace vdi::db {
namespace {

constexpr const char* pool_columns =
    "p.id, p.name, p.display_name, p.assignment, p.golden_image_id, p.min_ready, p.max_size, "
    "array_to_string(p.protocols, ',') AS protocols, p.refresh_policy, p.refresh_cron, p.idle_timeout_s, "
    "p.disconnected_timeout_s, p.max_session_s, p.enabled, p.created_at, p.updated_at";

Pool pool_from_row(const pqxx::row& row)
{
    Pool pool;
    pool.id = get<Id>(row, "id");
    pool.name = get<std::string>(row, "name");
    pool.display_name = get<std::string>(row, "display_name");
    pool.assignment = enum_from_string<PoolAssignment>(get<std::string>(row, "assignment"));
    pool.golden_image_id = get<Id>(row, "golden_image_id");
    pool.min_ready = get<int>(row, "min_ready");
    pool.max_size = get<int>(row, "max_size");
    pool.protocols = enums_from_csv<DisplayProtocol>(get<std::string>(row, "protocols"));
    pool.refresh_policy = enum_from_string<RefreshPolicy>(get<std::string>(row, "refresh_policy"));
    pool.refresh_cron = get_optional<std::string>(row, "refresh_cron");
    pool.idle_timeout_s = get_optional<int>(row, "idle_timeout_s");
    pool.disconnected_timeout_s = get_optional<int>(row, "disconnected_timeout_s");
    pool.max_session_s = get_optional<int>(row, "max_session_s");
    pool.enabled = get<bool>(row, "enabled");
    pool.created_at = get_time(row, "created_at");
    pool.updated_at = get_time(row, "updated_at");
    return pool;
}

Entitlement entitlement_from_row(const pqxx::row& row)
{
    return Entitlement{get<Id>(row, "id"), get<Id>(row, "pool_id"), get_optional<Id>(row, "user_id"),
                       get_optional<Id>(row, "group_id")};
}

std::string select_pool_summaries()
{
    return std::string("SELECT ") + pool_columns +
           ", (SELECT count(*) FROM desktops d WHERE d.pool_id = p.id AND d.desired_state <> 'deleted') AS desktops, "
           "(SELECT count(*) FROM desktops d WHERE d.pool_id = p.id AND " + ready_desktop_sql() + ") AS ready, "
           "(SELECT count(*) FROM desktops d WHERE d.pool_id = p.id AND d.assigned_user_id IS NOT NULL) AS in_use "
           "FROM pools p";
}

PoolSummary pool_summary_from_row(const pqxx::row& row)
{
    return PoolSummary{pool_from_row(row), get<std::int64_t>(row, "desktops"), get<std::int64_t>(row, "ready"),
                       get<std::int64_t>(row, "in_use")};
}

}  // namespace

Pool PoolRepository::create(const PoolSettings& s)
{
    return pool_from_row(tx_.exec_params1(
        std::string("INSERT INTO pools AS p (name, display_name, assignment, golden_image_id, min_ready, max_size, "
                    "protocols, refresh_policy, refresh_cron, idle_timeout_s, disconnected_timeout_s, max_session_s, "
                    "enabled) VALUES ($1, $2, $3::pool_assignment, $4, $5, $6, $7::display_protocol[], "
                    "$8::refresh_policy, $9, $10, $11, $12, $13) RETURNING ") + pool_columns,
        s.name, s.display_name, to_string(s.assignment), s.golden_image_id, s.min_ready, s.max_size,
        to_sql_array(s.protocols), to_string(s.refresh_policy), s.refresh_cron, s.idle_timeout_s,
        s.disconnected_timeout_s, s.max_session_s, s.enabled));
}

std::optional<Pool> PoolRepository::find(Id id)
{
    return first_row(tx_.exec_params(std::string("SELECT ") + pool_columns + " FROM pools p WHERE p.id = $1", id),
                     pool_from_row);
}

std::optional<Pool> PoolRepository::find_by_name(const std::string& name)
{
    return first_row(tx_.exec_params(std::string("SELECT ") + pool_columns + " FROM pools p WHERE p.name = $1", name),
                     pool_from_row);
}

std::vector<Pool> PoolRepository::list()
{
    return map_rows(tx_.exec(std::string("SELECT ") + pool_columns + " FROM pools p ORDER BY p.name"), pool_from_row);
}

bool PoolRepository::update(Id id, const PoolSettings& s)
{
    return tx_.exec_params("UPDATE pools SET name = $2, display_name = $3, assignment = $4::pool_assignment, "
                           "golden_image_id = $5, min_ready = $6, max_size = $7, protocols = $8::display_protocol[], "
                           "refresh_policy = $9::refresh_policy, refresh_cron = $10, idle_timeout_s = $11, "
                           "disconnected_timeout_s = $12, max_session_s = $13, enabled = $14, error = NULL, error_at = NULL, "
                           "updated_at = now() "
                           "WHERE id = $1",
                           id, s.name, s.display_name, to_string(s.assignment), s.golden_image_id, s.min_ready,
                           s.max_size, to_sql_array(s.protocols), to_string(s.refresh_policy), s.refresh_cron,
                           s.idle_timeout_s, s.disconnected_timeout_s, s.max_session_s, s.enabled)
               .affected_rows() == 1;
}

std::vector<PoolSummary> PoolRepository::list_summaries()
{
    return map_rows(tx_.exec(select_pool_summaries() + " ORDER BY p.id DESC"), pool_summary_from_row);
}

std::optional<PoolSummary> PoolRepository::find_summary(Id id)
{
    return first_row(tx_.exec_params(select_pool_summaries() + " WHERE p.id = $1", id), pool_summary_from_row);
}

bool PoolRepository::set_sizing(Id id, int min_ready, int max_size)
{
    return tx_.exec_params("UPDATE pools SET min_ready = $2, max_size = $3, updated_at = now() WHERE id = $1", id,
                           min_ready, max_size)
               .affected_rows() == 1;
}

bool PoolRepository::set_golden_image(Id id, Id golden_image_id)
{
    return tx_.exec_params("UPDATE pools SET golden_image_id = $2, updated_at = now() WHERE id = $1", id,
                           golden_image_id)
               .affected_rows() == 1;
}

Entitlement PoolRepository::entitle_user(Id pool_id, Id user_id)
{
    // idempotent: entitling twice returns the existing row
    return entitlement_from_row(tx_.exec_params1(
        "WITH ins AS (INSERT INTO entitlements (pool_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING "
        "RETURNING id, pool_id, user_id, group_id) "
        "SELECT * FROM ins UNION ALL SELECT id, pool_id, user_id, group_id FROM entitlements "
        "WHERE pool_id = $1 AND user_id = $2 LIMIT 1",
        pool_id, user_id));
}

Entitlement PoolRepository::entitle_group(Id pool_id, Id group_id)
{
    return entitlement_from_row(tx_.exec_params1(
        "WITH ins AS (INSERT INTO entitlements (pool_id, group_id) VALUES ($1, $2) ON CONFLICT DO NOTHING "
        "RETURNING id, pool_id, user_id, group_id) "
        "SELECT * FROM ins UNION ALL SELECT id, pool_id, user_id, group_id FROM entitlements "
        "WHERE pool_id = $1 AND group_id = $2 LIMIT 1",
        pool_id, group_id));
}

bool PoolRepository::revoke_entitlement(Id entitlement_id)
{
    return tx_.exec_params("DELETE FROM entitlements WHERE id = $1", entitlement_id).affected_rows() == 1;
}

std::vector<Entitlement> PoolRepository::entitlements_of(Id pool_id)
{
    return map_rows(tx_.exec_params("SELECT id, pool_id, user_id, group_id FROM entitlements WHERE pool_id = $1 "
                                    "ORDER BY id",
                                    pool_id),
                    entitlement_from_row);
}

std::vector<NamedEntitlement> PoolRepository::named_entitlements_of(Id pool_id)
{
    return map_rows(tx_.exec_params("SELECT e.id, e.pool_id, e.user_id, u.username, e.group_id, g.name AS group_name "
                                    "FROM entitlements e LEFT JOIN users u ON u.id = e.user_id "
                                    "LEFT JOIN groups g ON g.id = e.group_id WHERE e.pool_id = $1 ORDER BY e.id DESC",
                                    pool_id),
                    [](const pqxx::row& row) {
                        return NamedEntitlement{entitlement_from_row(row), get_optional<std::string>(row, "username"),
                                                get_optional<std::string>(row, "group_name")};
                    });
}

std::optional<Pool> PoolRepository::find_entitled(const std::string& name, Id user_id)
{
    return first_row(exec_cached(tx_, "vdi_pool_entitled", std::string("SELECT ") + pool_columns +
                                         " FROM pools p WHERE p.name = $1 AND p.enabled AND EXISTS (SELECT 1 FROM entitlements e LEFT JOIN "
                                         "group_members m ON m.group_id = e.group_id AND m.user_id = $2 "
                                         "WHERE e.pool_id = p.id AND (e.user_id = $2 OR m.user_id IS NOT NULL))",
                                     name, user_id),
                     pool_from_row);
}

std::vector<Pool> PoolRepository::entitled_pools(Id user_id)
{
    return map_rows(tx_.exec_params(std::string("SELECT ") + pool_columns + " FROM pools p WHERE p.enabled AND EXISTS ("
                                        "SELECT 1 FROM entitlements e LEFT JOIN group_members m "
                                        "ON m.group_id = e.group_id AND m.user_id = $1 "
                                        "WHERE e.pool_id = p.id AND (e.user_id = $1 OR m.user_id IS NOT NULL)) "
                                        "ORDER BY p.name",
                                    user_id),
                    pool_from_row);
}

bool PoolRepository::is_entitled(Id pool_id, Id user_id)
{
    return tx_.exec_params1("SELECT EXISTS (SELECT 1 FROM entitlements e LEFT JOIN group_members m "
                            "ON m.group_id = e.group_id AND m.user_id = $2 "
                            "WHERE e.pool_id = $1 AND (e.user_id = $2 OR m.user_id IS NOT NULL))",
                            pool_id, user_id)[0]
        .as<bool>();
}

std::vector<Id> PoolRepository::list_ids()
{
    return map_rows(tx_.exec("SELECT id FROM pools ORDER BY id"), [](const pqxx::row& row) { return get<Id>(row, "id"); });
}

std::vector<Pool> PoolRepository::list_refresh_scheduled()
{
    return map_rows(tx_.exec(std::string("SELECT ") + pool_columns +
                             " FROM pools p WHERE p.enabled AND p.refresh_cron IS NOT NULL ORDER BY p.id"),
                    pool_from_row);
}

bool PoolRepository::try_lock(Id id)
{
    return !tx_.exec_params("SELECT id FROM pools WHERE id = $1 FOR UPDATE SKIP LOCKED", id).empty();
}

std::optional<std::string> PoolRepository::provisioning_error(Id id)
{
    const auto result = tx_.exec_params("SELECT error FROM pools WHERE id = $1", id);
    if (result.empty()) {
        return std::nullopt;
    }
    return get_optional<std::string>(result[0], "error");
}

bool PoolRepository::set_provisioning_error(Id id, const std::string& error)
{
    return tx_.exec_params("UPDATE pools SET error = $2, error_at = now() WHERE id = $1", id, error).affected_rows() == 1;
}

bool PoolRepository::switch_image(Id id, Id golden_image_id)
{
    return tx_.exec_params("UPDATE pools SET golden_image_id = $2, error = NULL, error_at = NULL, updated_at = now() "
                           "WHERE id = $1",
                           id, golden_image_id)
               .affected_rows() == 1;
}

bool PoolRepository::remove(Id id)
{
    tx_.exec_params("DELETE FROM entitlements WHERE pool_id = $1", id);
    tx_.exec_params("DELETE FROM desktops WHERE pool_id = $1", id);
    return tx_.exec_params("DELETE FROM pools WHERE id = $1", id).affected_rows() == 1;
}

}  // namespace vdi::db
