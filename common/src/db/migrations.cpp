// Applying and verifying schema migrations.
#include "vdi/common/db/migrations.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "vdi/common/crypto.h"
#include "vdi/common/logging.h"
#include "vdi/sql/embedded_migrations.h"

namespace vdi::db {
namespace {

// Any constant identifies the lock; this one spells "vdimigr" in ASCII.
constexpr std::int64_t migration_lock_key = 0x7664696d696772;

const char* const create_table_sql = R"(
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer     PRIMARY KEY,
    file_name   text        NOT NULL,
    checksum    text        NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
    applied_at  timestamptz NOT NULL DEFAULT now()
))";

Migration make_migration(const std::string& file_name, std::string sql)
{
    static const std::regex pattern(R"(^(\d{4})_([a-z0-9_]+)\.sql$)");
    std::smatch m;
    if (!std::regex_match(file_name, m, pattern)) {
        throw MigrationError(fmt::format("migration file name '{}' is not NNNN_lowercase_name.sql", file_name));
    }
    Migration migration;
    migration.version = std::stoi(m[1]);
    migration.file_name = file_name;
    migration.checksum = sha256_hex(sql);
    migration.sql = std::move(sql);
    return migration;
}

void validate(std::vector<Migration>& migrations, const std::string& where)
{
    std::sort(migrations.begin(), migrations.end(),
              [](const Migration& a, const Migration& b) { return a.version < b.version; });
    for (std::size_t i = 0; i < migrations.size(); ++i) {
        const int expected = static_cast<int>(i) + 1;
        if (migrations[i].version != expected) {
            throw MigrationError(fmt::format("{}: migrations must be numbered 0001, 0002, ... without gaps or "
                                             "duplicates; expected {:04} but found {}",
                                             where, expected, migrations[i].file_name));
        }
    }
}

class AdvisoryLock {
public:
    explicit AdvisoryLock(pqxx::connection& connection) : connection_(connection)
    {
        pqxx::nontransaction tx(connection_);
        tx.exec_params("SELECT pg_advisory_lock($1)", migration_lock_key);
    }
    ~AdvisoryLock()
    {
        try {
            pqxx::nontransaction tx(connection_);
            tx.exec_params("SELECT pg_advisory_unlock($1)", migration_lock_key);
        } catch (const std::exception& e) {
            // the lock goes with the session anyway; say so rather than hide it
            logger("db.migrate")->warn("releasing the migration lock failed error=\"{}\"", e.what());
        }
    }
    AdvisoryLock(const AdvisoryLock&) = delete;
    AdvisoryLock& operator=(const AdvisoryLock&) = delete;

private:
    pqxx::connection& connection_;
};

}  // namespace

std::vector<Migration> embedded_migrations()
{
    std::vector<Migration> migrations;
    for (const auto& source : sql::embedded_migrations()) {
        migrations.push_back(make_migration(std::string(source.file_name), std::string(source.sql)));
    }
    validate(migrations, "embedded migrations");
    return migrations;
}

std::vector<Migration> load_migrations(const std::filesystem::path& dir)
{
    if (!std::filesystem::is_directory(dir)) {
        throw MigrationError(fmt::format("migration directory {} does not exist", dir.string()));
    }
    std::vector<Migration> migrations;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        if (!entry.is_regular_file() || entry.path().extension() != ".sql") {
            continue;
        }
        std::ifstream in(entry.path(), std::ios::binary);
        if (!in) {
            throw MigrationError(fmt::format("cannot read migration {}", entry.path().string()));
        }
        std::ostringstream content;
        content << in.rdbuf();
        migrations.push_back(make_migration(name, content.str()));
    }
    validate(migrations, dir.string());
    return migrations;
}

MigrationRunner::MigrationRunner(pqxx::connection& connection, std::vector<Migration> migrations)
    : connection_(connection), migrations_(std::move(migrations))
{
}

std::vector<AppliedMigration> MigrationRunner::applied()
{
    return in_transaction(connection_, "read schema_migrations", [](pqxx::work& tx) {
        std::vector<AppliedMigration> out;
        if (tx.exec("SELECT to_regclass('schema_migrations') IS NOT NULL")[0][0].as<bool>() == false) {
            return out;
        }
        for (const auto& row : tx.exec("SELECT version, file_name, checksum, applied_at FROM schema_migrations "
                                       "ORDER BY version")) {
            out.push_back({get<int>(row, "version"), get<std::string>(row, "file_name"),
                           get<std::string>(row, "checksum"), get_time(row, "applied_at")});
        }
        return out;
    });
}

void MigrationRunner::verify(const std::vector<AppliedMigration>& applied) const
{
    std::map<int, const Migration*> known;
    for (const auto& migration : migrations_) {
        known[migration.version] = &migration;
    }
    for (const auto& done : applied) {
        const auto found = known.find(done.version);
        if (found == known.end()) {
            throw MigrationError(fmt::format("the database has migration {} ({}) applied, which this build does not "
                                             "know: the database is newer than this program; upgrade the program",
                                             done.version, done.file_name));
        }
        const Migration& ours = *found->second;
        if (ours.checksum != done.checksum) {
            throw MigrationError(fmt::format(
                "migration {} was changed after it was applied (recorded checksum {}, file now {}); migrations are "
                "append-only: restore the original file and put the change in a new migration",
                ours.file_name, done.checksum.substr(0, 12), ours.checksum.substr(0, 12)));
        }
    }
}

std::vector<Migration> MigrationRunner::pending()
{
    const auto done = applied();
    verify(done);
    std::vector<Migration> out;
    for (const auto& migration : migrations_) {
        if (migration.version > static_cast<int>(done.size())) {
            out.push_back(migration);
        }
    }
    return out;
}

MigrationReport MigrationRunner::apply()
{
    auto log = logger("db.migrate");
    AdvisoryLock lock(connection_);
    in_transaction(connection_, "create schema_migrations", [](pqxx::work& tx) { tx.exec(create_table_sql); });
    const auto done = applied();
    verify(done);

    MigrationReport report;
    report.already_applied = static_cast<int>(done.size());
    report.schema_version = report.already_applied;
    for (const auto& migration : migrations_) {
        if (migration.version <= report.already_applied) {
            continue;
        }
        try {
            in_transaction(
                connection_, "apply migration " + migration.file_name,
                [&](pqxx::work& tx) {
                    tx.exec(migration.sql);
                    tx.exec_params("INSERT INTO schema_migrations (version, file_name, checksum) VALUES ($1, $2, $3)",
                                   migration.version, migration.file_name, migration.checksum);
                },
                1);
        } catch (const DbError& e) {
            throw MigrationError(fmt::format("{} (nothing of it was applied; schema stays at version {})", e.what(),
                                             report.schema_version));
        }
        log->info("applied migration file={} checksum={}", migration.file_name, migration.checksum.substr(0, 12));
        report.applied.push_back(migration.file_name);
        report.schema_version = migration.version;
    }
    return report;
}

}  // namespace vdi::db
