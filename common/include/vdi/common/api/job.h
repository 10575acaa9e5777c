// Jobs (pool refresh, image push): the /api/v1/admin/jobs routes, and the answer of
// POST /api/v1/admin/pools/{id}/refresh and /push (their requests are in api/pool.h).
#pragma once

#include <optional>
#include <string>

#include "vdi/common/api/json.h"

namespace vdi::api {

struct Job {
    Id id = 0;
    std::string type;  // "refresh_pool" | "image_push"
    Id pool_id = 0;
    std::optional<Id> target_image_id;  // image_push
    std::string state;                  // "queued" | "running" | "succeeded" | "failed" | "cancelled"
    Time run_at;
    std::optional<Time> scheduled_for;  // the cron tick (nullopt: started by an admin)
    std::optional<Time> force_after;
    int progress_done = 0;
    int progress_total = 0;
    bool cancel_requested = false;
    std::optional<std::string> error;
    std::optional<Id> created_by;
    std::optional<std::string> claimed_by;
    Time created_at;
    std::optional<Time> started_at;
    std::optional<Time> finished_at;
};

void to_json(nlohmann::json& j, const Job& v);
void from_json(const nlohmann::json& j, Job& v);

}  // namespace vdi::api
