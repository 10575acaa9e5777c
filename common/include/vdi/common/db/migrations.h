// The schema migration runner: applies sql/NNNN_*.sql in order, each in its own transaction,
// recorded with a SHA-256 checksum in schema_migrations. Already-applied files must not change.
//
// Concurrency: apply() holds a PostgreSQL advisory lock, so several components starting at once
// apply each migration exactly once. Errors: MigrationError (exceptions, see error.h).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "vdi/common/db/database.h"

namespace vdi::db {

struct Migration {
    int version = 0;        // NNNN from the file name
    std::string file_name;  // "0001_initial_schema.sql"
    std::string sql;
    std::string checksum;   // sha256 hex of sql
};

struct AppliedMigration {
    int version = 0;
    std::string file_name;
    std::string checksum;
    Timestamp applied_at;
};

struct MigrationReport {
    std::vector<std::string> applied;  // file names applied by this run, in order
    int already_applied = 0;
    int schema_version = 0;            // after the run
};

// The migrations compiled into this binary (sql/), validated.
std::vector<Migration> embedded_migrations();

// The NNNN_*.sql files of `dir`, validated. Throws MigrationError.
std::vector<Migration> load_migrations(const std::filesystem::path& dir);

class MigrationRunner {
public:
    // `migrations` must be validated (as returned by the functions above).
    MigrationRunner(pqxx::connection& connection, std::vector<Migration> migrations);

    // Applies every pending migration. Refuses (MigrationError, nothing applied) when an applied
    // migration's file changed or vanished, or the database is newer than this build.
    MigrationReport apply();

    // What schema_migrations records (empty for a database never migrated).
    std::vector<AppliedMigration> applied();

    // Migrations of this build not yet in the database. Verifies checksums like apply().
    std::vector<Migration> pending();

private:
    void verify(const std::vector<AppliedMigration>& applied) const;

    pqxx::connection& connection_;
    std::vector<Migration> migrations_;
};

}  // namespace vdi::db
