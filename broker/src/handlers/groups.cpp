// The admin's group endpoints: /api/v1/admin/groups and their members.
#include "handler_support.h"
#include "to_api.h"
#include "vdi/broker/api.h"
#include "vdi/common/api/group.h"
#include "vdi/common/db/user_repository.h"

namespace vdi::broker {

namespace {

db::GroupSummary found(pqxx::transaction_base& tx, db::Id id)
{
    auto group = db::UserRepository(tx).find_group(id);
    if (!group) throw ApiError(404, "not_found", "no such group");
    return *group;
}

}  // namespace

Api::Reply Api::list_groups(const Call&)
{
    const auto groups =
        transact(pool_, "list groups", [&](pqxx::work& tx) { return db::UserRepository(tx).list_group_summaries(); });
    nlohmann::json out = nlohmann::json::array();
    for (const auto& group : groups) out.push_back(to_api(group));
    return {200, out};
}

Api::Reply Api::create_group(const Call& call)
{
    const nlohmann::json& body = call.request.body;
    return {201, transact(pool_, "create a group", [&](pqxx::work& tx) {
                const auto group = db::UserRepository(tx).create_group(body["name"], body.value("description", ""));
                audit(tx, call.caller, "group.create", "group", std::to_string(group.id), {{"name", group.name}});
                return nlohmann::json(to_api(found(tx, group.id)));
            })};
}

Api::Reply Api::show_group(const Call& call)
{
    const auto id = id_param(call.request, 0);
    return {200, transact(pool_, "show a group", [&](pqxx::work& tx) {
                const auto group = found(tx, id);
                api::GroupDetail detail{group.id, group.name, group.description, {}};
                for (const auto& user : db::UserRepository(tx).members_of(id)) detail.members.push_back(to_api(user));
                return nlohmann::json(detail);
            })};
}

Api::Reply Api::delete_group(const Call& call)
{
    const auto id = id_param(call.request, 0);
    return {200, transact(pool_, "delete a group", [&](pqxx::work& tx) {
                const auto group = found(tx, id);
                db::UserRepository(tx).remove_group(id);
                audit(tx, call.caller, "group.delete", "group", std::to_string(id), {{"name", group.name}});
                return nlohmann::json(api::Deleted{id});
            })};
}

Api::Reply Api::add_member(const Call& call)
{
    const auto id = id_param(call.request, 0);
    const auto user_id = call.request.body["user_id"].get<api::Id>();
    return {200, transact(pool_, "add a group member", [&](pqxx::work& tx) {
                found(tx, id);
                if (!db::UserRepository(tx).find(user_id)) throw ApiError(404, "not_found", "no such user");
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
