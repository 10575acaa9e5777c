// The admin's group endpoints: /api/v1/admin/groups and their members.
#include "admin_reads.h"
#include "handler_support.h"
#include "vdi/broker/api.h"
#include "vdi/common/api/group.h"
#include "vdi/common/db/user_repository.h"

namespace vdi::broker {

using admin::group_select;
using admin::list_sql;
using admin::one;
using admin::query_json;
using admin::user_select;

Api::Reply Api::list_groups(const Call&)
{
    return {200, transact(pool_, "list groups", [&](pqxx::work& tx) { return query_json(tx, list_sql(group_select)); })};
}

Api::Reply Api::create_group(const Call& call)
{
    const nlohmann::json& body = call.request.body;
    return {201, transact(pool_, "create a group", [&](pqxx::work& tx) {
                const auto group = db::UserRepository(tx).create_group(body["name"], body.value("description", ""));
                audit(tx, call.caller, "group.create", "group", std::to_string(group.id), {{"name", group.name}});
                return one(tx, group_select, "g", group.id, "group");
            })};
}

Api::Reply Api::show_group(const Call& call)
{
    const auto id = id_param(call.request, 0);
    return {200, transact(pool_, "show a group", [&](pqxx::work& tx) {
                auto group = one(tx, group_select, "g", id, "group");
                group["members"] = query_json(
                    tx, list_sql(user_select + " JOIN group_members m ON m.user_id = u.id WHERE m.group_id = $1"),
                    std::vector<std::string>{std::to_string(id)});
                return group;
            })};
}

Api::Reply Api::delete_group(const Call& call)
{
    const auto id = id_param(call.request, 0);
    return {200, transact(pool_, "delete a group", [&](pqxx::work& tx) {
                const auto group = one(tx, group_select, "g", id, "group");
                db::UserRepository(tx).remove_group(id);
                audit(tx, call.caller, "group.delete", "group", std::to_string(id), {{"name", group["name"]}});
                return nlohmann::json(api::Deleted{id});
            })};
}

Api::Reply Api::add_member(const Call& call)
{
    const auto id = id_param(call.request, 0);
    const auto user_id = call.request.body["user_id"].get<api::Id>();
    return {200, transact(pool_, "add a group member", [&](pqxx::work& tx) {
                one(tx, group_select, "g", id, "group");
                one(tx, user_select, "u", user_id, "user");
                const bool added = db::UserRepository(tx).add_member(id, user_id);
                audit(tx, call.caller, "group.add_member", "group", std::to_string(id), {{"user_id", user_id}});
                return nlohmann::json(api::MemberAdded{id, user_id, added});
            })};
}

Api::Reply Api::remove_member(const Call& call)
{
    const auto id = id_param(call.request, 0);
    const auto user_id = id_param(call.request, 1);
    return {200, transact(pool_, "remove a group member", [&](pqxx::work& tx) {
                if (!db::UserRepository(tx).remove_member(id, user_id)) {
                    throw ApiError(404, "not_found", "no such member");
                }
                audit(tx, call.caller, "group.remove_member", "group", std::to_string(id), {{"user_id", user_id}});
                return nlohmann::json(api::MemberRemoved{id, user_id, true});
            })};
}

}  // namespace vdi::broker
