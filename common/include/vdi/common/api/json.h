// The building blocks of the API contract: ids, timestamps in the API's ISO 8601 form, and the
// field helpers every resource's to_json/from_json uses.
//
// The api/ headers are the single definition of every /api/v1 request and response body
// (docs/api.md): the broker builds its answers from them and clients (vdictl, the thin-client
// and admin-GUI cores) parse with them. They live in the small `vdi-api` library, which needs
// only nlohmann-json and the standard library (no libpqxx, no libsodium, no spdlog), so that a
// Qt client can link the contract without the database layer.
//
// Conventions: fields keep the JSON names; a response field that may be null is a std::optional
// (nullopt is written as null); a request field that may be left out is a std::optional too
// (nullopt is not written, since the broker refuses null for a typed field). States, roles and
// protocols are strings (their values are listed beside each field): a client must not fail on
// a value a newer broker adds. from_json throws nlohmann::json::exception for a missing or
// mistyped required field, std::invalid_argument for a malformed timestamp.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace vdi::api {

using Id = std::int64_t;
using Time = std::chrono::system_clock::time_point;

// "2026-11-22T06:14:26.123456+00:00": UTC, always six fractional digits.
std::string to_iso8601(Time t);
// Accepts what to_iso8601 writes and PostgreSQL's forms of a timestamptz: 'T' or ' ' between
// date and time, 0-6 fractional digits, an offset as +HH, +HH:MM or +HHMM (or none: UTC).
Time parse_iso8601(std::string_view text);

// The answer of every DELETE: {"deleted": true, "id": ID}.
struct Deleted {
    Id id = 0;
};
void to_json(nlohmann::json& j, const Deleted& v);
void from_json(const nlohmann::json& j, Deleted& v);

// {"status": "ok"} (GET /healthz) and {"status": "ready"} (GET /readyz).
struct Status {
    std::string status;
};
void to_json(nlohmann::json& j, const Status& v);
void from_json(const nlohmann::json& j, Status& v);

namespace field {

// put: a response field (nullopt -> null).
template <typename T>
void put(nlohmann::json& j, const char* key, const T& value)
{
    j[key] = value;
}
inline void put(nlohmann::json& j, const char* key, Time value) { j[key] = to_iso8601(value); }
inline void put(nlohmann::json& j, const char* key, const std::optional<Time>& value)
{
    j[key] = value ? nlohmann::json(to_iso8601(*value)) : nlohmann::json(nullptr);
}
template <typename T>
void put(nlohmann::json& j, const char* key, const std::optional<T>& value)
{
    j[key] = value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// put_present: a request field that may be left out (nullopt -> not written).
template <typename T>
void put_present(nlohmann::json& j, const char* key, const std::optional<T>& value)
{
    if (value) j[key] = *value;
}

// get: a required field (missing: nlohmann::json::out_of_range); optionals accept missing and null.
template <typename T>
void get(const nlohmann::json& j, const char* key, T& out)
{
    j.at(key).get_to(out);
}
inline void get(const nlohmann::json& j, const char* key, Time& out)
{
    out = parse_iso8601(j.at(key).get<std::string>());
}
inline void get(const nlohmann::json& j, const char* key, std::optional<Time>& out)
{
    const auto it = j.find(key);
    out = it == j.end() || it->is_null() ? std::nullopt : std::optional<Time>(parse_iso8601(it->get<std::string>()));
}
template <typename T>
void get(const nlohmann::json& j, const char* key, std::optional<T>& out)
{
    const auto it = j.find(key);
    out = it == j.end() || it->is_null() ? std::nullopt : std::optional<T>(it->template get<T>());
}

// put_request: a request body's field (required ones always, optional ones when given).
template <typename T>
void put_request(nlohmann::json& j, const char* key, const T& value)
{
    put(j, key, value);
}
template <typename T>
void put_request(nlohmann::json& j, const char* key, const std::optional<T>& value)
{
    put_present(j, key, value);
}

// A body's fields listed once, for both directions: `fields(v, f)` calls f(name, member) for
// each; these turn such a list into to_json and from_json.
template <typename T, typename Fields>
void write_response(nlohmann::json& j, const T& v, Fields&& fields)
{
    if (!j.is_object()) j = nlohmann::json::object();
    fields(v, [&](const char* key, const auto& member) { put(j, key, member); });
}
template <typename T, typename Fields>
void write_request(nlohmann::json& j, const T& v, Fields&& fields)
{
    if (!j.is_object()) j = nlohmann::json::object();
    fields(v, [&](const char* key, const auto& member) { put_request(j, key, member); });
}
template <typename T, typename Fields>
void read(const nlohmann::json& j, T& v, Fields&& fields)
{
    fields(v, [&](const char* key, auto& member) { get(j, key, member); });
}

}  // namespace field
}  // namespace vdi::api
