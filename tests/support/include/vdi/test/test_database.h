// Throwaway PostgreSQL databases for tests, inside the cluster the ctest fixture "postgres"
// started (its root directory comes in $VDI_TEST_PG_ROOT). Each TestDatabase is a fresh
// database, migrated unless asked otherwise, dropped when the object goes away.
#pragma once

#include <memory>
#include <string>

#include <pqxx/pqxx>

namespace vdi::test {

// DSN of the cluster's maintenance database; fails the test with instructions when the
// fixture is not running.
const std::string& cluster_dsn();

class TestDatabase {
public:
    enum class Schema { migrated, empty };

    explicit TestDatabase(Schema schema = Schema::migrated);
    ~TestDatabase();
    TestDatabase(const TestDatabase&) = delete;
    TestDatabase& operator=(const TestDatabase&) = delete;

    const std::string& name() const { return name_; }
    const std::string& dsn() const { return dsn_; }
    // A connection owned by this object (opened on first use).
    pqxx::connection& connection();

private:
    std::string name_;
    std::string dsn_;
    std::unique_ptr<pqxx::connection> connection_;
};

}  // namespace vdi::test
