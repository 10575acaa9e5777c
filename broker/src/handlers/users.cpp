// The admin's user endpoints: /api/v1/admin/users. Every change is audited in its transaction.
#include "handler_support.h"
#include "to_api.h"
#include "vdi/broker/api.h"
#include "vdi/common/db/api_token_repository.h"
#include "vdi/common/db/session_repository.h"
#include "vdi/common/db/user_repository.h"

namespace vdi::broker {

namespace {

db::User found(pqxx::transaction_base& tx, db::Id id)
{
    auto user = db::UserRepository(tx).find(id);
    if (!user) throw ApiError(404, "not_found", "no such user");
    return *user;
}

}  // namespace

Api::Reply Api::list_users(const Call&)
{
    const auto users =
        transact(pool_, "list users", [&](pqxx::work& tx) { return db::UserRepository(tx).list_newest_first(); });
    nlohmann::json out = nlohmann::json::array();
    for (const auto& user : users) out.push_back(to_api(user));
    return {200, out};
}

Api::Reply Api::create_user(const Call& call)
{
    const nlohmann::json& body = call.request.body;
    const std::string hash = hash_password(body["password"].get<std::string>(), settings_.password_hash);
    return {201, transact(pool_, "create a user", [&](pqxx::work& tx) {
                db::NewUser fresh;
                fresh.username = body["username"];
                fresh.display_name = body.value("display_name", "");
                fresh.password_hash = hash;
                fresh.role = db::enum_from_string<db::UserRole>(body.value("role", "user"));
                const auto user = db::UserRepository(tx).create(fresh);
                audit(tx, call.caller, "user.create", "user", std::to_string(user.id),
                      {{"username", user.username}, {"role", db::to_string(user.role)}});
                return nlohmann::json(to_api(user));
            })};
}

Api::Reply Api::show_user(const Call& call)
{
    const auto id = id_param(call.request, 0);
    return {200, transact(pool_, "show a user", [&](pqxx::work& tx) {
                api::UserDetail user{to_api(found(tx, id)), {}};
                for (const auto& group : db::UserRepository(tx).groups_of(id)) user.groups.push_back(group.name);
                return nlohmann::json(user);
            })};
}

Api::Reply Api::update_user(const Call& call)
{
    const auto id = id_param(call.request, 0);
    const nlohmann::json& body = call.request.body;
    const Caller& caller = call.caller;
    std::optional<std::string> hash;
    if (body.contains("password")) hash = hash_password(body["password"].get<std::string>(), settings_.password_hash);
    return {200, transact(pool_, "update a user", [&](pqxx::work& tx) {
                db::UserRepository users(tx);
                if (!users.find(id)) throw ApiError(404, "not_found", "no such user");
                nlohmann::json changed = nlohmann::json::array();
                if (body.contains("display_name")) {
                    users.set_display_name(id, body["display_name"].get<std::string>());
                    changed.push_back("display_name");
                }
                if (body.contains("role")) {
                    if (id == caller.user.id && body["role"] != "admin") {
                        throw ApiError(409, "conflict", "you cannot take your own admin role away");
                    }
                    users.set_role(id, db::enum_from_string<db::UserRole>(body["role"].get<std::string>()));
                    changed.push_back("role");
                }
                if (hash) {
                    users.set_password_hash(id, *hash);
                    db::ApiTokenRepository(tx).revoke_all_for_user(id);
                    changed.push_back("password");
                }
                if (body.contains("disabled")) {
                    if (id == caller.user.id && body["disabled"] == true) {
                        throw ApiError(409, "conflict", "you cannot disable yourself");
                    }
                    users.set_disabled(id, body["disabled"]);
                    if (body["disabled"] == true) db::ApiTokenRepository(tx).revoke_all_for_user(id);
                    changed.push_back("disabled");
                }
                audit(tx, caller, "user.update", "user", std::to_string(id), {{"changed", changed}});
                return nlohmann::json(to_api(found(tx, id)));
            })};
}

Api::Reply Api::delete_user(const Call& call)
{
    const auto id = id_param(call.request, 0);
    return {200, transact(pool_, "delete a user", [&](pqxx::work& tx) {
                if (id == call.caller.user.id) throw ApiError(409, "conflict", "you cannot delete yourself");
                const auto user = found(tx, id);
                db::UserRepository users(tx);
                if (db::SessionRepository(tx).any_for_user(id)) {
                    throw ApiError(409, "conflict", "the user has session history; disable the account instead");
                }
                users.remove(id);
                audit(tx, call.caller, "user.delete", "user", std::to_string(id), {{"username", user.username}});
                return nlohmann::json(api::Deleted{id});
            })};
}

Api::Reply Api::disable_user(const Call& call)
{
    const auto id = id_param(call.request, 0);
    return {200, transact(pool_, "disable a user", [&](pqxx::work& tx) {
                if (id == call.caller.user.id) throw ApiError(409, "conflict", "you cannot disable yourself");
                if (!db::UserRepository(tx).set_disabled(id, true)) throw ApiError(404, "not_found", "no such user");
                const int revoked = db::ApiTokenRepository(tx).revoke_all_for_user(id);
                audit(tx, call.caller, "user.disable", "user", std::to_string(id), {{"tokens_revoked", revoked}});
                return nlohmann::json(to_api(found(tx, id)));
            })};
}

}  // namespace vdi::broker
