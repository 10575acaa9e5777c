// The API's frame: parsing, authentication, the call of a route's handler, errors and metrics.
#include "vdi/broker/api.h"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <fmt/format.h>

#include "vdi/common/api/json.h"
#include "vdi/common/db/database.h"
#include "vdi/common/error.h"
#include "vdi/common/logging.h"

namespace vdi::broker {

namespace http = boost::beast::http;

std::chrono::seconds ThrottlePolicy::lock_for(int consecutive_failures, int failures_before_lock) const
{
    if (consecutive_failures < failures_before_lock) {
        return std::chrono::seconds(0);
    }
    const int doublings = std::min(consecutive_failures - failures_before_lock, 20);
    return std::min(max_lock, std::chrono::seconds(first_lock.count() << doublings));
}

namespace {

// The caller's role against the route's: 403 naming what the role may do.
void check_role(Access access, const Api::Caller& caller)
{
    const std::string role(db::to_string(caller.user.role));
    const bool console = caller.reads_admin();
    if (access == Access::admin_read && !console) {
        throw ApiError(403, "forbidden", "this endpoint is for administrators");
    }
    if (access == Access::session_admin && !caller.acts_on_sessions()) {
        throw ApiError(403, "forbidden", console ? "the " + role + " role may only read" : "this endpoint is for administrators");
    }
    if (access == Access::admin && !caller.is_admin()) {
        if (!console) throw ApiError(403, "forbidden", "this endpoint is for administrators");
        throw ApiError(403, "forbidden",
                       caller.acts_on_sessions() ? "the " + role + " role may read, and act only on sessions"
                                                 : "the " + role + " role may only read");
    }
}

}  // namespace

std::string make_display_ticket(const std::string& protocol)
{
    // VNC's DES challenge uses 8 characters; RDP carries a longer one. Both are single-use and
    // expire in a minute, and the VMM accepts one attempt per ticket.
    return random_token(protocol == "vnc" ? 6 : 18);  // base64url: 8 and 24 characters
}

Api::Api(ApiSettings settings, ConnectionPool& pool, TicketDelivery& tickets, Metrics& metrics, const Clock& clock)
    : settings_(std::move(settings)), pool_(pool), tickets_(tickets), metrics_(metrics), clock_(clock),
      traces_(settings_.trace_logons ? std::make_unique<LogonTraceWriter>(pool) : nullptr),
      dummy_hash_(hash_password(random_token(16), settings_.password_hash))
{
}

HttpResponse Api::error_response(unsigned status, const std::string& code, const std::string& message,
                                 int retry_after_s)
{
    HttpResponse response{static_cast<http::status>(status), 11};
    response.set(http::field::content_type, "application/json");
    response.set(http::field::cache_control, "no-store");
    if (retry_after_s > 0) {
        response.set(http::field::retry_after, std::to_string(retry_after_s));
    }
    if (status == 401) {
        response.set(http::field::www_authenticate, "Bearer");
    }
    response.body() = nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
    return response;
}

HttpResponse Api::json_response(unsigned status, const nlohmann::json& body)
{
    HttpResponse response{static_cast<http::status>(status), 11};
    response.set(http::field::content_type, "application/json");
    response.set(http::field::cache_control, "no-store");
    response.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return response;
}

void Api::handle(const HttpRequest& request, const RequestContext& context, HttpServer::Respond respond)
{
    const auto started = std::chrono::steady_clock::now();
    const std::string method(request.method_string());
    std::string route = "unmatched";
    // every answer passes here once: the Server header and the request's metrics
    const auto answer = [this, started, method, respond = std::move(respond)](const std::string& route,
                                                                             HttpResponse response) {
        response.set(http::field::server, "vdi-broker");
        metrics_.record_request(method, route, response.result_int(), std::chrono::steady_clock::now() - started);
        respond(std::move(response));
    };
    HttpResponse response;
    try {
        const ParsedRequest parsed =
            parse_request(method, std::string(request.target()), std::string(request[http::field::content_type]),
                          request.body(), std::string(request[http::field::authorization]));
        route = parsed.route->path;
        std::optional<Caller> caller;
        if (parsed.route->access == Access::user_in_statement) {
            caller = bearer(parsed, context);  // (the endpoint's statement authenticates it)
        } else if (parsed.route->access != Access::public_) {
            caller = authenticate(parsed, context);
            check_role(parsed.route->access, *caller);
        }
        // the connect handler answers once the host agent has the ticket: no thread waits for that
        const Caller none;
        const Call call{parsed, caller ? *caller : none, context, started,
                        [answer, route](HttpResponse r) { answer(route, std::move(r)); }};
        Reply reply = invoke(parsed.route->endpoint, call);
        if (reply.deferred) {
            return;
        }
        response = reply.response ? std::move(*reply.response) : json_response(reply.status, reply.body);
    } catch (const ApiError& e) {
        response = error_response(e.status(), e.code(), e.what(), e.retry_after_s());
    } catch (const ConflictError& e) {
        response = error_response(409, "conflict", e.what());
    } catch (const DbError& e) {
        logger("broker.api")->warn("database unavailable method={} route={} error=\"{}\"", method, route, e.what());
        response = error_response(503, "database_unavailable", "the database is unavailable; try again shortly",
                                  settings_.retry_after_s);
    } catch (const std::exception& e) {
        logger("broker.api")->error("request failed method={} route={} error=\"{}\"", method, route, e.what());
        response = error_response(500, "internal_error", "internal error");
    }
    answer(route, std::move(response));
}

ApiError Api::token_refused()
{
    return ApiError(401, "unauthenticated", "the token is unknown, expired or revoked; log in again");
}

Api::Caller Api::bearer(const ParsedRequest& request, const RequestContext& context)
{
    if (!request.bearer_token) {
        throw ApiError(401, "unauthenticated", "log in first (Authorization: Bearer TOKEN)");
    }
    Caller caller;
    caller.token_hash = sha256_hex(*request.bearer_token);
    caller.address = context.remote_address;
    return caller;
}

Api::Caller Api::authenticate(const ParsedRequest& request, const RequestContext& context)
{
    Caller caller = bearer(request, context);
    auto lease = pool_.acquire();
    // a single statement: no BEGIN/COMMIT round trips for every request
    auto user = db::in_autocommit(*lease, "authenticate a token", [&](pqxx::nontransaction& tx) {
        return db::UserRepository(tx).find_by_api_token(caller.token_hash);
    });
    if (!user) {
        throw token_refused();
    }
    caller.user = std::move(*user);
    return caller;
}

Api::Reply Api::invoke(Endpoint endpoint, const Call& call)
{
    // (no default: the compiler insists on a handler for every endpoint of the route table)
    switch (endpoint) {
    case Endpoint::healthz: return healthz(call);
    case Endpoint::readyz: return readyz(call);
    case Endpoint::metrics: return metrics(call);
    case Endpoint::login: return login(call);
    case Endpoint::logout: return logout(call);
    case Endpoint::me: return me(call);
    case Endpoint::desktops: return desktops(call);
    case Endpoint::connect: return connect(call);
    case Endpoint::disconnect: return disconnect(call);
    case Endpoint::logoff: return logoff(call);
    case Endpoint::list_users: return list_users(call);
    case Endpoint::create_user: return create_user(call);
    case Endpoint::show_user: return show_user(call);
    case Endpoint::update_user: return update_user(call);
    case Endpoint::delete_user: return delete_user(call);
    case Endpoint::disable_user: return disable_user(call);
    case Endpoint::list_groups: return list_groups(call);
    case Endpoint::create_group: return create_group(call);
    case Endpoint::show_group: return show_group(call);
    case Endpoint::delete_group: return delete_group(call);
    case Endpoint::add_member: return add_member(call);
    case Endpoint::remove_member: return remove_member(call);
    case Endpoint::list_pools: return list_pools(call);
    case Endpoint::create_pool: return create_pool(call);
    case Endpoint::show_pool: return show_pool(call);
    case Endpoint::update_pool: return update_pool(call);
    case Endpoint::delete_pool: return delete_pool(call);
    case Endpoint::entitle: return entitle(call);
    case Endpoint::revoke_entitlement: return revoke_entitlement(call);
    case Endpoint::refresh_pool: return refresh_pool(call);
    case Endpoint::push_image: return push_image(call);
    case Endpoint::list_images: return list_images(call);
    case Endpoint::create_image: return create_image(call);
    case Endpoint::show_image: return show_image(call);
    case Endpoint::update_image: return update_image(call);
    case Endpoint::list_desktops: return list_desktops(call);
    case Endpoint::refresh_desktop: return refresh_desktop(call);
    case Endpoint::list_sessions: return list_sessions(call);
    case Endpoint::force_logoff: return force_logoff(call);
    case Endpoint::post_timing: return post_timing(call);
    case Endpoint::session_timing: return session_timing(call);
    case Endpoint::pool_logon_stats: return pool_logon_stats(call);
    case Endpoint::list_hosts: return list_hosts(call);
    case Endpoint::drain_host: return drain_host(call);
    case Endpoint::undrain_host: return undrain_host(call);
    case Endpoint::list_jobs: return list_jobs(call);
    case Endpoint::show_job: return show_job(call);
    case Endpoint::cancel_job: return cancel_job(call);
    case Endpoint::list_audit: return list_audit(call);
    }
    throw ApiError(404, "not_found", "no such endpoint");
}

}  // namespace vdi::broker
