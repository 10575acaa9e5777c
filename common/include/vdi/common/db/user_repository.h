// Users, groups and group memberships (tables users, groups, group_members).
//
// Repositories are thin, stateless views over a transaction the caller owns (see
// in_transaction() in database.h), so several repositories can act in one transaction.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vdi/common/db/database.h"
#include "vdi/common/db/enums.h"

namespace vdi::db {

struct User {
    Id id = 0;
    std::string username;
    std::string display_name;
    std::string password_hash;  // Argon2id, libsodium encoded form
    UserRole role = UserRole::user;
    bool disabled = false;
    Timestamp created_at;
    std::optional<Timestamp> last_login_at;
};

struct NewUser {
    std::string username;
    std::string display_name;
    std::string password_hash;
    UserRole role = UserRole::user;
};

struct Group {
    Id id = 0;
    std::string name;
    std::string description;
};

// A group as the admin API lists it: with how many members it has.
struct GroupSummary : Group {
    std::int64_t members = 0;
};

class UserRepository {
public:
    explicit UserRepository(pqxx::transaction_base& tx) : tx_(tx) {}

    // ConflictError if the name is taken (case-insensitively) or invalid.
    User create(const NewUser& user);
    std::optional<User> find(Id id);
    // Case-insensitive, as logins are.
    std::optional<User> find_by_username(const std::string& username);
    // The user a live API token (by its SHA-256) belongs to, if the token is unexpired and
    // unrevoked and the user not disabled; records the use (at most once a minute).
    std::optional<User> find_by_api_token(const std::string& token_hash_hex);
    std::vector<User> list();
    // Every user, newest first (the admin API's order).
    std::vector<User> list_newest_first();
    bool set_disabled(Id id, bool disabled);
    bool set_role(Id id, UserRole role);
    bool set_password_hash(Id id, const std::string& password_hash);
    bool record_login(Id id);
    bool set_display_name(Id id, const std::string& display_name);
    // Deletes the user and their entitlements (memberships and tokens go by cascade); false if
    // there was no such user. The caller checks for session history first, which blocks it.
    bool remove(Id id);

    Group create_group(const std::string& name, const std::string& description = "");
    std::optional<Group> find_group_by_name(const std::string& name);
    std::vector<Group> list_groups();
    // Every group with its member count, newest first; one group with its count.
    std::vector<GroupSummary> list_group_summaries();
    std::optional<GroupSummary> find_group(Id group_id);
    // Idempotent: adding an existing member is not an error. Returns true if it was added now.
    bool add_member(Id group_id, Id user_id);
    bool remove_member(Id group_id, Id user_id);
    std::vector<Group> groups_of(Id user_id);
    // Newest (highest id) first.
    std::vector<User> members_of(Id group_id);
    // Deletes the group with its memberships and entitlements; false if there was no such group.
    bool remove_group(Id group_id);

private:
    pqxx::transaction_base& tx_;
};

}  // namespace vdi::db
