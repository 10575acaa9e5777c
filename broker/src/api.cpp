// The API's frame: parsing, authentication, errors, metrics, and the operational endpoints.
#include "vdi/broker/api.h"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "vdi/common/db/database.h"
#include "vdi/common/db/desktop_repository.h"
#include "vdi/common/error.h"

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

std::string make_display_ticket(const std::string& protocol)
{
    // VNC's DES challenge uses 8 characters; RDP carries a longer one. Both are single-use and
    // expire in a minute, and the VMM accepts one attempt per ticket.
    return random_token(protocol == "vnc" ? 6 : 18);  // base64url: 8 and 24 characters
}

std::string iso8601(std::chrono::system_clock::time_point t)
{
    // the database layer's form ("2026-11-22 06:14:26.123456+00"), written as ISO 8601
    std::string text = db::to_sql(t);
    text[10] = 'T';
    return text + ":00";
}

Api::Api(ApiSettings settings, ConnectionPool& pool, TicketDelivery& tickets, Metrics& metrics)
    : settings_(std::move(settings)), pool_(pool), tickets_(tickets), metrics_(metrics),
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
            if (parsed.route->access == Access::admin && !caller->is_admin()) {
                throw ApiError(403, "forbidden", "this endpoint is for administrators");
            }
        }
        if (route == "/api/v1/desktops/{pool}/connect") {
            // answered once the host agent has the ticket: no thread waits for that
            connect(parsed, *caller, [answer, route](HttpResponse r) { answer(route, std::move(r)); });
            return;
        }
        if (route == "/metrics") {
            response = HttpResponse{http::status::ok, 11};
            response.set(http::field::content_type, "text/plain; version=0.0.4");
            response.body() = metrics_text();
        } else {
            unsigned status = 200;
            const nlohmann::json body = dispatch(parsed, caller, context, status);
            response = json_response(status, body);
        }
    } catch (const ApiError& e) {
        response = error_response(e.status(), e.code(), e.what(), e.retry_after_s());
    } catch (const ConflictError& e) {
        response = error_response(409, "conflict", e.what());
    } catch (const DbError& e) {
        spdlog::warn("broker.api database unavailable on {} {}: {}", method, route, e.what());
        response = error_response(503, "database_unavailable", "the database is unavailable; try again shortly",
                                  settings_.retry_after_s);
    } catch (const std::exception& e) {
        spdlog::error("broker.api {} {} failed: {}", method, route, e.what());
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

nlohmann::json Api::dispatch(const ParsedRequest& request, const std::optional<Caller>& caller,
                             const RequestContext& context, unsigned& status)
{
    const std::string& route = request.route->path;
    if (route == "/healthz") {
        return {{"status", "ok"}};
    }
    if (route == "/readyz") {
        if (!database_ready()) {
            throw ApiError(503, "not_ready", "the database is unreachable", settings_.retry_after_s);
        }
        return {{"status", "ready"}};
    }
    if (route == "/api/v1/login") return login(request, context);
    if (route == "/api/v1/logout") return logout(*caller);
    if (route == "/api/v1/me") return me(*caller);
    if (route == "/api/v1/desktops") return desktops(*caller);
    if (route == "/api/v1/sessions/{id}/disconnect") return disconnect(id_param(request, 0), *caller);
    if (route == "/api/v1/sessions/{id}/logoff") return logoff(id_param(request, 0), *caller, false);
    return admin(request, *caller, status);
}

bool Api::database_ready()
{
    try {
        auto lease = pool_.acquire();
        pqxx::nontransaction tx(*lease);
        tx.exec("SELECT 1");
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

std::string Api::metrics_text()
{
    std::string extra;
    try {
        auto lease = pool_.acquire();
        pqxx::nontransaction tx(*lease);
        const auto rows = tx.exec(
            std::string("SELECT p.name, count(d.id) FILTER (WHERE ") + db::ready_desktop_sql() + ") AS ready, "
            "count(d.id) FILTER (WHERE d.assigned_user_id IS NOT NULL) AS in_use "
            "FROM pools p LEFT JOIN desktops d ON d.pool_id = p.id AND d.desired_state <> 'deleted' "
            "GROUP BY p.name ORDER BY p.name");
        extra += "# HELP vdi_pool_ready_desktops Desktops ready to hand out, per pool.\n"
                 "# TYPE vdi_pool_ready_desktops gauge\n";
        for (const auto& row : rows) {
            extra += fmt::format("vdi_pool_ready_desktops{{pool=\"{}\"}} {}\n", row[0].as<std::string>(),
                                 row[1].as<long>());
        }
        extra += "# HELP vdi_pool_in_use_desktops Desktops assigned to users, per pool.\n"
                 "# TYPE vdi_pool_in_use_desktops gauge\n";
        for (const auto& row : rows) {
            extra += fmt::format("vdi_pool_in_use_desktops{{pool=\"{}\"}} {}\n", row[0].as<std::string>(),
                                 row[2].as<long>());
        }
        extra += "# HELP vdi_broker_database_up Whether the database answered this scrape.\n"
                 "# TYPE vdi_broker_database_up gauge\nvdi_broker_database_up 1\n";
    } catch (const std::exception&) {
        extra += "# HELP vdi_broker_database_up Whether the database answered this scrape.\n"
                 "# TYPE vdi_broker_database_up gauge\nvdi_broker_database_up 0\n";
    }
    extra += fmt::format("# HELP vdi_broker_ticket_listener_up Whether ticket acknowledgements are being received.\n"
                         "# TYPE vdi_broker_ticket_listener_up gauge\nvdi_broker_ticket_listener_up {}\n",
                         tickets_.listening() ? 1 : 0);
    return metrics_.render(extra);
}

}  // namespace vdi::broker
