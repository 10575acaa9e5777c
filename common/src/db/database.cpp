// Connections, error translation and value conversion for the database layer.
#include "vdi/common/db/database.h"

#include <ctime>
#include <regex>

#include <fmt/format.h>

#include "vdi/common/api/json.h"
#include "vdi/common/logging.h"

namespace vdi::db {

std::unique_ptr<pqxx::connection> connect(const std::string& dsn, std::string_view application_name,
                                          int connect_timeout_s)
{
    // libpq waits forever for an unreachable server unless told otherwise
    std::string full_dsn = dsn;
    if (dsn.find("connect_timeout") == std::string::npos) {
        if (dsn.rfind("postgres", 0) == 0) {
            full_dsn += fmt::format("{}connect_timeout={}", dsn.find('?') == std::string::npos ? "?" : "&",
                                    connect_timeout_s);
        } else {
            full_dsn += fmt::format(" connect_timeout={}", connect_timeout_s);
        }
    }
    try {
        auto connection = std::make_unique<pqxx::connection>(full_dsn);
        pqxx::nontransaction setup(*connection);
        setup.exec("SET TIME ZONE 'UTC'");
        setup.exec_params("SELECT set_config('application_name', $1, false)", std::string(application_name));
        setup.commit();
        return connection;
    } catch (const std::exception& e) {
        std::string reason = e.what();
        while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) {
            reason.pop_back();
        }
        throw DbError(fmt::format("cannot connect to PostgreSQL at {} (timeout {} s): {}; check that it is running "
                                  "('./vdi db start' for the embedded one) and that the DSN is right",
                                  redact_dsn(dsn), connect_timeout_s, reason));
    }
}

bool is_transient(const std::exception& error)
{
    // 40001 serialization_failure, 40P01 deadlock_detected; libpqxx 6 throws these as
    // transaction_rollback, which is not an sql_error and carries no sqlstate(), so look at both
    if (dynamic_cast<const pqxx::transaction_rollback*>(&error) != nullptr) {
        return true;
    }
    const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error);
    return sql != nullptr && (sql->sqlstate() == "40001" || sql->sqlstate() == "40P01");
}

void rethrow_as_db_error(const std::exception& e, std::string_view doing)
{
    std::string reason = e.what();
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) {
        reason.pop_back();
    }
    if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
        // class 23: integrity constraint violation
        if (dynamic_cast<const pqxx::integrity_constraint_violation*>(sql) != nullptr ||
            sql->sqlstate().rfind("23", 0) == 0) {
            throw ConflictError(fmt::format("could not {}: refused by the database: {}", doing, reason));
        }
    }
    if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
        throw DbError(fmt::format("could not {}: lost the connection to PostgreSQL: {}", doing, reason));
    }
    throw DbError(fmt::format("could not {}: {}", doing, reason));
}

std::string to_sql(Timestamp t)
{
    // the API's ISO 8601 form ("2026-11-22T06:14:26.123456+00:00") in PostgreSQL's own spelling
    std::string text = api::to_iso8601(t);
    text[10] = ' ';
    text.resize(text.size() - 3);  // "+00:00" -> "+00"
    return text;
}

Timestamp parse_timestamp(std::string_view text)
{
    static const std::regex pattern(
        R"(^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([+-])(\d{2})(?::?(\d{2}))?)?$)");
    std::cmatch m;
    if (!std::regex_match(text.begin(), text.end(), m, pattern)) {
        throw DbError(fmt::format("unexpected timestamp format from PostgreSQL: '{}'", text));
    }
    std::tm tm{};
    tm.tm_year = std::stoi(m[1]) - 1900;
    tm.tm_mon = std::stoi(m[2]) - 1;
    tm.tm_mday = std::stoi(m[3]);
    tm.tm_hour = std::stoi(m[4]);
    tm.tm_min = std::stoi(m[5]);
    tm.tm_sec = std::stoi(m[6]);
    std::int64_t seconds = timegm(&tm);
    std::int64_t micros = 0;
    if (m[7].matched) {
        std::string digits = m[7];
        digits.resize(6, '0');
        micros = std::stoll(digits);
    }
    if (m[8].matched) {
        const int offset = std::stoi(m[9]) * 3600 + (m[10].matched ? std::stoi(m[10]) * 60 : 0);
        seconds -= (m[8] == "+" ? offset : -offset);
    }
    return Timestamp(std::chrono::microseconds(seconds * 1000000 + micros));
}

Timestamp get_time(const pqxx::row& row, const char* column)
{
    return parse_timestamp(row[column].c_str());
}

std::optional<Timestamp> get_optional_time(const pqxx::row& row, const char* column)
{
    const auto field = row[column];
    if (field.is_null()) {
        return std::nullopt;
    }
    return parse_timestamp(field.c_str());
}

std::string get_hex(const pqxx::row& row, const char* column)
{
    std::string text = row[column].c_str();
    if (text.rfind("\\x", 0) == 0) {
        text.erase(0, 2);
    }
    return text;
}

}  // namespace vdi::db
