// How vdictl shows the broker's answers to a person: one table and one detail listing per
// resource, from the API contract's types (vdi/common/api/).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vdi/common/api/audit.h"
#include "vdi/common/api/desktop.h"
#include "vdi/common/api/group.h"
#include "vdi/common/api/host.h"
#include "vdi/common/api/image.h"
#include "vdi/common/api/job.h"
#include "vdi/common/api/pool.h"
#include "vdi/common/api/session.h"
#include "vdi/common/api/user.h"

namespace vdi::admin {

// Pool names by id, to show "demo" rather than "3" where an answer holds a pool_id.
using PoolNames = std::map<api::Id, std::string>;
PoolNames pool_names(const std::vector<api::Pool>& pools);

using Width = std::optional<std::size_t>;

std::string users_table(const std::vector<api::User>& users, Width width);
std::string user_details(const api::UserDetail& user);
std::string groups_table(const std::vector<api::Group>& groups, Width width);
std::string group_details(const api::GroupDetail& group, Width width);
std::string pools_table(const std::vector<api::Pool>& pools, Width width);
std::string pool_details(const api::PoolDetail& pool, Width width);
std::string images_table(const std::vector<api::Image>& images, Width width);
std::string image_details(const api::Image& image);
std::string desktops_table(const std::vector<api::Desktop>& desktops, const PoolNames& pools, Width width);
std::string sessions_table(const std::vector<api::Session>& sessions, const PoolNames& pools, Width width);
std::string hosts_table(const std::vector<api::Host>& hosts, Width width);
std::string jobs_table(const std::vector<api::Job>& jobs, const PoolNames& pools, Width width);
std::string job_details(const api::Job& job, const PoolNames& pools);
// GET /api/v1/admin/sessions/{id}/timing as indented trees: each stage's start and length on
// the connect's timeline, the pool's p50 and p95 beside it, the unaccounted time of each level.
std::string timing_text(const nlohmann::json& timing);
std::string audit_table(const std::vector<api::AuditEntry>& entries, Width width);
std::string me_details(const api::Me& me);

// For status: the counts, from the lists.
std::string status_summary(const std::vector<api::User>& users, const std::vector<api::Pool>& pools,
                           const std::vector<api::Host>& hosts, const std::vector<api::Session>& live_sessions);

// A timestamp in local time ("2026-11-22 07:14:26"), "-" for none.
std::string show_time(const std::optional<api::Time>& time);

}  // namespace vdi::admin
