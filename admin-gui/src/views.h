// How vdictl shows the broker's answers to a person: one table and one detail listing per
// resource. This is the one place that reads the fields of the admin API's responses.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace vdi::admin {

// Pool names by id, to show "demo" rather than "3" where an answer holds a pool_id.
using PoolNames = std::map<long long, std::string>;
PoolNames pool_names(const nlohmann::json& pools);

using Width = std::optional<std::size_t>;

std::string users_table(const nlohmann::json& users, Width width);
std::string user_details(const nlohmann::json& user);
std::string groups_table(const nlohmann::json& groups, Width width);
std::string group_details(const nlohmann::json& group, Width width);
std::string pools_table(const nlohmann::json& pools, Width width);
std::string pool_details(const nlohmann::json& pool, Width width);
std::string images_table(const nlohmann::json& images, Width width);
std::string image_details(const nlohmann::json& image);
std::string desktops_table(const nlohmann::json& desktops, const PoolNames& pools, Width width);
std::string sessions_table(const nlohmann::json& sessions, const PoolNames& pools, Width width);
std::string hosts_table(const nlohmann::json& hosts, Width width);
std::string jobs_table(const nlohmann::json& jobs, const PoolNames& pools, Width width);
std::string job_details(const nlohmann::json& job, const PoolNames& pools);
std::string audit_table(const nlohmann::json& entries, Width width);

// One line for a change's answer: "created pool demo (id 4)".
std::string describe(const nlohmann::json& object, const std::string& kind);

// The id of the last row of a paged list, for "--before ID" (nullopt when empty).
std::optional<long long> last_id(const nlohmann::json& rows);

// Fields of the login and status answers.
struct LoginInfo {
    std::string token;
    std::string expires_at;
    std::string username;
    std::string role;
};
LoginInfo login_info(const nlohmann::json& login);
std::string me_details(const nlohmann::json& me);

// For status: counts from the lists.
std::string status_summary(const nlohmann::json& users, const nlohmann::json& pools, const nlohmann::json& hosts,
                           const nlohmann::json& live_sessions);

}  // namespace vdi::admin
