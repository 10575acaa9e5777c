// The migration runner: ordering, idempotence, checksums, atomicity, concurrency.
#include <filesystem>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>

#include "vdi/common/db/database.h"
#include "vdi/common/db/migrations.h"
#include "vdi/test/test_database.h"

using namespace vdi::db;
namespace fs = std::filesystem;

namespace {

// A private copy of sql/ that a test may change.
struct MigrationDir {
    fs::path path;
    MigrationDir()
    {
        path = fs::temp_directory_path() / ("vdi-migrations-" + std::to_string(::getpid()) + "-" +
                                            std::to_string(std::rand()));
        fs::create_directories(path);
        for (const auto& entry : fs::directory_iterator(VDI_SQL_DIR)) {
            if (entry.path().extension() == ".sql") {
                fs::copy_file(entry.path(), path / entry.path().filename());
            }
        }
    }
    ~MigrationDir() { fs::remove_all(path); }
    void write(const std::string& name, const std::string& content) { std::ofstream(path / name) << content; }
    void append(const std::string& name, const std::string& content)
    {
        std::ofstream(path / name, std::ios::app) << content;
    }
};

// How many migrations the source tree ships, and the file name of the one numbered `n`.
int shipped()
{
    return static_cast<int>(load_migrations(VDI_SQL_DIR).size());
}

std::string numbered(int n, const std::string& name)
{
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "%04d_", n);
    return prefix + name;
}

int table_count(pqxx::connection& c)
{
    return in_transaction(c, "count tables", [](pqxx::work& tx) {
        return tx.exec1("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")[0].as<int>();
    });
}

}  // namespace

TEST_CASE("migrations: apply on an empty database, then re-apply as a no-op", "[migrations]")
{
    vdi::test::TestDatabase db(vdi::test::TestDatabase::Schema::empty);
    const auto migrations = embedded_migrations();
    REQUIRE_FALSE(migrations.empty());

    MigrationRunner runner(db.connection(), migrations);
    const auto first = runner.apply();
    CHECK(first.applied.size() == migrations.size());
    CHECK(first.already_applied == 0);
    CHECK(first.schema_version == static_cast<int>(migrations.size()));
    const int tables = table_count(db.connection());
    CHECK(tables > 10);

    const auto second = runner.apply();
    CHECK(second.applied.empty());
    CHECK(second.already_applied == static_cast<int>(migrations.size()));
    CHECK(table_count(db.connection()) == tables);

    const auto recorded = runner.applied();
    REQUIRE(recorded.size() == migrations.size());
    CHECK(recorded[0].file_name == "0001_initial_schema.sql");
    CHECK(recorded[0].checksum == migrations[0].checksum);
    CHECK(runner.pending().empty());
}

TEST_CASE("migrations: the embedded set equals the files in sql/", "[migrations]")
{
    const auto embedded = embedded_migrations();
    const auto from_dir = load_migrations(VDI_SQL_DIR);
    REQUIRE(embedded.size() == from_dir.size());
    for (std::size_t i = 0; i < embedded.size(); ++i) {
        CHECK(embedded[i].file_name == from_dir[i].file_name);
        CHECK(embedded[i].checksum == from_dir[i].checksum);
    }
}

TEST_CASE("migrations: a changed applied migration is refused and nothing is applied", "[migrations]")
{
    vdi::test::TestDatabase db(vdi::test::TestDatabase::Schema::empty);
    MigrationDir dir;
    MigrationRunner(db.connection(), load_migrations(dir.path)).apply();

    dir.append("0001_initial_schema.sql", "\n-- a quiet edit\n");
    dir.write(numbered(shipped() + 1, "more.sql"), "CREATE TABLE should_not_exist (id int);\n");
    MigrationRunner tampered(db.connection(), load_migrations(dir.path));
    CHECK_THROWS_AS(tampered.apply(), vdi::MigrationError);
    CHECK_THROWS_WITH(tampered.apply(), Catch::Matchers::Contains("0001_initial_schema.sql was changed after it was applied"));
    CHECK_THROWS_AS(tampered.pending(), vdi::MigrationError);
    const bool created = in_transaction(db.connection(), "look for the table", [](pqxx::work& tx) {
        return tx.exec1("SELECT to_regclass('should_not_exist') IS NOT NULL")[0].as<bool>();
    });
    CHECK_FALSE(created);
}

TEST_CASE("migrations: a new migration is applied alone and a failing one leaves no trace", "[migrations]")
{
    vdi::test::TestDatabase db(vdi::test::TestDatabase::Schema::empty);
    MigrationDir dir;
    MigrationRunner(db.connection(), load_migrations(dir.path)).apply();

    const int n = shipped();
    dir.write(numbered(n + 1, "add_notes.sql"), "CREATE TABLE notes (id int PRIMARY KEY);\nALTER TABLE users ADD note text;\n");
    const auto report = MigrationRunner(db.connection(), load_migrations(dir.path)).apply();
    REQUIRE(report.applied == std::vector<std::string>{numbered(n + 1, "add_notes.sql")});
    CHECK(report.schema_version == n + 1);

    // the first statement would succeed, the second fails: the whole file must roll back
    dir.write(numbered(n + 2, "broken.sql"), "CREATE TABLE half_done (id int);\nALTER TABLE no_such_table ADD x int;\n");
    CHECK_THROWS_AS(MigrationRunner(db.connection(), load_migrations(dir.path)).apply(), vdi::MigrationError);
    CHECK_THROWS_WITH(MigrationRunner(db.connection(), load_migrations(dir.path)).apply(), Catch::Matchers::Contains(numbered(n + 2, "broken.sql")) &&
                             Catch::Matchers::Contains("schema stays at version " + std::to_string(n + 1)));
    const auto state = in_transaction(db.connection(), "inspect", [](pqxx::work& tx) {
        return std::make_pair(tx.exec1("SELECT to_regclass('half_done') IS NOT NULL")[0].as<bool>(),
                              tx.exec1("SELECT max(version) FROM schema_migrations")[0].as<int>());
    });
    CHECK_FALSE(state.first);
    CHECK(state.second == n + 1);
}

TEST_CASE("migrations: a database newer than the build is refused", "[migrations]")
{
    vdi::test::TestDatabase db(vdi::test::TestDatabase::Schema::empty);
    MigrationDir dir;
    dir.write(numbered(shipped() + 1, "future.sql"), "CREATE TABLE future (id int);\n");
    MigrationRunner(db.connection(), load_migrations(dir.path)).apply();
    CHECK_THROWS_WITH(MigrationRunner(db.connection(), embedded_migrations()).apply(),
                      Catch::Contains("newer than this program"));
}

TEST_CASE("migrations: badly numbered or named files are refused", "[migrations]")
{
    MigrationDir gap;
    gap.write(numbered(shipped() + 2, "skipped_one.sql"), "SELECT 1;\n");
    CHECK_THROWS_WITH(load_migrations(gap.path), Catch::Contains("expected " + numbered(shipped() + 1, "").substr(0, 4)));

    MigrationDir bad_name;
    const std::string bad = numbered(shipped() + 1, "").substr(0, 4) + "-Bad Name.sql";
    bad_name.write(bad, "SELECT 1;\n");
    CHECK_THROWS_WITH(load_migrations(bad_name.path), Catch::Contains(bad));

    CHECK_THROWS_WITH(load_migrations("/nonexistent/sql"), Catch::Contains("does not exist"));
}

TEST_CASE("migrations: concurrent runners apply each migration exactly once", "[migrations]")
{
    vdi::test::TestDatabase db(vdi::test::TestDatabase::Schema::empty);
    std::vector<MigrationReport> reports(4);
    std::vector<std::string> errors(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&, i] {
            try {
                auto connection = connect(db.dsn(), "migrate-race");
                reports[i] = MigrationRunner(*connection, embedded_migrations()).apply();
            } catch (const std::exception& e) {
                errors[i] = e.what();
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    std::size_t applied = 0;
    for (int i = 0; i < 4; ++i) {
        CHECK(errors[i].empty());
        applied += reports[i].applied.size();
    }
    CHECK(applied == embedded_migrations().size());
}
