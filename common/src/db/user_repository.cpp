// SQL for users, groups and memberships.
#include "vdi/common/db/user_repository.h"

namespace vdi::db {
namespace {

constexpr const char* user_columns =
    "u.id, u.username, u.display_name, u.password_hash, u.role, u.disabled, u.created_at, u.last_login_at";

User user_from_row(const pqxx::row& row)
{
    User user;
    user.id = get<Id>(row, "id");
    user.username = get<std::string>(row, "username");
    user.display_name = get<std::string>(row, "display_name");
    user.password_hash = get<std::string>(row, "password_hash");
    user.role = enum_from_string<UserRole>(get<std::string>(row, "role"));
    user.disabled = get<bool>(row, "disabled");
    user.created_at = get_time(row, "created_at");
    user.last_login_at = get_optional_time(row, "last_login_at");
    return user;
}

Group group_from_row(const pqxx::row& row)
{
    return Group{get<Id>(row, "id"), get<std::string>(row, "name"), get<std::string>(row, "description")};
}

constexpr const char* group_summary_select =
    "SELECT g.id, g.name, g.description, "
    "(SELECT count(*) FROM group_members m WHERE m.group_id = g.id) AS members FROM groups g";

GroupSummary group_summary_from_row(const pqxx::row& row)
{
    GroupSummary group{group_from_row(row)};
    group.members = get<std::int64_t>(row, "members");
    return group;
}

}  // namespace

User UserRepository::create(const NewUser& user)
{
    const auto row = tx_.exec_params1(
        std::string("INSERT INTO users AS u (username, display_name, password_hash, role) "
                    "VALUES ($1, $2, $3, $4::user_role) RETURNING ") + user_columns,
        user.username, user.display_name, user.password_hash, to_string(user.role));
    return user_from_row(row);
}

std::optional<User> UserRepository::find(Id id)
{
    const auto result = tx_.exec_params(std::string("SELECT ") + user_columns + " FROM users u WHERE u.id = $1", id);
    return first_row(result, user_from_row);
}

std::optional<User> UserRepository::find_by_api_token(const std::string& token_hash_hex)
{
    // one statement (api_token_user(), sql/0004, which broker_connect() shares)
    return first_row(exec_cached(tx_, "vdi_user_by_api_token",
                                 std::string("SELECT ") + user_columns + " FROM api_token_user(decode($1, 'hex')) u",
                                 token_hash_hex),
                     user_from_row);
}

std::optional<User> UserRepository::find_by_username(const std::string& username)
{
    const auto result = tx_.exec_params(
        std::string("SELECT ") + user_columns + " FROM users u WHERE lower(u.username) = lower($1)", username);
    return first_row(result, user_from_row);
}

std::vector<User> UserRepository::list()
{
    return map_rows(tx_.exec(std::string("SELECT ") + user_columns + " FROM users u ORDER BY lower(u.username)"), user_from_row);
}

std::vector<User> UserRepository::list_newest_first()
{
    return map_rows(tx_.exec(std::string("SELECT ") + user_columns + " FROM users u ORDER BY u.id DESC"), user_from_row);
}

bool UserRepository::set_disabled(Id id, bool disabled)
{
    return tx_.exec_params("UPDATE users SET disabled = $2, updated_at = now() WHERE id = $1", id, disabled)
               .affected_rows() == 1;
}

bool UserRepository::set_role(Id id, UserRole role)
{
    return tx_.exec_params("UPDATE users SET role = $2::user_role, updated_at = now() WHERE id = $1", id,
                           to_string(role))
               .affected_rows() == 1;
}

bool UserRepository::set_password_hash(Id id, const std::string& password_hash)
{
    return tx_.exec_params("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1", id, password_hash)
               .affected_rows() == 1;
}

bool UserRepository::record_login(Id id)
{
    return tx_.exec_params("UPDATE users SET last_login_at = now() WHERE id = $1", id).affected_rows() == 1;
}

Group UserRepository::create_group(const std::string& name, const std::string& description)
{
    return group_from_row(tx_.exec_params1(
        "INSERT INTO groups (name, description) VALUES ($1, $2) RETURNING id, name, description", name, description));
}

std::optional<Group> UserRepository::find_group_by_name(const std::string& name)
{
    const auto result =
        tx_.exec_params("SELECT id, name, description FROM groups WHERE lower(name) = lower($1)", name);
    return first_row(result, group_from_row);
}

std::vector<Group> UserRepository::list_groups()
{
    return map_rows(tx_.exec("SELECT id, name, description FROM groups ORDER BY lower(name)"), group_from_row);
}

std::vector<GroupSummary> UserRepository::list_group_summaries()
{
    return map_rows(tx_.exec(std::string(group_summary_select) + " ORDER BY g.id DESC"), group_summary_from_row);
}

std::optional<GroupSummary> UserRepository::find_group(Id group_id)
{
    return first_row(tx_.exec_params(std::string(group_summary_select) + " WHERE g.id = $1", group_id),
                     group_summary_from_row);
}

bool UserRepository::add_member(Id group_id, Id user_id)
{
    return tx_.exec_params("INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                           group_id, user_id)
               .affected_rows() == 1;
}

bool UserRepository::remove_member(Id group_id, Id user_id)
{
    return tx_.exec_params("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2", group_id, user_id)
               .affected_rows() == 1;
}

std::vector<Group> UserRepository::groups_of(Id user_id)
{
    return map_rows(tx_.exec_params("SELECT g.id, g.name, g.description FROM groups g "
                                       "JOIN group_members m ON m.group_id = g.id WHERE m.user_id = $1 "
                                       "ORDER BY lower(g.name)",
                                       user_id),
                    group_from_row);
}

std::vector<User> UserRepository::members_of(Id group_id)
{
    return map_rows(tx_.exec_params(std::string("SELECT ") + user_columns +
                                          " FROM users u JOIN group_members m ON m.user_id = u.id "
                                          "WHERE m.group_id = $1 ORDER BY u.id DESC",
                                      group_id),
                    user_from_row);
}

bool UserRepository::set_display_name(Id id, const std::string& display_name)
{
    return tx_.exec_params("UPDATE users SET display_name = $2 WHERE id = $1", id, display_name).affected_rows() == 1;
}

bool UserRepository::remove(Id id)
{
    tx_.exec_params("DELETE FROM entitlements WHERE user_id = $1", id);
    return tx_.exec_params("DELETE FROM users WHERE id = $1", id).affected_rows() == 1;
}

bool UserRepository::remove_group(Id group_id)
{
    tx_.exec_params("DELETE FROM entitlements WHERE group_id = $1", group_id);
    tx_.exec_params("DELETE FROM group_members WHERE group_id = $1", group_id);
    return tx_.exec_params("DELETE FROM groups WHERE id = $1", group_id).affected_rows() == 1;
}

}  // namespace vdi::db
