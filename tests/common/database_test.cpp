// The database layer's plumbing: connections, error translation, timestamps, enum labels.
#include <chrono>

#include <catch2/catch.hpp>

#include "vdi/common/db/database.h"
#include "vdi/common/db/enums.h"
#include "vdi/test/test_database.h"

using namespace vdi::db;

namespace {

template <typename E>
void check_enum_matches_schema(pqxx::work& tx)
{
    const auto rows = tx.exec_params("SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
                                     "WHERE t.typname = $1 ORDER BY e.enumsortorder",
                                     std::string(EnumTraits<E>::sql_type));
    std::vector<std::string> in_schema;
    for (const auto& row : rows) {
        in_schema.push_back(row[0].as<std::string>());
    }
    std::vector<std::string> in_code(EnumTraits<E>::labels.begin(), EnumTraits<E>::labels.end());
    INFO("enum type " << EnumTraits<E>::sql_type);
    CHECK(in_schema == in_code);
}

}  // namespace

TEST_CASE("database: C++ enums carry exactly the schema's labels", "[db]")
{
    vdi::test::TestDatabase db;
    pqxx::work tx(db.connection());
    check_enum_matches_schema<UserRole>(tx);
    check_enum_matches_schema<ImageState>(tx);
    check_enum_matches_schema<HostState>(tx);
    check_enum_matches_schema<PoolAssignment>(tx);
    check_enum_matches_schema<DisplayProtocol>(tx);
    check_enum_matches_schema<RefreshPolicy>(tx);
    check_enum_matches_schema<DesktopDesiredState>(tx);
    check_enum_matches_schema<DesktopActualState>(tx);
    check_enum_matches_schema<SessionState>(tx);
    check_enum_matches_schema<LockoutScope>(tx);
    check_enum_matches_schema<JobType>(tx);
    check_enum_matches_schema<JobState>(tx);
    CHECK_THROWS_WITH(enum_from_string<JobState>("done"), Catch::Contains("queued, running"));
}

TEST_CASE("database: timestamps survive a round trip through PostgreSQL", "[db]")
{
    vdi::test::TestDatabase db;
    const Timestamp t = Timestamp(std::chrono::microseconds(1795000000123456));
    const auto back = in_transaction(db.connection(), "echo a timestamp", [&](pqxx::work& tx) {
        return get_time(tx.exec_params1("SELECT $1::timestamptz AS t", to_sql(t)), "t");
    });
    CHECK(back == t);
    CHECK(parse_timestamp("2026-11-22 03:25:01+00") == parse_timestamp("2026-11-22 04:25:01+01"));
    CHECK(parse_timestamp("2026-11-22 03:25:01.5+00") - parse_timestamp("2026-11-22 03:25:01+00") ==
          std::chrono::milliseconds(500));
    CHECK_THROWS_AS(parse_timestamp("yesterday"), vdi::DbError);
}

TEST_CASE("database: constraint violations become ConflictError naming the constraint", "[db]")
{
    vdi::test::TestDatabase db;
    CHECK_THROWS_AS(in_transaction(db.connection(), "insert a host",
                       [](pqxx::work& tx) {
                           tx.exec("INSERT INTO hosts (name, address, vcpus_total, memory_mib_total) "
                                   "VALUES ('h', '127.0.0.1', 0, 1)");
                       }), vdi::ConflictError);
    CHECK_THROWS_WITH(in_transaction(db.connection(), "insert a host",
                       [](pqxx::work& tx) {
                           tx.exec("INSERT INTO hosts (name, address, vcpus_total, memory_mib_total) "
                                   "VALUES ('h', '127.0.0.1', 0, 1)");
                       }), Catch::Matchers::Contains("could not insert a host") &&
                                Catch::Matchers::Contains("hosts_vcpus_total_check"));
}

TEST_CASE("database: a failed connection names the server but not the password", "[db]")
{
    try {
        // port 1 on loopback: nothing listens there
        connect("postgresql://vdi:hunter22@127.0.0.1:1/vdi", "vdi-test", 2);
        FAIL("connected to a closed port");
    } catch (const vdi::DbError& e) {
        const std::string message = e.what();
        CHECK_THAT(message, Catch::Contains("127.0.0.1:1"));
        CHECK_THAT(message, !Catch::Contains("hunter22"));
    }
}

TEST_CASE("database: serialization failures are retried", "[db]")
{
    vdi::test::TestDatabase db;
    int attempts = 0;
    const int result = in_transaction(db.connection(), "flaky work", [&](pqxx::work& tx) {
        ++attempts;
        if (attempts < 3) {
            tx.exec("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = 'serialization_failure'; END $$");
        }
        return tx.exec1("SELECT 42")[0].as<int>();
    });
    CHECK(result == 42);
    CHECK(attempts == 3);
}
