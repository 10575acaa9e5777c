// vdictl migrate and vdictl bootstrap-admin: the only commands that use the database directly
// (before there is a schema, or an admin, the API cannot do it). Both take the database options
// (--config, --dsn, --dsn-file).
#include <unistd.h>

#include <iostream>

#include <fmt/format.h>

#include "commands.h"
#include "vdi/common/api/user.h"
#include "vdi/common/crypto.h"
#include "vdi/common/db/audit_repository.h"
#include "vdi/common/db/migrations.h"
#include "vdi/common/db/user_repository.h"

namespace vdi::admin {

namespace {

std::unique_ptr<pqxx::connection> connect(const CommonOptions& common)
{
    const Config config = load_component_config(common);
    return db::connect(config.require_dsn(), "vdictl", config.database().connect_timeout_s);
}

int migrate(const CommonOptions& common, const std::optional<std::string>& dir, bool status_only)
{
    auto connection = connect(common);
    if (status_only) {
        const auto schema = schema_status(*connection);
        std::cout << fmt::format("schema: version {} of {}{}\n", schema.database_version, schema.build_version,
                                 schema.current() ? "" : " (run 'vdictl migrate')");
        return 0;
    }
    auto migrations = dir ? db::load_migrations(*dir) : db::embedded_migrations();
    db::MigrationRunner runner(*connection, std::move(migrations));
    const auto report = runner.apply();
    for (const auto& name : report.applied) {
        std::cout << "applied " << name << "\n";
    }
    std::cout << fmt::format("schema at version {} ({} applied now, {} already applied)\n", report.schema_version,
                             report.applied.size(), report.already_applied);
    return 0;
}

struct BootstrapOptions {
    std::string username;
    std::string display_name;
    bool password_stdin = false;
};

int bootstrap_admin(const CommonOptions& common, const BootstrapOptions& o)
{
    auto connection = connect(common);
    require_current_schema(*connection);
    const auto existing_admin = [&] {
        return db::in_transaction(*connection, "look for an admin", [](pqxx::work& tx) -> std::optional<std::string> {
            for (const auto& user : db::UserRepository(tx).list()) {
                if (user.role == db::UserRole::admin && !user.disabled) return user.username;
            }
            return std::nullopt;
        });
    };
    if (const auto admin = existing_admin()) {
        throw CliExit(Exit::refused, fmt::format("there is an admin already ({}): nothing done. Log in as an admin "
                                                 "('vdictl login') to add users ('vdictl user add')",
                                                 *admin));
    }
    const std::string password = read_secret("password for " + o.username + ": ", o.password_stdin);
    if (password.size() < api::min_password_length) {
        throw CliExit(Exit::usage, fmt::format("the password must have at least {} characters", api::min_password_length));
    }
    const std::string hash = hash_password(password);
    const auto created = db::in_transaction(*connection, "create the first admin", [&](pqxx::work& tx) {
        db::UserRepository users(tx);
        // (checked again where the admin is created; the check above only spares the password
        // prompt. Bootstrap runs once, at installation: two at the same instant are not guarded.)
        for (const auto& user : users.list()) {
            if (user.role == db::UserRole::admin && !user.disabled) {
                throw CliExit(Exit::refused, fmt::format("there is an admin already ({}): nothing done", user.username));
            }
        }
        const auto user = users.create({o.username, o.display_name, hash, db::UserRole::admin});
        const char* login = ::getlogin();
        db::AuditRepository(tx).append(db::AuditEntry::of(
            {std::nullopt, "vdictl@" + std::string(login != nullptr ? login : "local"), std::nullopt}, "user.create",
            "user", std::to_string(user.id), {{"username", user.username}, {"role", "admin"}, {"bootstrap", true}}));
        return user;
    });
    std::cout << fmt::format("created the first admin {} (id {}); log in with 'vdictl login --broker URL --user {}'\n",
                             created.username, created.id, created.username);
    return 0;
}

}  // namespace

void add_database_commands(CLI::App& app, Action& action, const CommonOptions& common)
{
    struct MigrateOptions {
        std::optional<std::string> dir;
        bool status = false;
    };
    auto m = std::make_shared<MigrateOptions>();
    auto* migrate_command = add_leaf(&app, "migrate",
                                     "apply pending schema migrations (a no-op when current); uses the database "
                                     "directly",
                                     action, [m, &common](CliContext&) { return migrate(common, m->dir, m->status); });
    migrate_command->add_option("--dir", m->dir, "apply the NNNN_*.sql files of this directory instead of the built-in set");
    migrate_command->add_flag("--status", m->status, "only say which schema version the database is at");

    auto b = std::make_shared<BootstrapOptions>();
    auto* bootstrap = add_leaf(&app, "bootstrap-admin",
                               "create the first admin account when there is none; uses the database directly",
                               action, [b, &common](CliContext&) { return bootstrap_admin(common, *b); });
    bootstrap->add_option("user", b->username, "the admin's user name")->required();
    bootstrap->add_option("--display-name", b->display_name, "full name shown in clients");
    bootstrap->add_flag("--password-stdin", b->password_stdin, "read the password from the first line of stdin");
}

}  // namespace vdi::admin
