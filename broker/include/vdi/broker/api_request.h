// Parsing and validating API requests, before any database work: the route (method and path
// template), path parameters, query parameters and the JSON body against the route's schema.
// Pure functions, so the whole of it is fuzzed (tests/fuzz/broker_request_fuzz).
//
// Every refusal is an ApiError carrying the HTTP status and a stable error code; nothing invalid
// (bad UTF-8, an unknown field, a string too long, a number out of range) gets further.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vdi::broker {

class ApiError : public std::runtime_error {
public:
    ApiError(unsigned status, std::string code, const std::string& message, int retry_after_s = 0)
        : std::runtime_error(message), status_(status), code_(std::move(code)), retry_after_s_(retry_after_s)
    {
    }
    unsigned status() const { return status_; }
    const std::string& code() const { return code_; }
    int retry_after_s() const { return retry_after_s_; }  // 0: no Retry-After header

private:
    unsigned status_;
    std::string code_;
    int retry_after_s_;
};

// Who may call a route. user_in_statement: a user, whose bearer token the endpoint's own database
// statement checks (the hot path, connect: one round trip instead of two).
// Who may call a route: anyone; a signed-in user; a user the endpoint's own statement checks;
// the admin console's roles: `admin_read` (admin, helpdesk, auditor), `session_admin` (admin,
// helpdesk: acting on sessions) and `admin` (admin only).
enum class Access { public_, user, user_in_statement, admin_read, session_admin, admin };

// A JSON body field: its type and bounds.
struct FieldSpec {
    enum class Type { string, integer, boolean, string_list, object_list };
    std::string name;
    Type type = Type::string;
    bool required = false;
    std::size_t max_length = 256;  // strings (in bytes) and lists (in items)
    std::size_t min_length = 0;
    long long minimum = 0, maximum = 0;  // integers (when maximum > minimum)
    std::vector<std::string> one_of;     // strings: allowed values, if any
};

// The handler of a route: Api::invoke() calls the Api member of the same name (a switch the
// compiler checks for completeness), so this table stays free of the Api and its database, and
// parse_request() stays pure.
enum class Endpoint {
    // operations (broker/src/handlers/operations.cpp)
    healthz, readyz, metrics,
    // thin clients: auth.cpp, desktops.cpp, sessions.cpp
    login, logout, me, desktops, connect, disconnect, logoff, post_timing,
    // administration: one file per resource in broker/src/handlers/
    list_users, create_user, show_user, update_user, delete_user, disable_user,
    list_groups, create_group, show_group, delete_group, add_member, remove_member,
    list_pools, create_pool, show_pool, update_pool, delete_pool, entitle, revoke_entitlement, refresh_pool,
    pool_logon_stats,
    push_image,
    list_images, create_image, show_image, update_image,
    list_desktops, refresh_desktop,
    list_sessions, force_logoff, session_timing,
    list_hosts,
    drain_host,
    undrain_host,
    list_jobs, show_job, cancel_job,
    list_audit,
};

// One route: what it matches, who may call it, what it accepts, and what handles it.
struct RouteSpec {
    std::string method;     // "GET", "POST", ...
    std::string path;       // "/api/v1/desktops/{pool}/connect"
    Access access = Access::user;
    std::vector<FieldSpec> body;  // empty: the request must have no body (or "{}")
    std::vector<std::string> query;  // accepted query parameter names
    Endpoint endpoint;
};

struct ParsedRequest {
    const RouteSpec* route = nullptr;
    std::vector<std::string> params;  // path parameters in template order, percent-decoded
    std::map<std::string, std::string> query;
    nlohmann::json body = nlohmann::json::object();  // validated against route->body
    std::optional<std::string> bearer_token;
};

// Every route of the API (docs/api.md documents the same list).
const std::vector<RouteSpec>& api_routes();

// Matches and validates. ApiError: 404 unknown path, 405 wrong method, 400 invalid body/query
// (code "invalid_request" with what was wrong), 415 a body that is not JSON.
ParsedRequest parse_request(const std::string& method, const std::string& target, const std::string& content_type,
                            const std::string& body, const std::string& authorization);

// True if `text` is valid UTF-8 (no overlongs, no surrogates).
bool valid_utf8(const std::string& text);

// A path parameter that must be a positive id. ApiError 400 (or 404, for "not an id").
long long id_param(const ParsedRequest& request, std::size_t index);

// Query helpers (validated: ApiError 400).
std::optional<long long> query_int(const ParsedRequest& request, const std::string& name, long long min,
                                   long long max);
std::optional<std::string> query_string(const ParsedRequest& request, const std::string& name);

}  // namespace vdi::broker
