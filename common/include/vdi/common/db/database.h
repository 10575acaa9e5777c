// PostgreSQL access over libpqxx: connecting, transactions with retry, and row-reading helpers.
//
// Errors: pqxx exceptions are turned into vdi::DbError / vdi::ConflictError by in_transaction(),
// (other exceptions thrown inside it pass through unchanged),
// which is the boundary every repository call runs inside.
// Threads: a pqxx::connection (and anything using it) belongs to one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "vdi/common/error.h"

namespace vdi::db {

using Id = std::int64_t;
using Clock = std::chrono::system_clock;
using Timestamp = Clock::time_point;

// Opens a connection with the session time zone set to UTC and application_name set, so that
// pg_stat_activity shows which component holds it. Throws DbError with the DSN redacted.
std::unique_ptr<pqxx::connection> connect(const std::string& dsn, std::string_view application_name,
                                          int connect_timeout_s = 5);

// Converts a pqxx/libpq failure into our error types (ConflictError for constraint violations).
[[noreturn]] void rethrow_as_db_error(const std::exception& e, std::string_view doing);

// True for failures that succeed when the transaction is simply run again.
bool is_transient(const std::exception& e);

namespace detail {
// Runs `fn(tx)` in a fresh `Tx` and commits, retrying transient failures; see in_transaction().
template <typename Tx, typename Fn>
auto run_retried(pqxx::connection& connection, std::string_view doing, Fn&& fn, int attempts)
{
    for (int attempt = 1;; ++attempt) {
        try {
            Tx tx(connection);
            if constexpr (std::is_void_v<decltype(fn(tx))>) {
                fn(tx);
                tx.commit();
                return;
            } else {
                auto result = fn(tx);
                tx.commit();
                return result;
            }
        } catch (const pqxx::pqxx_exception& e) {
            // only the database's own failures are translated (or retried); anything else `fn`
            // throws (a vdi::Error, an API refusal) passes through unchanged
            if (attempt < attempts && is_transient(e.base())) {
                continue;
            }
            rethrow_as_db_error(e.base(), doing);
        }
    }
}
}  // namespace detail

// Runs `fn(tx)` in a read-committed transaction and commits. A serialization failure or deadlock
// retries the whole function (up to `attempts` times), so `fn` must only touch the database.
// `doing` names the operation for error messages ("claim a desktop").
template <typename Fn>
auto in_transaction(pqxx::connection& connection, std::string_view doing, Fn&& fn, int attempts = 5)
{
    return detail::run_retried<pqxx::work>(connection, doing, std::forward<Fn>(fn), attempts);
}

// Like in_transaction(), but without BEGIN and COMMIT: each statement `fn` runs is a transaction
// of its own. For work that is one statement (the hot paths), it saves two round trips.
template <typename Fn>
auto in_autocommit(pqxx::connection& connection, std::string_view doing, Fn&& fn, int attempts = 5)
{
    return detail::run_retried<pqxx::nontransaction>(connection, doing, std::forward<Fn>(fn), attempts);
}

// Runs `sql` as the prepared statement `name` of this connection (prepared on its first use,
// reused after): for the statements every request runs, it saves the server parsing and
// planning them each time. One name, one text: a name reused for another text throws.
template <typename... Args>
pqxx::result exec_cached(pqxx::transaction_base& tx, const std::string& name, const std::string& sql, Args&&... args)
{
    tx.conn().prepare(name, sql);
    return tx.exec_prepared(name, std::forward<Args>(args)...);
}

// Timestamps travel as text in ISO 8601 with an explicit UTC offset.
std::string to_sql(Timestamp t);
// Parses PostgreSQL's ISO output of timestamptz ("2026-11-22 03:25:01.123456+00").
Timestamp parse_timestamp(std::string_view text);

// Row access by column name.
template <typename T>
T get(const pqxx::row& row, const char* column)
{
    return row[column].as<T>();
}

template <typename T>
std::optional<T> get_optional(const pqxx::row& row, const char* column)
{
    const auto field = row[column];
    if (field.is_null()) {
        return std::nullopt;
    }
    return field.as<T>();
}

// Every row of `result` converted by `from_row`.
template <typename Fn>
auto map_rows(const pqxx::result& result, Fn&& from_row)
{
    std::vector<std::decay_t<decltype(from_row(std::declval<const pqxx::row&>()))>> out;
    out.reserve(result.size());
    for (const auto& row : result) {
        out.push_back(from_row(row));
    }
    return out;
}

// The first row of `result` converted by `from_row`, or nullopt when there is none.
template <typename Fn>
auto first_row(const pqxx::result& result, Fn&& from_row)
{
    using T = std::decay_t<decltype(from_row(std::declval<const pqxx::row&>()))>;
    return result.empty() ? std::optional<T>() : std::optional<T>(from_row(result[0]));
}

// One page of a newest-first (descending id) list: at most `limit` rows, with ids below
// `before` when given (the id of the last row of the previous page).
struct Page {
    int limit = 100;
    std::optional<Id> before;
};

Timestamp get_time(const pqxx::row& row, const char* column);
std::optional<Timestamp> get_optional_time(const pqxx::row& row, const char* column);

// A bytea column (read as its hex form) as lowercase hex digits, without the "\x" prefix.
std::string get_hex(const pqxx::row& row, const char* column);

}  // namespace vdi::db
