// vdictl user ... and vdictl group ...: accounts, groups and memberships through the admin API.
#include <iostream>

#include <fmt/format.h>

#include "commands.h"
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
        const auto users = c.get("/api/v1/admin/users");
        print_list(c, users, users_table(users, c.table_width()));
        return 0;
    });
    ref(add_leaf(user, "show", "one user and their groups", action, [o](CliContext& c) {
        const auto found = c.get(user_path(c, o->ref));
        print_done(c, user_details(found));
        return 0;
    }));

    auto* add = add_leaf(user, "add", "create a user (password from the terminal, or stdin)", action, [o](CliContext& c) {
        nlohmann::json body = {{"username", o->ref},
                               {"password", read_secret("password for " + o->ref + ": ", o->password_stdin)}};
        if (o->display_name) body["display_name"] = *o->display_name;
        if (o->role) body["role"] = *o->role;
        const auto created = c.call("POST", "/api/v1/admin/users", body);
        print_done(c, fmt::format("created {}, role {}", describe(created, "user"), created.value("role", "?")));
        return 0;
    });
    add->add_option("user", o->ref, "user name")->required();
    add->add_option("--display-name", o->display_name, "full name shown in clients");
    add->add_option("--role", o->role, "user (default) or admin")->check(CLI::IsMember({"user", "admin"}));
    add->add_flag("--password-stdin", o->password_stdin, "read the password from the first line of stdin");

    auto* update = add_leaf(user, "update", "change a user's display name, role or password", action, [o](CliContext& c) {
        nlohmann::json body = nlohmann::json::object();
        if (o->display_name) body["display_name"] = *o->display_name;
        if (o->role) body["role"] = *o->role;
        if (o->password || o->password_stdin) {
            body["password"] = read_secret("new password for " + o->ref + ": ", o->password_stdin);
        }
        if (body.empty()) {
            throw CliExit(Exit::usage, "nothing to change: give --display-name, --role or --password");
        }
        const auto updated = c.call("PATCH", user_path(c, o->ref), body);
        print_done(c, "updated " + describe(updated, "user"));
        return 0;
    });
    update->alias("set");
    ref(update);
    update->add_option("--display-name", o->display_name, "full name shown in clients");
    update->add_option("--role", o->role, "user or admin")->check(CLI::IsMember({"user", "admin"}));
    update->add_flag("--password", o->password, "set a new password (asked; revokes the user's tokens)");
    update->add_flag("--password-stdin", o->password_stdin, "set a new password, read from the first line of stdin");

    ref(add_leaf(user, "disable", "disable a user: no more logins, their tokens revoked", action, [o](CliContext& c) {
        const auto changed = c.call("POST", user_path(c, o->ref) + "/disable");
        print_done(c, "disabled " + describe(changed, "user"));
        return 0;
    }));
    ref(add_leaf(user, "enable", "enable a disabled user", action, [o](CliContext& c) {
        const auto changed = c.call("PATCH", user_path(c, o->ref), nlohmann::json{{"disabled", false}});
        print_done(c, "enabled " + describe(changed, "user"));
        return 0;
    }));
    ref(add_leaf(user, "delete", "delete a user without session history (else disable them)", action, [o](CliContext& c) {
        const std::string path = user_path(c, o->ref);
        c.call("DELETE", path);
        print_done(c, fmt::format("deleted user {} ({})", o->ref, path.substr(path.rfind('/') + 1)));
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
        const auto groups = c.get("/api/v1/admin/groups");
        print_list(c, groups, groups_table(groups, c.table_width()));
        return 0;
    });
    ref(add_leaf(group, "show", "one group and its members", action, [o](CliContext& c) {
        const auto found = c.get(group_path(c, o->ref));
        print_done(c, group_details(found, c.table_width()));
        return 0;
    }));
    auto* add = add_leaf(group, "add", "create a group", action, [o](CliContext& c) {
        nlohmann::json body = {{"name", o->ref}};
        if (o->description) body["description"] = *o->description;
        const auto created = c.call("POST", "/api/v1/admin/groups", body);
        print_done(c, "created " + describe(created, "group"));
        return 0;
    });
    add->add_option("group", o->ref, "group name")->required();
    add->add_option("--description", o->description, "what the group is for");
    ref(add_leaf(group, "delete", "delete a group (its memberships and entitlements go too)", action, [o](CliContext& c) {
        const std::string path = group_path(c, o->ref);
        c.call("DELETE", path);
        print_done(c, fmt::format("deleted group {} ({})", o->ref, path.substr(path.rfind('/') + 1)));
        return 0;
    }));
    auto* add_member = add_leaf(group, "add-member", "add a user to a group (nothing if a member already)", action,
                                [o](CliContext& c) {
                                    const auto user_id = c.resolve("user", o->user);
                                    const auto added = c.call("POST", group_path(c, o->ref) + "/members",
                                                              nlohmann::json{{"user_id", user_id}});
                                    print_done(c, fmt::format("{} {} to group {}", added.value("added", false) ? "added" : "already a member:",
                                                              o->user, o->ref));
                                    return 0;
                                });
    ref(add_member);
    member(add_member);
    auto* remove_member = add_leaf(group, "remove-member", "remove a user from a group", action, [o](CliContext& c) {
        const auto user_id = c.resolve("user", o->user);
        c.call("DELETE", group_path(c, o->ref) + "/members/" + std::to_string(user_id));
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
