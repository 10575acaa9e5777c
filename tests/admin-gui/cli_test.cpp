// vdictl and the services' --check, run as real processes against a real database.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "vdi/common/crypto.h"
#include "vdi/common/db/audit_repository.h"
#include "vdi/common/db/migrations.h"
#include "vdi/common/db/user_repository.h"
#include "vdi/test/process.h"
#include "vdi/test/test_database.h"

using vdi::test::run_process;
using vdi::test::TestDatabase;
namespace fs = std::filesystem;

TEST_CASE("vdictl migrate: applies the schema once, then is a no-op", "[cli]")
{
    TestDatabase db(TestDatabase::Schema::empty);
    const auto first = run_process({VDICTL, "--dsn", db.dsn(), "migrate"});
    INFO(first.output);
    REQUIRE(first.exit_code == 0);
    CHECK_THAT(first.output, Catch::Contains("applied 0001_initial_schema.sql"));
    const auto second = run_process({VDICTL, "--dsn", db.dsn(), "migrate"});
    INFO(second.output);
    REQUIRE(second.exit_code == 0);
    CHECK_THAT(second.output, Catch::Contains("0 applied now"));
    CHECK_THAT(second.output, !Catch::Contains("applied 0001"));
}

TEST_CASE("vdictl migrate: a tampered migration directory is refused", "[cli]")
{
    TestDatabase db(TestDatabase::Schema::empty);
    const fs::path dir = fs::temp_directory_path() / ("vdi-cli-sql-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    fs::copy_file(fs::path(VDI_SQL_DIR) / "0001_initial_schema.sql", dir / "0001_initial_schema.sql",
                  fs::copy_options::overwrite_existing);
    REQUIRE(run_process({VDICTL, "--dsn", db.dsn(), "migrate", "--dir", dir.string()}).exit_code == 0);
    std::ofstream(dir / "0001_initial_schema.sql", std::ios::app) << "\nCREATE TABLE sneaky (id int);\n";
    const auto refused = run_process({VDICTL, "--dsn", db.dsn(), "migrate", "--dir", dir.string()});
    fs::remove_all(dir);
    INFO(refused.output);
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.output, Catch::Contains("vdictl: error: migration 0001_initial_schema.sql was changed"));
}

TEST_CASE("services --check: refuse an unmigrated or unreachable database, accept a current one", "[cli]")
{
    TestDatabase db(TestDatabase::Schema::empty);
    for (const char* service : {VDI_BROKER, VDI_POOL_MANAGER}) {
        INFO(service);
        const auto before = run_process({service, "--dsn", db.dsn(), "--check"});
        CHECK(before.exit_code == 1);
        CHECK_THAT(before.output, Catch::Contains("schema is at version 0") && Catch::Contains("vdictl migrate"));
    }
    REQUIRE(run_process({VDICTL, "--dsn", db.dsn(), "migrate"}).exit_code == 0);
    for (const char* service : {VDI_BROKER, VDI_POOL_MANAGER}) {
        INFO(service);
        const auto after = run_process({service, "--dsn", db.dsn(), "--check"});
        CHECK(after.exit_code == 0);
        CHECK_THAT(after.output, Catch::Contains("schema current"));
        CHECK_THAT(after.output, !Catch::Contains(db.dsn()));  // the password stays out of the output
    }
    const auto unreachable =
        run_process({VDI_BROKER, "--dsn", "postgresql://vdi:topsecret@127.0.0.1:1/vdi", "--check"});
    CHECK(unreachable.exit_code == 1);
    CHECK_THAT(unreachable.output, Catch::Contains("cannot connect to PostgreSQL at postgresql://vdi:***@127.0.0.1:1"));
    CHECK_THAT(unreachable.output, !Catch::Contains("topsecret"));

    const fs::path bad_config = fs::temp_directory_path() / ("vdi-bad-" + std::to_string(::getpid()) + ".toml");
    std::ofstream(bad_config) << "[database]\ndns = \"typo\"\n";
    const auto typo = run_process({VDI_POOL_MANAGER, "--config", bad_config.string(), "--check"});
    fs::remove(bad_config);
    CHECK(typo.exit_code == 1);
    CHECK_THAT(typo.output, Catch::Contains("unknown key 'dns' in [database]"));
}

TEST_CASE("vdictl migrate --status: the schema version, without changing it", "[cli]")
{
    TestDatabase db(TestDatabase::Schema::empty);
    const std::string version = std::to_string(vdi::db::embedded_migrations().size());
    const auto before = run_process({VDICTL, "--dsn", db.dsn(), "migrate", "--status"});
    CHECK(before.exit_code == 0);
    CHECK_THAT(before.output, Catch::Contains("schema: version 0 of " + version) && Catch::Contains("vdictl migrate"));
    CHECK_THAT(run_process({VDICTL, "--dsn", db.dsn(), "migrate", "--status"}).output,
               Catch::Contains("version 0 of"));  // (nothing applied by asking)
    REQUIRE(run_process({VDICTL, "--dsn", db.dsn(), "migrate"}).exit_code == 0);
    const auto after = run_process({VDICTL, "--dsn", db.dsn(), "migrate", "--status"});
    CHECK_THAT(after.output, Catch::Contains("schema: version " + version + " of " + version));
}

TEST_CASE("vdictl bootstrap-admin: the first admin once, audited, then refused, the password rule holds", "[cli]")
{
    TestDatabase db;
    const auto short_password =
        run_process({VDICTL, "--dsn", db.dsn(), "bootstrap-admin", "root", "--password-stdin"}, "short\n");
    CHECK(short_password.exit_code == 2);
    CHECK_THAT(short_password.output, Catch::Contains("at least 8 characters"));

    const auto created = run_process(
        {VDICTL, "--dsn", db.dsn(), "bootstrap-admin", "root", "--display-name", "Root R", "--password-stdin"},
        "correct horse battery\n");
    INFO(created.output);
    REQUIRE(created.exit_code == 0);
    CHECK_THAT(created.output, Catch::Contains("created the first admin root") && Catch::Contains("vdictl login"));

    const auto again =
        run_process({VDICTL, "--dsn", db.dsn(), "bootstrap-admin", "other", "--password-stdin"}, "another password\n");
    CHECK(again.exit_code == 3);
    CHECK_THAT(again.output, Catch::Contains("there is an admin already (root)"));

    vdi::db::in_transaction(db.connection(), "inspect", [](pqxx::work& tx) {
        vdi::db::UserRepository users(tx);
        CHECK(users.list().size() == 1);
        const auto root = users.find_by_username("root");
        REQUIRE(root);
        CHECK(root->role == vdi::db::UserRole::admin);
        CHECK(root->display_name == "Root R");
        // the stored hash is Argon2id of the password given on stdin, and nothing else
        CHECK(vdi::verify_password("correct horse battery", root->password_hash));
        CHECK_FALSE(vdi::verify_password("correct horse battery\n", root->password_hash));
        const auto entries = vdi::db::AuditRepository(tx).list();
        REQUIRE(entries.size() == 1);
        CHECK(entries[0].action == "user.create");
        CHECK(entries[0].target_id == std::to_string(root->id));
        CHECK_THAT(entries[0].actor, Catch::StartsWith("vdictl@"));
        CHECK(entries[0].details.dump().find("correct horse") == std::string::npos);
    });

    // a disabled admin is no admin: bootstrap may recover the installation
    vdi::db::in_transaction(db.connection(), "disable", [](pqxx::work& tx) {
        vdi::db::UserRepository users(tx);
        users.set_disabled(users.find_by_username("root")->id, true);
    });
    CHECK(run_process({VDICTL, "--dsn", db.dsn(), "bootstrap-admin", "rescue", "--password-stdin"}, "rescue password\n")
              .exit_code == 0);
}
