// Route table, path matching and JSON body validation.
#include "vdi/broker/api_request.h"

#include <charconv>

#include "vdi/common/api/user.h"

namespace vdi::broker {
namespace {

using Type = FieldSpec::Type;

FieldSpec str(std::string name, bool required, std::size_t max_length = 256, std::size_t min_length = 0)
{
    FieldSpec f;
    f.name = std::move(name);
    f.type = Type::string;
    f.required = required;
    f.max_length = max_length;
    f.min_length = min_length;
    return f;
}

FieldSpec choice(std::string name, bool required, std::vector<std::string> values)
{
    FieldSpec f = str(std::move(name), required, 32, 1);
    f.one_of = std::move(values);
    return f;
}

FieldSpec integer(std::string name, bool required, long long minimum, long long maximum)
{
    FieldSpec f;
    f.name = std::move(name);
    f.type = Type::integer;
    f.required = required;
    f.minimum = minimum;
    f.maximum = maximum;
    return f;
}

FieldSpec boolean(std::string name, bool required = false)
{
    FieldSpec f;
    f.name = std::move(name);
    f.type = Type::boolean;
    f.required = required;
    return f;
}

FieldSpec string_list(std::string name, bool required, std::size_t max_items)
{
    FieldSpec f;
    f.name = std::move(name);
    f.type = Type::string_list;
    f.required = required;
    f.max_length = max_items;
    return f;
}

FieldSpec object_list(std::string name, bool required, std::size_t max_items)
{
    FieldSpec f;
    f.name = std::move(name);
    f.type = Type::object_list;
    f.required = required;
    f.max_length = max_items;
    return f;
}

constexpr long long max_id = 9'000'000'000'000'000'000LL;
constexpr long long day_s = 86'400;

std::vector<FieldSpec> pool_fields(bool create)
{
    return {str("name", create, 63, 1),
            str("display_name", false, 200),
            choice("assignment", false, {"floating", "dedicated"}),
            integer("golden_image_id", create, 1, max_id),
            integer("min_ready", false, 0, 10'000),
            integer("max_size", false, 0, 10'000),
            string_list("protocols", false, 2),
            choice("refresh_policy", false, {"on_logoff", "never"}),
            str("refresh_cron", false, 100),
            integer("idle_timeout_s", false, 0, 30 * day_s),
            integer("disconnected_timeout_s", false, 0, 30 * day_s),
            integer("max_session_s", false, 0, 30 * day_s),
            boolean("enabled")};
}

std::vector<RouteSpec> make_routes()
{
    const auto user = Access::user;
    const auto admin = Access::admin;
    const auto read = Access::admin_read;       // helpdesk and auditor too
    const auto sessions = Access::session_admin;  // helpdesk too
    const auto public_ = Access::public_;
    const std::vector<std::string> paging = {"limit", "before"};
    auto with_paging = [&](std::vector<std::string> names) {
        names.insert(names.end(), paging.begin(), paging.end());
        return names;
    };
    return {
        // operations
        {"GET", "/healthz", public_, {}, {}, Endpoint::healthz},
        {"GET", "/readyz", public_, {}, {}, Endpoint::readyz},
        {"GET", "/metrics", public_, {}, {}, Endpoint::metrics},
        // thin clients
        {"POST", "/api/v1/login", public_, {str("user", true, 64, 1), str("password", true, 1024, 1)}, {}, Endpoint::login},
        {"POST", "/api/v1/logout", user, {}, {}, Endpoint::logout},
        {"GET", "/api/v1/me", user, {}, {}, Endpoint::me},
        {"GET", "/api/v1/desktops", user, {}, {}, Endpoint::desktops},
        {"POST", "/api/v1/desktops/{pool}/connect", Access::user_in_statement, {choice("protocol", true, {"vnc", "rdp"})},
         {}, Endpoint::connect},
        {"POST", "/api/v1/sessions/{id}/disconnect", user, {}, {}, Endpoint::disconnect},
        {"POST", "/api/v1/sessions/{id}/logoff", user, {}, {}, Endpoint::logoff},
        // the thin client's stages of a connect, after its first picture (docs/logon-timing.md)
        {"POST", "/api/v1/sessions/{id}/timing", user,
         {integer("trace_id", true, 1, max_id), boolean("reconnect"), integer("total_us", true, 0, 3'600'000'000LL),
          object_list("stages", true, 16)},
         {}, Endpoint::post_timing},
        // administration: users and groups
        {"GET", "/api/v1/admin/users", read, {}, {}, Endpoint::list_users},
        {"POST", "/api/v1/admin/users", admin,
         {str("username", true, 64, 1), str("password", true, 1024, api::min_password_length), str("display_name", false, 200),
          choice("role", false, {"user", "admin", "helpdesk", "auditor"})},
         {}, Endpoint::create_user},
        {"GET", "/api/v1/admin/users/{id}", read, {}, {}, Endpoint::show_user},
        {"PATCH", "/api/v1/admin/users/{id}", admin,
         {str("display_name", false, 200), str("password", false, 1024, api::min_password_length), choice("role", false, {"user", "admin", "helpdesk", "auditor"}),
          boolean("disabled")},
         {}, Endpoint::update_user},
        {"DELETE", "/api/v1/admin/users/{id}", admin, {}, {}, Endpoint::delete_user},
        {"POST", "/api/v1/admin/users/{id}/disable", admin, {}, {}, Endpoint::disable_user},
        {"GET", "/api/v1/admin/groups", read, {}, {}, Endpoint::list_groups},
        {"POST", "/api/v1/admin/groups", admin, {str("name", true, 64, 1), str("description", false, 500)}, {}, Endpoint::create_group},
        {"GET", "/api/v1/admin/groups/{id}", read, {}, {}, Endpoint::show_group},
        {"DELETE", "/api/v1/admin/groups/{id}", admin, {}, {}, Endpoint::delete_group},
        {"POST", "/api/v1/admin/groups/{id}/members", admin, {integer("user_id", true, 1, max_id)}, {}, Endpoint::add_member},
        {"DELETE", "/api/v1/admin/groups/{id}/members/{user}", admin, {}, {}, Endpoint::remove_member},
        // pools, entitlements, images
        {"GET", "/api/v1/admin/pools", read, {}, {}, Endpoint::list_pools},
        {"POST", "/api/v1/admin/pools", admin, pool_fields(true), {}, Endpoint::create_pool},
        {"GET", "/api/v1/admin/pools/{id}", read, {}, {}, Endpoint::show_pool},
        {"PATCH", "/api/v1/admin/pools/{id}", admin, pool_fields(false), {}, Endpoint::update_pool},
        {"DELETE", "/api/v1/admin/pools/{id}", admin, {}, {}, Endpoint::delete_pool},
        {"POST", "/api/v1/admin/pools/{id}/entitlements", admin,
         {integer("user_id", false, 1, max_id), integer("group_id", false, 1, max_id)},
         {}, Endpoint::entitle},
        {"DELETE", "/api/v1/admin/entitlements/{id}", admin, {}, {}, Endpoint::revoke_entitlement},
        {"POST", "/api/v1/admin/pools/{id}/refresh", admin, {integer("force_after_s", false, 0, 7 * day_s)}, {}, Endpoint::refresh_pool},
        {"GET", "/api/v1/admin/pools/{id}/logon-stats", read, {}, {"since", "period_s"}, Endpoint::pool_logon_stats},
        {"POST", "/api/v1/admin/pools/{id}/push", admin,
         {integer("image_id", true, 1, max_id), integer("force_after_s", false, 0, 7 * day_s)},
         {}, Endpoint::push_image},
        {"GET", "/api/v1/admin/images", read, {}, {}, Endpoint::list_images},
        {"POST", "/api/v1/admin/images", admin,
         {str("name", true, 63, 1), str("state_path", true, 4096, 1), str("memory_path", true, 4096, 1),
          integer("memory_mib", true, 16, 1 << 20), integer("vcpus", false, 1, 64), integer("fb_width", false, 320, 8192),
          integer("fb_height", false, 200, 8192), str("description", false, 500),
          choice("state", false, {"building", "ready", "failed", "retired"})},
         {}, Endpoint::create_image},
        {"GET", "/api/v1/admin/images/{id}", read, {}, {}, Endpoint::show_image},
        {"PATCH", "/api/v1/admin/images/{id}", admin,
         {choice("state", true, {"building", "ready", "failed", "retired"}), str("error", false, 1000)},
         {}, Endpoint::update_image},
        // desktops, sessions, hosts, jobs, audit
        {"GET", "/api/v1/admin/desktops", read, {}, with_paging({"pool_id", "state"}), Endpoint::list_desktops},
        {"POST", "/api/v1/admin/desktops/{id}/refresh", admin, {}, {}, Endpoint::refresh_desktop},
        {"GET", "/api/v1/admin/sessions", read, {}, with_paging({"user_id", "pool_id", "live"}), Endpoint::list_sessions},
        {"POST", "/api/v1/admin/sessions/{id}/logoff", sessions, {}, {}, Endpoint::force_logoff},
        {"GET", "/api/v1/admin/sessions/{id}/timing", read, {}, {"limit"}, Endpoint::session_timing},
        {"GET", "/api/v1/admin/hosts", read, {}, {}, Endpoint::list_hosts},
        {"POST", "/api/v1/admin/hosts/{id}/drain", admin, {}, {}, Endpoint::drain_host},
        {"POST", "/api/v1/admin/hosts/{id}/undrain", admin, {}, {}, Endpoint::undrain_host},
        {"GET", "/api/v1/admin/jobs", read, {}, with_paging({"pool_id", "state"}), Endpoint::list_jobs},
        {"GET", "/api/v1/admin/jobs/{id}", read, {}, {}, Endpoint::show_job},
        {"POST", "/api/v1/admin/jobs/{id}/cancel", admin, {}, {}, Endpoint::cancel_job},
        {"GET", "/api/v1/admin/audit", read, {}, with_paging({"actor_user_id", "action"}), Endpoint::list_audit},
    };
}

std::vector<std::string> split_path(const std::string& path)
{
    std::vector<std::string> segments;
    std::size_t start = 1;
    while (start <= path.size()) {
        const auto slash = path.find('/', start);
        const auto end = slash == std::string::npos ? path.size() : slash;
        segments.push_back(path.substr(start, end - start));
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    return segments;
}

int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string percent_decode(const std::string& text)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%') {
            const int high = i + 2 < text.size() + 0 ? hex_value(text[i + 1]) : -1;
            const int low = i + 2 < text.size() + 0 ? hex_value(text[i + 2]) : -1;
            if (i + 2 >= text.size() || high < 0 || low < 0) {
                throw ApiError(400, "invalid_request", "malformed percent-encoding in the URL");
            }
            out.push_back(static_cast<char>(high * 16 + low));
            i += 2;
        } else if (text[i] == '+') {
            out.push_back(' ');
        } else {
            out.push_back(text[i]);
        }
    }
    if (!valid_utf8(out) || out.find('\0') != std::string::npos) {
        throw ApiError(400, "invalid_request", "the URL is not valid UTF-8");
    }
    return out;
}

void validate_field(const FieldSpec& spec, const nlohmann::json& value)
{
    const auto bad = [&](const std::string& why) {
        throw ApiError(400, "invalid_request", "field '" + spec.name + "' " + why);
    };
    switch (spec.type) {
    case Type::string: {
        if (!value.is_string()) bad("must be a string");
        const auto& text = value.get_ref<const std::string&>();
        if (text.size() > spec.max_length) bad("is longer than " + std::to_string(spec.max_length) + " bytes");
        if (text.size() < spec.min_length) {
            bad(spec.min_length == 1 ? "must not be empty"
                                     : "is shorter than " + std::to_string(spec.min_length) + " characters");
        }
        if (text.find('\0') != std::string::npos) bad("contains a NUL character");
        if (!spec.one_of.empty() && std::find(spec.one_of.begin(), spec.one_of.end(), text) == spec.one_of.end()) {
            std::string allowed;
            for (const auto& v : spec.one_of) allowed += (allowed.empty() ? "" : ", ") + v;
            bad("must be one of: " + allowed);
        }
        break;
    }
    case Type::integer: {
        if (!value.is_number_integer()) bad("must be an integer");
        const long long n = value.is_number_unsigned() && value.get<unsigned long long>() > 9'223'372'036'854'775'807ULL
                                ? spec.maximum + 1
                                : value.get<long long>();
        if (spec.maximum > spec.minimum && (n < spec.minimum || n > spec.maximum)) {
            bad("must be between " + std::to_string(spec.minimum) + " and " + std::to_string(spec.maximum));
        }
        break;
    }
    case Type::boolean:
        if (!value.is_boolean()) bad("must be true or false");
        break;
    case Type::string_list:
        if (!value.is_array()) bad("must be a list of strings");
        if (value.size() > spec.max_length) bad("has more than " + std::to_string(spec.max_length) + " items");
        for (const auto& item : value) {
            if (!item.is_string() || item.get_ref<const std::string&>().size() > 64) bad("must hold short strings");
        }
        break;
    case Type::object_list:
        if (!value.is_array()) bad("must be a list of objects");
        if (value.size() > spec.max_length) bad("has more than " + std::to_string(spec.max_length) + " items");
        for (const auto& item : value) {
            if (!item.is_object() || item.size() > 8) bad("must hold small objects");
        }
        break;
    }
}

}  // namespace

bool valid_utf8(const std::string& text)
{
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t length;
        std::uint32_t code;
        if ((c & 0xe0) == 0xc0) {
            length = 2;
            code = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            length = 3;
            code = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            length = 4;
            code = c & 0x07;
        } else {
            return false;
        }
        if (i + length > n) return false;
        for (std::size_t k = 1; k < length; ++k) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            code = (code << 6) | (s[i + k] & 0x3f);
        }
        const std::uint32_t minimum = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000;
        if (code < minimum || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
        i += length;
    }
    return true;
}

const std::vector<RouteSpec>& api_routes()
{
    static const std::vector<RouteSpec> routes = make_routes();
    return routes;
}

ParsedRequest parse_request(const std::string& method, const std::string& target, const std::string& content_type,
                            const std::string& body, const std::string& authorization)
{
    if (target.empty() || target[0] != '/') {
        throw ApiError(400, "invalid_request", "the request target must be an absolute path");
    }
    const auto question = target.find('?');
    const std::string path = target.substr(0, question);
    const std::string query = question == std::string::npos ? "" : target.substr(question + 1);
    const auto segments = split_path(path);

    ParsedRequest parsed;
    bool path_matched = false;
    for (const auto& route : api_routes()) {
        const auto pattern = split_path(route.path);
        if (pattern.size() != segments.size()) continue;
        std::vector<std::string> params;
        bool match = true;
        for (std::size_t i = 0; i < pattern.size() && match; ++i) {
            if (pattern[i].size() > 2 && pattern[i].front() == '{') {
                if (segments[i].empty()) match = false;
                else params.push_back(percent_decode(segments[i]));
            } else {
                match = pattern[i] == segments[i];
            }
        }
        if (!match) continue;
        path_matched = true;
        if (route.method != method) continue;
        parsed.route = &route;
        parsed.params = std::move(params);
        break;
    }
    if (parsed.route == nullptr) {
        throw path_matched ? ApiError(405, "method_not_allowed", method + " is not allowed on " + path)
                           : ApiError(404, "not_found", "no such endpoint");
    }
    const RouteSpec& route = *parsed.route;

    // query parameters: only the route's, each at most once
    if (!query.empty()) {
        std::size_t start = 0;
        while (start <= query.size()) {
            const auto amp = query.find('&', start);
            const std::string pair = query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
            if (!pair.empty()) {
                const auto eq = pair.find('=');
                const std::string name = percent_decode(pair.substr(0, eq));
                const std::string value = eq == std::string::npos ? "" : percent_decode(pair.substr(eq + 1));
                if (std::find(route.query.begin(), route.query.end(), name) == route.query.end()) {
                    throw ApiError(400, "invalid_request", "unknown query parameter '" + name + "'");
                }
                if (value.size() > 256) {
                    throw ApiError(400, "invalid_request", "query parameter '" + name + "' is too long");
                }
                if (!parsed.query.emplace(name, value).second) {
                    throw ApiError(400, "invalid_request", "query parameter '" + name + "' given twice");
                }
            }
            if (amp == std::string::npos) break;
            start = amp + 1;
        }
    }

    if (authorization.rfind("Bearer ", 0) == 0) {
        const std::string token = authorization.substr(7);
        if (!token.empty() && token.size() <= 128) {
            parsed.bearer_token = token;
        }
    }

    // the body: a JSON object holding only the route's fields, or nothing at all
    const bool blank = body.find_first_not_of(" \t\r\n") == std::string::npos;
    if (blank) {
        if (!route.body.empty() && std::any_of(route.body.begin(), route.body.end(), [](const FieldSpec& f) {
                return f.required;
            })) {
            throw ApiError(400, "invalid_request", "a JSON body is required");
        }
        return parsed;
    }
    if (content_type.rfind("application/json", 0) != 0) {
        throw ApiError(415, "unsupported_media_type", "the body must be JSON (Content-Type: application/json)");
    }
    if (!valid_utf8(body)) {
        throw ApiError(400, "invalid_request", "the body is not valid UTF-8");
    }
    nlohmann::json json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded()) {
        throw ApiError(400, "invalid_json", "the body is not valid JSON");
    }
    if (!json.is_object()) {
        throw ApiError(400, "invalid_request", "the body must be a JSON object");
    }
    for (const auto& item : json.items()) {
        const std::string& name = item.key();
        const auto spec = std::find_if(route.body.begin(), route.body.end(),
                                       [&](const FieldSpec& f) { return f.name == name; });
        if (spec == route.body.end()) {
            throw ApiError(400, "invalid_request", "unknown field '" + name.substr(0, 64) + "'");
        }
        validate_field(*spec, item.value());
    }
    for (const auto& spec : route.body) {
        if (spec.required && !json.contains(spec.name)) {
            throw ApiError(400, "invalid_request", "field '" + spec.name + "' is required");
        }
    }
    parsed.body = std::move(json);
    return parsed;
}

long long id_param(const ParsedRequest& request, std::size_t index)
{
    const std::string& text = request.params.at(index);
    long long value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value <= 0) {
        throw ApiError(404, "not_found", "'" + text.substr(0, 64) + "' is not an id");
    }
    return value;
}

std::optional<long long> query_int(const ParsedRequest& request, const std::string& name, long long min,
                                   long long max)
{
    const auto it = request.query.find(name);
    if (it == request.query.end()) return std::nullopt;
    long long value = 0;
    const auto [end, error] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
    if (error != std::errc() || end != it->second.data() + it->second.size() || value < min || value > max) {
        throw ApiError(400, "invalid_request",
                       "query parameter '" + name + "' must be an integer from " + std::to_string(min) + " to " +
                           std::to_string(max));
    }
    return value;
}

std::optional<std::string> query_string(const ParsedRequest& request, const std::string& name)
{
    const auto it = request.query.find(name);
    if (it == request.query.end()) return std::nullopt;
    return it->second;
}

}  // namespace vdi::broker
