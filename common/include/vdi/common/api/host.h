// Hypervisor hosts: GET /api/v1/admin/hosts.
#pragma once

#include <string>

#include "vdi/common/api/json.h"

namespace vdi::api {

struct Host {
    Id id = 0;
    std::string name;
    std::string address;
    int vcpus_total = 0;
    long long memory_mib_total = 0;
    int max_concurrent_ops = 0;
    std::string state;  // "online" | "lost" | "offline" (liveness)
    bool drained = false;  // no new desktops are placed here
    std::string agent_version;
    Time registered_at;
    Time last_heartbeat_at;
    long long desktops = 0;  // placed on it, not deleted
};

void to_json(nlohmann::json& j, const Host& v);
void from_json(const nlohmann::json& j, Host& v);

}  // namespace vdi::api
