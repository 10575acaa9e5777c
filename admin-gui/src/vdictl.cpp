// vdictl: the scriptable administration CLI (schema migrations, status, user accounts).
#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include "vdi/common/component.h"
#include "vdi/common/crypto.h"
#include "vdi/common/db/audit_repository.h"
#include "vdi/common/db/migrations.h"
#include "vdi/common/db/user_repository.h"
#include "vdi/common/error.h"

namespace {

using vdi::db::in_transaction;

std::string read_password(bool from_stdin)
{
    std::string password;
    if (from_stdin || !isatty(STDIN_FILENO)) {
        std::getline(std::cin, password);
    } else {
        termios old_mode{};
        tcgetattr(STDIN_FILENO, &old_mode);
        termios quiet = old_mode;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        std::cerr << "password: " << std::flush;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
        std::getline(std::cin, password);
        tcsetattr(STDIN_FILENO, TCSANOW, &old_mode);
        std::cerr << "\n";
    }
    if (password.size() < 8) {
        throw vdi::Error("the password must have at least 8 characters");
    }
    return password;
}

void audit(pqxx::work& tx, const std::string& action, const std::string& target, const nlohmann::json& details)
{
    vdi::db::AuditEntry entry;
    entry.actor = "vdictl@" + std::string(getlogin() != nullptr ? getlogin() : "local");
    entry.action = action;
    entry.target_type = "user";
    entry.target_id = target;
    entry.details = details;
    vdi::db::AuditRepository(tx).append(entry);
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"vdictl: administer the VDI broker's database"};
    app.require_subcommand(1);
    vdi::CommonOptions common;
    vdi::add_common_options(app, common);

    auto* migrate = app.add_subcommand("migrate", "apply pending schema migrations (a no-op when current)");
    std::optional<std::string> migrations_dir;
    migrate->add_option("--dir", migrations_dir, "apply the NNNN_*.sql files of this directory instead of the built-in set");

    auto* status = app.add_subcommand("status", "schema version and what the database holds");

    auto* user = app.add_subcommand("user", "user accounts");
    user->require_subcommand(1);
    auto* user_add = user->add_subcommand("add", "create a user (password from the terminal or --password-stdin)");
    std::string username, display_name, role = "user";
    bool password_stdin = false;
    user_add->add_option("name", username, "user name")->required();
    user_add->add_option("--display-name", display_name, "full name shown in clients");
    user_add->add_option("--role", role, "user or admin")->check(CLI::IsMember({"user", "admin"}));
    user_add->add_flag("--password-stdin", password_stdin, "read the password from the first line of stdin");
    auto* user_list = user->add_subcommand("list", "list users");
    auto* user_show = user->add_subcommand("show", "show one user (exit 3 if absent)");
    user_show->add_option("name", username, "user name")->required();
    auto* user_disable = user->add_subcommand("disable", "disable a user (they can no longer log in)");
    user_disable->add_option("name", username, "user name")->required();
    auto* user_enable = user->add_subcommand("enable", "enable a disabled user");
    user_enable->add_option("name", username, "user name")->required();

    CLI11_PARSE(app, argc, argv);

    return vdi::run_main("vdictl", [&]() -> int {
        const vdi::Config config = vdi::load_component_config(common);
        auto connection = vdi::db::connect(config.require_dsn(), "vdictl", config.database().connect_timeout_s);

        if (*migrate) {
            auto migrations = migrations_dir ? vdi::db::load_migrations(*migrations_dir) : vdi::db::embedded_migrations();
            vdi::db::MigrationRunner runner(*connection, std::move(migrations));
            const auto report = runner.apply();
            for (const auto& name : report.applied) {
                std::cout << "applied " << name << "\n";
            }
            std::cout << fmt::format("schema at version {} ({} applied now, {} already applied)\n",
                                     report.schema_version, report.applied.size(), report.already_applied);
            return 0;
        }
        if (*status) {
            const auto schema = vdi::schema_status(*connection);
            std::cout << fmt::format("schema: version {} of {}{}\n", schema.database_version, schema.build_version,
                                     schema.current() ? "" : " (run 'vdictl migrate')");
            if (schema.database_version == 0) {
                return 0;
            }
            in_transaction(*connection, "read status", [](pqxx::work& tx) {
                const auto row = tx.exec1(
                    "SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM pools) AS pools, "
                    "(SELECT count(*) FROM hosts) AS hosts, (SELECT count(*) FROM desktops) AS desktops, "
                    "(SELECT count(*) FROM sessions WHERE state <> 'ended') AS live_sessions");
                std::cout << fmt::format("users: {}  pools: {}  hosts: {}  desktops: {}  live sessions: {}\n",
                                         row["users"].as<long>(), row["pools"].as<long>(), row["hosts"].as<long>(),
                                         row["desktops"].as<long>(), row["live_sessions"].as<long>());
            });
            return 0;
        }
        vdi::require_current_schema(*connection);
        if (*user_add) {
            const std::string password = read_password(password_stdin);
            const std::string hash = vdi::hash_password(password);
            const auto created = in_transaction(*connection, "create the user", [&](pqxx::work& tx) {
                vdi::db::NewUser new_user{username, display_name, hash,
                                          vdi::db::enum_from_string<vdi::db::UserRole>(role)};
                auto created_user = vdi::db::UserRepository(tx).create(new_user);
                audit(tx, "user.create", std::to_string(created_user.id), {{"username", username}, {"role", role}});
                return created_user;
            });
            std::cout << fmt::format("created user {} (id {}, role {})\n", created.username, created.id, role);
            return 0;
        }
        if (*user_list) {
            const auto users = in_transaction(*connection, "list users",
                                              [](pqxx::work& tx) { return vdi::db::UserRepository(tx).list(); });
            for (const auto& u : users) {
                std::cout << fmt::format("{:<24} {:<6} {:<9} {}\n", u.username, vdi::db::to_string(u.role),
                                         u.disabled ? "disabled" : "enabled", u.display_name);
            }
            return 0;
        }
        if (*user_show) {
            const auto found = in_transaction(*connection, "find the user", [&](pqxx::work& tx) {
                return vdi::db::UserRepository(tx).find_by_username(username);
            });
            if (!found) {
                std::cerr << "vdictl: no user named '" << username << "'\n";
                return 3;
            }
            std::cout << fmt::format("id: {}\nusername: {}\ndisplay name: {}\nrole: {}\ndisabled: {}\n", found->id,
                                     found->username, found->display_name, vdi::db::to_string(found->role),
                                     found->disabled);
            return 0;
        }
        if (*user_disable || *user_enable) {
            const bool disable = user_disable->parsed();
            in_transaction(*connection, "change the user", [&](pqxx::work& tx) {
                vdi::db::UserRepository users(tx);
                const auto found = users.find_by_username(username);
                if (!found) {
                    throw vdi::Error(fmt::format("no user named '{}'", username));
                }
                users.set_disabled(found->id, disable);
                audit(tx, disable ? "user.disable" : "user.enable", std::to_string(found->id), {{"username", username}});
            });
            std::cout << fmt::format("{} {}\n", disable ? "disabled" : "enabled", username);
            return 0;
        }
        return 2;
    });
}
