// vdictl user ... and vdictl group ...: accounts, groups and memberships through the admin API.
#include <iostream>

#include <fmt/format.h>

#include "commands.h"
#include "vdi/common/api/json.h"
#include "views.h"

namespace vdi::admin {

namespace {

std::string user_path(CliContext& context, const std::string& ref)
{
    return "/api/v1/admin/users/" + std::to_string(context.resolve("user", ref));
}

std::string group_path(CliContext& context, const std::string& ref)
{
    return "/api/v1/admin/groups/" + std::to_string(context.resolve("group", ref));
}

struct UserOptions {
    std::string ref;
    std::optional<std::string> display_name;
    std::optional<std::string> role;
    bool password = false;        // update: set a new one
    bool password_stdin = false;  // read it from stdin
};

void add_users(CLI::App& app, Action& action)
{
    auto* user = app.add_subcommand("user", "user accounts (admin API /api/v1/admin/users)");
    user->alias("users");
    user->require_subcommand(1);
    auto o = std::make_shared<UserOptions>();
    const auto ref = [&o](CLI::App* command) {
        command->add_option("user", o->ref, "user name (or id)")->required();
    };

    add_leaf(user, "list", "list users", action, [](CliContext& c) {
        const auto users = c.get<std::vector<api::User>>("/api/v1/admin/users");
        print_list(c, users, users_table(users, c.table_width()));
        return 0;
    });
    ref(add_leaf(user, "show", "one user and their groups", action, [o](CliContext& c) {
        print_done(c, user_details(c.get<api::UserDetail>(user_path(c, o->ref))));
        return 0;
    }));

    auto* add = add_leaf(user, "add", "create a user (password from the terminal, or stdin)", action, [o](CliContext& c) {
        api::CreateUserRequest request;
        request.username = o->ref;
        request.password = read_secret("password for " + o->ref + ": ", o->password_stdin);
        request.display_name = o->display_name;
        request.role = o->role;
        const auto created = c.call_as<api::User>("POST", "/api/v1/admin/users", request);
        print_done(c, fmt::format("created user {} (id {}, role {})", created.username, created.id, created.role));
        return 0;
    });
    add->add_option("user", o->ref, "user name")->required();
    add->add_option("--display-name", o->display_name, "full name shown in clients");
    add->add_option("--role", o->role, "user (default), admin, helpdesk (reads, acts on sessions) or auditor (reads)")
        ->check(CLI::IsMember({"user", "admin", "helpdesk", "auditor"}));
    add->add_flag("--password-stdin", o->password_stdin, "read the password from the first line of stdin");

    auto* update = add_leaf(user, "update", "change a user's display name, role or password", action, [o](CliContext& c) {
        api::UpdateUserRequest request;
        request.display_name = o->display_name;
        request.role = o->role;
        if (!o->display_name && !o->role && !o->password && !o->password_stdin) {
            throw CliExit(Exit::usage, "nothing to change: give --display-name, --role or --password");
        }
        const std::string path = user_path(c, o->ref);
        if (o->password || o->password_stdin) {
            request.password = read_secret("new password for " + o->ref + ": ", o->password_stdin);
        }
        const auto updated = c.call_as<api::User>("PATCH", path, request);
        print_done(c, fmt::format("updated user {} (id {})", updated.username, updated.id));
        return 0;
    });
    update->alias("set");
    ref(update);
    update->add_option("--display-name", o->display_name, "full name shown in clients");
    update->add_option("--role", o->role, "user, admin, helpdesk or auditor")
        ->check(CLI::IsMember({"user", "admin", "helpdesk", "auditor"}));
    update->add_flag("--password", o->password, "set a new password (asked; revokes the user's tokens)");
    update->add_flag("--password-stdin", o->password_stdin, "set a new password, read from the first line of stdin");

    ref(add_leaf(user, "disable", "disable a user: no more logins, their tokens revoked", action, [o](CliContext& c) {
        const auto changed = c.call_as<api::User>("POST", user_path(c, o->ref) + "/disable");
        print_done(c, fmt::format("disabled user {} (id {}): no more logins, tokens revoked", changed.username, changed.id));
        return 0;
    }));
    ref(add_leaf(user, "enable", "enable a disabled user", action, [o](CliContext& c) {
        api::UpdateUserRequest request;
        request.disabled = false;
        const auto changed = c.call_as<api::User>("PATCH", user_path(c, o->ref), request);
        print_done(c, fmt::format("enabled user {} (id {})", changed.username, changed.id));
        return 0;
    }));
    ref(add_leaf(user, "delete", "delete a user without session history (else disable them)", action, [o](CliContext& c) {
        const auto deleted = c.call_as<api::Deleted>("DELETE", user_path(c, o->ref));
        print_done(c, fmt::format("deleted user {} (id {})", o->ref, deleted.id));
        return 0;
    }));
}

struct GroupOptions {
    std::string ref;
    std::string user;
    std::optional<std::string> description;
};

void add_groups(CLI::App& app, Action& action)
{
    auto* group = app.add_subcommand("group", "groups of users, for entitlements (/api/v1/admin/groups)");
    group->alias("groups");
    group->require_subcommand(1);
    auto o = std::make_shared<GroupOptions>();
    const auto ref = [&o](CLI::App* command) {
        command->add_option("group", o->ref, "group name (or id)")->required();
    };
    const auto member = [&o](CLI::App* command) {
        command->add_option("user", o->user, "user name (or id)")->required();
    };

    add_leaf(group, "list", "list groups with their member counts", action, [](CliContext& c) {
        const auto groups = c.get<std::vector<api::Group>>("/api/v1/admin/groups");
        print_list(c, groups, groups_table(groups, c.table_width()));
        return 0;
    });
    ref(add_leaf(group, "show", "one group and its members", action, [o](CliContext& c) {
        print_done(c, group_details(c.get<api::GroupDetail>(group_path(c, o->ref)), c.table_width()));
        return 0;
    }));
    auto* add = add_leaf(group, "add", "create a group", action, [o](CliContext& c) {
        const auto created = c.call_as<api::Group>("POST", "/api/v1/admin/groups",
                                                    api::CreateGroupRequest{o->ref, o->description});
        print_done(c, fmt::format("created group {} (id {})", created.name, created.id));
        return 0;
    });
    add->add_option("group", o->ref, "group name")->required();
    add->add_option("--description", o->description, "what the group is for");
    ref(add_leaf(group, "delete", "delete a group (its memberships and entitlements go too)", action, [o](CliContext& c) {
        const auto deleted = c.call_as<api::Deleted>("DELETE", group_path(c, o->ref));
        print_done(c, fmt::format("deleted group {} (id {})", o->ref, deleted.id));
        return 0;
    }));
    auto* add_member = add_leaf(group, "add-member", "add a user to a group (nothing if a member already)", action,
                                [o](CliContext& c) {
                                    const auto user_id = c.resolve("user", o->user);
                                    const auto added = c.call_as<api::MemberAdded>(
                                        "POST", group_path(c, o->ref) + "/members", api::AddMemberRequest{user_id});
                                    print_done(c, added.added ? fmt::format("added {} to group {}", o->user, o->ref)
                                                              : fmt::format("{} is in group {} already", o->user, o->ref));
                                    return 0;
                                });
    ref(add_member);
    member(add_member);
    auto* remove_member = add_leaf(group, "remove-member", "remove a user from a group", action, [o](CliContext& c) {
        const auto user_id = c.resolve("user", o->user);
        c.call_as<api::MemberRemoved>("DELETE", group_path(c, o->ref) + "/members/" + std::to_string(user_id));
        print_done(c, fmt::format("removed {} from group {}", o->user, o->ref));
        return 0;
    });
    ref(remove_member);
    member(remove_member);
}

}  // namespace

void add_user_commands(CLI::App& app, Action& action)
{
    add_users(app, action);
    add_groups(app, action);
}

}  // namespace vdi::admin
