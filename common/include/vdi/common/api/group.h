// User groups and their members: the /api/v1/admin/groups routes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vdi/common/api/json.h"
#include "vdi/common/api/user.h"

namespace vdi::api {

// GET /api/v1/admin/groups (a list of these), POST's answer.
struct Group {
    Id id = 0;
    std::string name;
    std::string description;
    long long members = 0;  // how many
};

// GET /api/v1/admin/groups/{id}: here `members` are the users themselves (newest first).
struct GroupDetail {
    Id id = 0;
    std::string name;
    std::string description;
    std::vector<User> members;
};

// POST /api/v1/admin/groups
struct CreateGroupRequest {
    std::string name;
    std::optional<std::string> description;
};

// POST /api/v1/admin/groups/{id}/members (idempotent: `added` is false for a member already)
struct AddMemberRequest {
    Id user_id = 0;
};
struct MemberAdded {
    Id group_id = 0;
    Id user_id = 0;
    bool added = false;
};

// DELETE /api/v1/admin/groups/{id}/members/{user}
struct MemberRemoved {
    Id group_id = 0;
    Id user_id = 0;
    bool removed = true;
};

void to_json(nlohmann::json& j, const Group& v);
void from_json(const nlohmann::json& j, Group& v);
void to_json(nlohmann::json& j, const GroupDetail& v);
void from_json(const nlohmann::json& j, GroupDetail& v);
void to_json(nlohmann::json& j, const CreateGroupRequest& v);
void from_json(const nlohmann::json& j, CreateGroupRequest& v);
void to_json(nlohmann::json& j, const AddMemberRequest& v);
void from_json(const nlohmann::json& j, AddMemberRequest& v);
void to_json(nlohmann::json& j, const MemberAdded& v);
void from_json(const nlohmann::json& j, MemberAdded& v);
void to_json(nlohmann::json& j, const MemberRemoved& v);
void from_json(const nlohmann::json& j, MemberRemoved& v);

}  // namespace vdi::api
