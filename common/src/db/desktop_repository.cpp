// SQL for desktops, including the assignment transactions.
#include "vdi/common/db/desktop_repository.h"

namespace vdi::db {
namespace {

constexpr const char* desktop_columns =
    "d.id, d.pool_id, d.name, d.host_id, d.golden_image_id, d.desired_state, d.actual_state, d.generation, "
    "d.actual_generation, d.ready_generation, d.vnc_port, d.rdp_port, d.vmm_pid, d.owner_user_id, "
    "d.assigned_user_id, d.assigned_at, d.error, d.created_at, d.state_changed_at, desktop_is_ready(d) AS ready";

// Both predicates are SQL functions (sql/0005_desktop_predicates.sql) that the planner inlines;
// desktop_is_ready() is also the predicate of the partial index desktops_ready_idx and of the
// claim in desktop_claim(), so a query using it stays an index scan. Callers alias desktops as d.
constexpr const char* ready_predicate = "desktop_is_ready(d)";
constexpr const char* up_to_date_predicate = "desktop_is_up_to_date(d)";

Desktop desktop_from_row(const pqxx::row& row)
{
    Desktop d;
    d.id = get<Id>(row, "id");
    d.pool_id = get<Id>(row, "pool_id");
    d.name = get<std::string>(row, "name");
    d.host_id = get_optional<Id>(row, "host_id");
    d.golden_image_id = get<Id>(row, "golden_image_id");
    d.desired_state = enum_from_string<DesktopDesiredState>(get<std::string>(row, "desired_state"));
    d.actual_state = enum_from_string<DesktopActualState>(get<std::string>(row, "actual_state"));
    d.generation = get<std::int64_t>(row, "generation");
    d.actual_generation = get_optional<std::int64_t>(row, "actual_generation");
    d.ready_generation = get_optional<std::int64_t>(row, "ready_generation");
    d.vnc_port = get_optional<int>(row, "vnc_port");
    d.rdp_port = get_optional<int>(row, "rdp_port");
    d.vmm_pid = get_optional<int>(row, "vmm_pid");
    d.owner_user_id = get_optional<Id>(row, "owner_user_id");
    d.assigned_user_id = get_optional<Id>(row, "assigned_user_id");
    d.assigned_at = get_optional_time(row, "assigned_at");
    d.error = get_optional<std::string>(row, "error");
    d.created_at = get_time(row, "created_at");
    d.state_changed_at = get_time(row, "state_changed_at");
    d.ready = get<bool>(row, "ready");
    return d;
}

std::string select_desktops(const std::string& where)
{
    return std::string("SELECT ") + desktop_columns + " FROM desktops d WHERE " + where;
}

}  // namespace

Desktop DesktopRepository::create(const NewDesktop& desktop)
{
    return desktop_from_row(tx_.exec_params1(
        std::string("INSERT INTO desktops AS d (pool_id, name, golden_image_id, host_id) VALUES ($1, $2, $3, $4) "
                    "RETURNING ") + desktop_columns,
        desktop.pool_id, desktop.name, desktop.golden_image_id, desktop.host_id));
}

std::optional<Desktop> DesktopRepository::find(Id id)
{
    return first_row(tx_.exec_params(select_desktops("d.id = $1"), id), desktop_from_row);
}

std::vector<Desktop> DesktopRepository::list(const DesktopFilter& filter, const Page& page)
{
    std::optional<std::string> state;
    if (filter.actual_state) state = to_string(*filter.actual_state);
    return map_rows(tx_.exec_params(select_desktops("($1::bigint IS NULL OR d.pool_id = $1) "
                                                    "AND ($2::desktop_actual_state IS NULL "
                                                    "OR d.actual_state = $2::desktop_actual_state) "
                                                    "AND ($3::bigint IS NULL OR d.id < $3) ORDER BY d.id DESC LIMIT $4"),
                                    filter.pool_id, state, page.before, page.limit),
                    desktop_from_row);
}

std::vector<Desktop> DesktopRepository::list_by_pool(Id pool_id)
{
    return map_rows(tx_.exec_params(select_desktops("d.pool_id = $1 ORDER BY d.id"), pool_id), desktop_from_row);
}

std::vector<Desktop> DesktopRepository::list_by_host(Id host_id)
{
    return map_rows(tx_.exec_params(select_desktops("d.host_id = $1 ORDER BY d.id"), host_id), desktop_from_row);
}

const char* ready_desktop_sql()
{
    return ready_predicate;
}

PoolDesktopCounts DesktopRepository::counts(Id pool_id)
{
    const auto row = tx_.exec_params1(
        std::string("SELECT count(*) AS total, "
                    "count(*) FILTER (WHERE ") + ready_predicate + ") AS ready, "
        "count(*) FILTER (WHERE d.assigned_user_id IS NOT NULL OR d.owner_user_id IS NOT NULL) AS in_use, "
        "count(*) FILTER (WHERE d.desired_state = 'running' AND d.actual_state NOT IN ('failed', 'lost') "
        "  AND NOT " + up_to_date_predicate + ") AS provisioning, "
        "count(*) FILTER (WHERE d.actual_state IN ('failed', 'lost')) AS failed "
        "FROM desktops d WHERE d.pool_id = $1 AND d.desired_state <> 'deleted'",
        pool_id);
    return PoolDesktopCounts{get<int>(row, "total"), get<int>(row, "ready"), get<int>(row, "in_use"),
                             get<int>(row, "provisioning"), get<int>(row, "failed")};
}

bool DesktopRepository::place(Id id, std::optional<Id> host_id)
{
    return tx_.exec_params("UPDATE desktops SET host_id = $2, updated_at = now() WHERE id = $1", id, host_id)
               .affected_rows() == 1;
}

bool DesktopRepository::set_desired_state(Id id, DesktopDesiredState state)
{
    return tx_.exec_params("UPDATE desktops SET desired_state = $2::desktop_desired_state, updated_at = now() "
                           "WHERE id = $1",
                           id, to_string(state))
               .affected_rows() == 1;
}

bool DesktopRepository::report_actual(Id id, const ActualReport& r)
{
    return tx_.exec_params("UPDATE desktops SET actual_state = $3::desktop_actual_state, actual_generation = $2, "
                           "vnc_port = $4, rdp_port = $5, vmm_pid = $6, error = $7, updated_at = now(), "
                           "state_changed_at = CASE WHEN actual_state = $3::desktop_actual_state "
                           "  AND actual_generation IS NOT DISTINCT FROM $2 THEN state_changed_at ELSE now() END "
                           "WHERE id = $1 AND generation = $2",
                           id, r.generation, to_string(r.state), r.vnc_port, r.rdp_port, r.vmm_pid, r.error)
               .affected_rows() == 1;
}

bool DesktopRepository::mark_guest_ready(Id id, std::int64_t generation)
{
    return tx_.exec_params("UPDATE desktops SET ready_generation = $2, updated_at = now() "
                           "WHERE id = $1 AND generation = $2 AND actual_generation = $2",
                           id, generation)
               .affected_rows() == 1;
}

std::optional<Desktop> DesktopRepository::claim_floating(Id pool_id, Id user_id)
{
    return first_row(tx_.exec_params(std::string("SELECT ") + desktop_columns + " FROM desktop_claim($1, $2, false) d",
                                     pool_id, user_id),
                     desktop_from_row);
}

std::optional<Desktop> DesktopRepository::claim_dedicated(Id pool_id, Id user_id)
{
    if (auto own = first_row(tx_.exec_params(select_desktops("d.pool_id = $1 AND d.owner_user_id = $2 "
                                                             "AND d.desired_state <> 'deleted'"),
                                             pool_id, user_id),
                             desktop_from_row)) {
        return own;
    }
    return first_row(tx_.exec_params(std::string("SELECT ") + desktop_columns + " FROM desktop_claim($1, $2, true) d",
                                     pool_id, user_id),
                     desktop_from_row);
}

bool DesktopRepository::release(Id id, Id user_id)
{
    return tx_.exec_params("UPDATE desktops SET assigned_user_id = NULL, assigned_at = NULL, updated_at = now() "
                           "WHERE id = $1 AND assigned_user_id = $2",
                           id, user_id)
               .affected_rows() == 1;
}

std::optional<std::int64_t> DesktopRepository::bump_generation(Id id, std::int64_t expected_generation)
{
    const auto result = tx_.exec_params("UPDATE desktops SET generation = generation + 1, updated_at = now(), "
                                        "state_changed_at = now() WHERE id = $1 AND generation = $2 "
                                        "RETURNING generation",
                                        id, expected_generation);
    if (result.empty()) {
        return std::nullopt;
    }
    return result[0][0].as<std::int64_t>();
}

std::vector<Desktop> DesktopRepository::mark_lost_on_host(Id host_id, const std::string& reason)
{
    return map_rows(tx_.exec_params(std::string("UPDATE desktops AS d SET actual_state = 'lost', error = $2, "
                                                "updated_at = now(), state_changed_at = now() "
                                                "WHERE d.host_id = $1 AND d.actual_state <> 'lost' RETURNING ") +
                                        desktop_columns,
                                    host_id, reason),
                    desktop_from_row);
}

const char* up_to_date_desktop_sql()
{
    return up_to_date_predicate;
}

std::vector<Desktop> DesktopRepository::list_broken(Id pool_id)
{
    return map_rows(tx_.exec_params(select_desktops("d.pool_id = $1 AND d.desired_state <> 'deleted' "
                                                    "AND d.actual_state IN ('failed', 'lost') ORDER BY d.id"),
                                    pool_id),
                    desktop_from_row);
}

bool DesktopRepository::retire(Id id)
{
    return tx_.exec_params("UPDATE desktops SET desired_state = 'deleted', assigned_user_id = NULL, "
                           "assigned_at = NULL, refresh_job_id = NULL, updated_at = now() WHERE id = $1",
                           id)
               .affected_rows() == 1;
}

RecentFailures DesktopRepository::recent_failures(Id pool_id, Id golden_image_id, Timestamp since)
{
    const auto row = tx_.exec_params1("SELECT count(*) AS failures, max(error) AS an_error FROM desktops "
                                      "WHERE pool_id = $1 AND golden_image_id = $2 AND actual_state = 'failed' "
                                      "AND state_changed_at > $3::timestamptz",
                                      pool_id, golden_image_id, to_sql(since));
    return RecentFailures{get<int>(row, "failures"), get_optional<std::string>(row, "an_error")};
}

RunningDesktopCounts DesktopRepository::running_counts(Id pool_id)
{
    const auto row = tx_.exec_params1(
        "SELECT count(*) AS total, count(*) FILTER (WHERE assigned_user_id IS NOT NULL OR owner_user_id IS NOT NULL) "
        "AS in_use, count(*) FILTER (WHERE refresh_job_id IS NOT NULL AND assigned_user_id IS NULL "
        "AND owner_user_id IS NULL) AS waiting_refresh FROM desktops WHERE pool_id = $1 AND desired_state = 'running'",
        pool_id);
    return RunningDesktopCounts{get<int>(row, "total"), get<int>(row, "in_use"), get<int>(row, "waiting_refresh")};
}

int DesktopRepository::next_name_number(Id pool_id)
{
    return tx_.exec_params1("SELECT coalesce(max(substring(name from '-(\\d+)$')::int), 0) + 1 FROM desktops "
                            "WHERE pool_id = $1",
                            pool_id)[0]
        .as<int>();
}

int DesktopRepository::trim_spares(Id pool_id, Timestamp unchanged_before, int count)
{
    return static_cast<int>(
        tx_.exec_params(std::string("UPDATE desktops SET desired_state = 'deleted', updated_at = now() WHERE id IN ("
                                    "SELECT d.id FROM desktops d WHERE d.pool_id = $1 AND d.refresh_job_id IS NULL AND ") +
                            ready_predicate +
                            " AND d.state_changed_at < $2::timestamptz ORDER BY d.id DESC LIMIT $3)",
                        pool_id, to_sql(unchanged_before), count)
            .affected_rows());
}

int DesktopRepository::flag_for_job(Id pool_id, Id job_id)
{
    return static_cast<int>(tx_.exec_params("UPDATE desktops SET refresh_job_id = $2 WHERE pool_id = $1 "
                                            "AND desired_state = 'running'",
                                            pool_id, job_id)
                                .affected_rows());
}

int DesktopRepository::unflag_job(Id job_id)
{
    return static_cast<int>(
        tx_.exec_params("UPDATE desktops SET refresh_job_id = NULL WHERE refresh_job_id = $1", job_id).affected_rows());
}

bool DesktopRepository::finish_refresh(Id id, Id golden_image_id)
{
    return tx_.exec_params("UPDATE desktops SET refresh_job_id = NULL, golden_image_id = $2 WHERE id = $1", id,
                           golden_image_id)
               .affected_rows() == 1;
}

std::vector<JobDesktop> DesktopRepository::list_for_job(Id job_id)
{
    return map_rows(tx_.exec_params(std::string("SELECT ") + desktop_columns +
                                        ", (SELECT s.id FROM sessions s WHERE s.desktop_id = d.id AND s.state <> 'ended') "
                                        "AS live_session_id, (" + up_to_date_predicate + ") AS up_to_date "
                                        "FROM desktops d WHERE d.refresh_job_id = $1 ORDER BY d.id",
                                    job_id),
                    [](const pqxx::row& row) {
                        return JobDesktop{desktop_from_row(row), get_optional<Id>(row, "live_session_id"),
                                          get<bool>(row, "up_to_date")};
                    });
}

int DesktopRepository::count_for_job(Id job_id)
{
    return tx_.exec_params1("SELECT count(*) FROM desktops WHERE refresh_job_id = $1", job_id)[0].as<int>();
}

std::vector<PoolDesktopGauges> DesktopRepository::gauges_by_pool()
{
    return map_rows(
        tx_.exec(std::string("SELECT p.name, count(d.id) FILTER (WHERE ") + ready_predicate + ") AS ready, "
                 "count(d.id) FILTER (WHERE d.assigned_user_id IS NOT NULL) AS in_use "
                 "FROM pools p LEFT JOIN desktops d ON d.pool_id = p.id AND d.desired_state <> 'deleted' "
                 "GROUP BY p.name ORDER BY p.name"),
        [](const pqxx::row& row) {
            return PoolDesktopGauges{get<std::string>(row, "name"), get<long>(row, "ready"), get<long>(row, "in_use")};
        });
}

}  // namespace vdi::db
