// The admin endpoints' reads: rows rendered to JSON by PostgreSQL (json_agg over an explicit
// column list, so no hash column ever leaves the database), with the filters and paging the
// list endpoints share. Internal to the broker's handlers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "vdi/broker/api_request.h"
#include "vdi/common/db/desktop_repository.h"

namespace vdi::broker::admin {

// Runs a query returning one json value (or NULL) and parses it.
inline nlohmann::json query_json(pqxx::transaction_base& tx, const std::string& sql,
                          const std::vector<std::string>& params = {})
{
    const auto result = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
    if (result.empty() || result[0][0].is_null()) {
        return nullptr;
    }
    return nlohmann::json::parse(result[0][0].c_str());
}

// A list query: `select` must produce rows with an id column; wrapped in json_agg, newest first.
inline std::string list_sql(const std::string& select)
{
    return "SELECT coalesce(json_agg(r ORDER BY r.id DESC), '[]'::json) FROM (" + select + ") r";
}

inline const std::string user_select =
    "SELECT u.id, u.username, u.display_name, u.role, u.disabled, u.created_at, u.last_login_at FROM users u";
inline const std::string group_select =
    "SELECT g.id, g.name, g.description, (SELECT count(*) FROM group_members m WHERE m.group_id = g.id) AS members "
    "FROM groups g";
inline const std::string pool_select =
    "SELECT p.id, p.name, p.display_name, p.assignment, p.golden_image_id, p.min_ready, p.max_size, p.protocols, "
    "p.refresh_policy, p.refresh_cron, p.idle_timeout_s, p.disconnected_timeout_s, p.max_session_s, p.enabled, "
    "p.created_at, p.updated_at, "
    "(SELECT count(*) FROM desktops d WHERE d.pool_id = p.id AND d.desired_state <> 'deleted') AS desktops, "
    "(SELECT count(*) FROM desktops d WHERE d.pool_id = p.id AND " + std::string(db::ready_desktop_sql()) + ") AS ready, "
    "(SELECT count(*) FROM desktops d WHERE d.pool_id = p.id AND d.assigned_user_id IS NOT NULL) AS in_use "
    "FROM pools p";
inline const std::string image_select =
    "SELECT i.id, i.name, i.version, i.state, i.state_path, i.memory_path, i.memory_mib, i.vcpus, i.fb_width, "
    "i.fb_height, i.description, i.error, i.created_at FROM golden_images i";
inline const std::string desktop_select =
    "SELECT d.id, d.pool_id, d.name, d.host_id, d.golden_image_id, d.desired_state, d.actual_state, d.generation, "
    "d.actual_generation, d.ready_generation, d.vnc_port, d.rdp_port, d.vmm_pid, d.owner_user_id, "
    "d.assigned_user_id, d.assigned_at, d.error, d.created_at, d.state_changed_at FROM desktops d";
inline const std::string session_select =
    "SELECT s.id, s.user_id, u.username, s.desktop_id, s.pool_id, s.desktop_generation, s.protocol, s.state, "
    "s.client_address, s.started_at, s.last_activity_at, s.disconnected_at, s.ended_at, s.end_reason "
    "FROM sessions s JOIN users u ON u.id = s.user_id";
inline const std::string host_select =
    "SELECT h.id, h.name, h.address, h.vcpus_total, h.memory_mib_total, h.max_concurrent_ops, h.state, "
    "h.agent_version, h.registered_at, h.last_heartbeat_at, "
    "(SELECT count(*) FROM desktops d WHERE d.host_id = h.id AND d.desired_state <> 'deleted') AS desktops "
    "FROM hosts h";
inline const std::string job_select =
    "SELECT j.id, j.type, j.pool_id, j.target_image_id, j.state, j.run_at, j.scheduled_for, j.force_after, "
    "j.progress_done, j.progress_total, j.cancel_requested, j.error, j.created_by, j.claimed_by, j.created_at, "
    "j.started_at, j.finished_at FROM jobs j";

inline nlohmann::json one(pqxx::transaction_base& tx, const std::string& select, const char* alias, long long id,
                   const std::string& what)
{
    auto row = query_json(tx, "SELECT row_to_json(r) FROM (" + select + " WHERE " + alias +
                                  ".id = $1) r",
                          std::vector<std::string>{std::to_string(id)});
    if (row.is_null()) {
        throw ApiError(404, "not_found", "no such " + what);
    }
    return row;
}

// Paging: ?limit= (1-1000, default 100) and ?before=ID (entries with smaller ids).
struct Page {
    long long limit = 100;
    std::optional<long long> before;
};

inline Page page_of(const ParsedRequest& request)
{
    Page page;
    page.limit = query_int(request, "limit", 1, 1000).value_or(100);
    page.before = query_int(request, "before", 1, 9'000'000'000'000'000'000LL);
    return page;
}

// Builds "WHERE a AND b ... ORDER BY id DESC LIMIT n" with numbered parameters.
class Filter {
public:
    explicit Filter(std::string alias) : alias_(std::move(alias)) {}
    template <typename T>
    void add(const std::string& condition, const T& value)
    {
        if constexpr (std::is_arithmetic_v<T>) {
            params_.push_back(std::to_string(value));
        } else {
            params_.push_back(value);
        }
        conditions_.push_back(fmt::format(fmt::runtime(condition), ++count_));
    }
    std::string sql(const std::string& select, const Page& page)
    {
        if (page.before) add(alias_ + ".id < ${}", *page.before);
        std::string where;
        for (const auto& c : conditions_) where += (where.empty() ? " WHERE " : " AND ") + c;
        return list_sql(select + where + " ORDER BY " + alias_ + ".id DESC LIMIT " + std::to_string(page.limit));
    }
    const std::vector<std::string>& params() const { return params_; }

private:
    std::string alias_;
    std::vector<std::string> params_;
    std::vector<std::string> conditions_;
    int count_ = 0;
};

}  // namespace vdi::broker::admin
