// Desktop pools, entitlements, and the jobs an admin starts on a pool: the
// /api/v1/admin/pools and /api/v1/admin/entitlements routes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vdi/common/api/json.h"

namespace vdi::api {

// GET /api/v1/admin/pools (a list of these), and the answer of every change to a pool.
struct Pool {
    Id id = 0;
    std::string name;
    std::string display_name;
    std::string assignment;  // "floating" | "dedicated"
    Id golden_image_id = 0;
    int min_ready = 0;
    int max_size = 0;
    std::vector<std::string> protocols;  // "vnc", "rdp"
    std::string refresh_policy;          // "on_logoff" | "never"
    std::optional<std::string> refresh_cron;
    std::optional<int> idle_timeout_s;  // nullopt: no limit
    std::optional<int> disconnected_timeout_s;
    std::optional<int> max_session_s;
    bool enabled = true;
    Time created_at;
    Time updated_at;
    long long desktops = 0;  // not deleted
    long long ready = 0;     // ready to hand out
    long long in_use = 0;    // assigned to a user
};

// One entitlement as GET /api/v1/admin/pools/{id} lists it: a user or a group, with its name.
struct PoolEntitlement {
    Id id = 0;
    std::optional<Id> user_id;
    std::optional<std::string> username;
    std::optional<Id> group_id;
    std::optional<std::string> group_name;
};

// GET /api/v1/admin/pools/{id}: the pool and its entitlements (newest first).
struct PoolDetail : Pool {
    std::vector<PoolEntitlement> entitlements;
};

// POST /api/v1/admin/pools (name and golden_image_id required) and PATCH
// /api/v1/admin/pools/{id} (fields left out keep their values). 0 for a timeout and "" for
// refresh_cron mean none.
struct PoolRequest {
    std::optional<std::string> name;
    std::optional<std::string> display_name;
    std::optional<std::string> assignment;
    std::optional<Id> golden_image_id;
    std::optional<int> min_ready;
    std::optional<int> max_size;
    std::optional<std::vector<std::string>> protocols;
    std::optional<std::string> refresh_policy;
    std::optional<std::string> refresh_cron;
    std::optional<int> idle_timeout_s;
    std::optional<int> disconnected_timeout_s;
    std::optional<int> max_session_s;
    std::optional<bool> enabled;
};

// POST /api/v1/admin/pools/{id}/entitlements: exactly one of the two.
struct EntitleRequest {
    std::optional<Id> user_id;
    std::optional<Id> group_id;
};
struct Entitlement {
    Id id = 0;
    Id pool_id = 0;
    std::optional<Id> user_id;
    std::optional<Id> group_id;
};

// POST /api/v1/admin/pools/{id}/refresh (answer: the job, api/job.h)
struct RefreshPoolRequest {
    std::optional<int> force_after_s;  // default 3600
};

// POST /api/v1/admin/pools/{id}/push (answer: the job)
struct PushImageRequest {
    Id image_id = 0;
    std::optional<int> force_after_s;  // default 3600
};

void to_json(nlohmann::json& j, const Pool& v);
void from_json(const nlohmann::json& j, Pool& v);
void to_json(nlohmann::json& j, const PoolEntitlement& v);
void from_json(const nlohmann::json& j, PoolEntitlement& v);
void to_json(nlohmann::json& j, const PoolDetail& v);
void from_json(const nlohmann::json& j, PoolDetail& v);
void to_json(nlohmann::json& j, const PoolRequest& v);
void from_json(const nlohmann::json& j, PoolRequest& v);
void to_json(nlohmann::json& j, const EntitleRequest& v);
void from_json(const nlohmann::json& j, EntitleRequest& v);
void to_json(nlohmann::json& j, const Entitlement& v);
void from_json(const nlohmann::json& j, Entitlement& v);
void to_json(nlohmann::json& j, const RefreshPoolRequest& v);
void from_json(const nlohmann::json& j, RefreshPoolRequest& v);
void to_json(nlohmann::json& j, const PushImageRequest& v);
void from_json(const nlohmann::json& j, PushImageRequest& v);

}  // namespace vdi::api
