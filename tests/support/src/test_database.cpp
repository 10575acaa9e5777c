// Creating and dropping per-test databases in the fixture's PostgreSQL cluster.
#include "vdi/test/test_database.h"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "vdi/common/config.h"
#include "vdi/common/db/database.h"
#include "vdi/common/db/migrations.h"

namespace vdi::test {
namespace {

std::string with_database(const std::string& dsn, const std::string& database)
{
    const auto slash = dsn.rfind('/');
    if (dsn.rfind("postgresql://", 0) != 0 || slash == std::string::npos || slash < 13) {
        FAIL("the test cluster's DSN is not a postgresql:// URI: cannot derive per-test databases");
    }
    return dsn.substr(0, slash + 1) + database;
}

}  // namespace

const std::string& cluster_dsn()
{
    static const std::string dsn = [] {
        const char* root = std::getenv("VDI_TEST_PG_ROOT");
        if (root == nullptr || *root == '\0') {
            FAIL("VDI_TEST_PG_ROOT is not set: run the database tests through ctest (./vdi test), whose fixture "
                 "starts a throwaway PostgreSQL cluster");
        }
        return vdi::read_dsn_file(std::string(root) + "/db.dsn");
    }();
    return dsn;
}

TestDatabase::TestDatabase(Schema schema)
{
    static std::atomic<int> counter{0};
    name_ = fmt::format("t_{}_{}_{}", ::getpid(), counter++, std::rand() % 100000);
    {
        pqxx::connection admin(cluster_dsn());
        pqxx::nontransaction tx(admin);
        tx.exec("CREATE DATABASE " + tx.quote_name(name_));
    }
    dsn_ = with_database(cluster_dsn(), name_);
    if (schema == Schema::migrated) {
        vdi::db::MigrationRunner runner(connection(), vdi::db::embedded_migrations());
        runner.apply();
    }
}

TestDatabase::~TestDatabase()
{
    connection_.reset();
    try {
        pqxx::connection admin(cluster_dsn());
        pqxx::nontransaction tx(admin);
        tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
    } catch (const std::exception& e) {
        // the whole cluster is thrown away at the end of the run; leave a trace and go on
        WARN("dropping test database " << name_ << " failed: " << e.what());
    }
}

pqxx::connection& TestDatabase::connection()
{
    if (!connection_) {
        connection_ = vdi::db::connect(dsn_, "vdi-test");
    }
    return *connection_;
}

}  // namespace vdi::test
