// JSON conversion of the group bodies.
#include "vdi/common/api/group.h"

namespace vdi::api {
namespace {

constexpr auto group_fields = [](auto& v, auto&& f) {
    f("id", v.id);
    f("name", v.name);
    f("description", v.description);
    f("members", v.members);
};
constexpr auto create_group_fields = [](auto& v, auto&& f) {
    f("name", v.name);
    f("description", v.description);
};
constexpr auto add_member_fields = [](auto& v, auto&& f) { f("user_id", v.user_id); };
constexpr auto member_added_fields = [](auto& v, auto&& f) {
    f("group_id", v.group_id);
    f("user_id", v.user_id);
    f("added", v.added);
};
constexpr auto member_removed_fields = [](auto& v, auto&& f) {
    f("group_id", v.group_id);
    f("user_id", v.user_id);
    f("removed", v.removed);
};

}  // namespace

void to_json(nlohmann::json& j, const Group& v) { field::write_response(j, v, group_fields); }
void from_json(const nlohmann::json& j, Group& v) { field::read(j, v, group_fields); }
void to_json(nlohmann::json& j, const GroupDetail& v) { field::write_response(j, v, group_fields); }
void from_json(const nlohmann::json& j, GroupDetail& v) { field::read(j, v, group_fields); }
void to_json(nlohmann::json& j, const CreateGroupRequest& v) { field::write_request(j, v, create_group_fields); }
void from_json(const nlohmann::json& j, CreateGroupRequest& v) { field::read(j, v, create_group_fields); }
void to_json(nlohmann::json& j, const AddMemberRequest& v) { field::write_request(j, v, add_member_fields); }
void from_json(const nlohmann::json& j, AddMemberRequest& v) { field::read(j, v, add_member_fields); }
void to_json(nlohmann::json& j, const MemberAdded& v) { field::write_response(j, v, member_added_fields); }
void from_json(const nlohmann::json& j, MemberAdded& v) { field::read(j, v, member_added_fields); }
void to_json(nlohmann::json& j, const MemberRemoved& v) { field::write_response(j, v, member_removed_fields); }
void from_json(const nlohmann::json& j, MemberRemoved& v) { field::read(j, v, member_removed_fields); }

}  // namespace vdi::api
