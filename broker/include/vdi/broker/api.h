// The broker's API: authentication, the thin-client endpoints, the admin endpoints and the
// operational ones, on top of a connection pool. Stateless apart from metrics: every replica
// serving the same PostgreSQL behaves the same (sessions, tokens, throttling all live there).
//
// Threads: handle() is called concurrently from the HTTP server's threads.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "vdi/broker/api_request.h"
#include "vdi/broker/connection_pool.h"
#include "vdi/broker/http_server.h"
#include "vdi/broker/metrics.h"
#include "vdi/broker/ticket_delivery.h"
#include "vdi/common/crypto.h"
#include "vdi/common/db/user_repository.h"

namespace vdi::broker {

// Failed logins lock the user name and the source address (each counted separately, in the
// database): from `failures_before_lock` consecutive failures on, each further failure locks for
// `first_lock`, doubling up to `max_lock`. A success clears the subject.
struct ThrottlePolicy {
    int user_failures_before_lock = 5;
    int address_failures_before_lock = 20;
    std::chrono::seconds first_lock{30};
    std::chrono::seconds max_lock{900};
    // The lock a subject gets after `consecutive_failures` (zero: none).
    std::chrono::seconds lock_for(int consecutive_failures, int failures_before_lock) const;
};

struct ApiSettings {
    PasswordHashParams password_hash;
    std::chrono::seconds token_ttl{8 * 3600};
    std::chrono::seconds ticket_ttl{60};
    std::chrono::milliseconds ticket_delivery_timeout{5000};
    ThrottlePolicy throttle;
    int retry_after_s = 5;  // told to clients when no desktop is ready or the database is down
};

class Api {
public:
    Api(ApiSettings settings, ConnectionPool& pool, TicketDelivery& tickets, Metrics& metrics);

    // Answers through `respond`: at once, or (connect) from the ticket listener's thread.
    void handle(const HttpRequest& request, const RequestContext& context, HttpServer::Respond respond);
    // A JSON response (no-store).
    static HttpResponse json_response(unsigned status, const nlohmann::json& body);
    // The JSON error response every refusal uses: {"error": {"code": ..., "message": ...}}.
    static HttpResponse error_response(unsigned status, const std::string& code, const std::string& message,
                                       int retry_after_s = 0);

    // The authenticated caller of a request.
    struct Caller {
        db::User user;  // (not looked up for Access::user_in_statement routes)
        std::string token_hash;
        std::string address;
        bool is_admin() const { return user.role == db::UserRole::admin; }
    };

private:
    nlohmann::json dispatch(const ParsedRequest& request, const std::optional<Caller>& caller,
                            const RequestContext& context, unsigned& status);
    // The 401 for a token that is unknown, expired or revoked (or whose user is disabled).
    static ApiError token_refused();
    // The caller's token hash and address; 401 without a bearer token.
    Caller bearer(const ParsedRequest& request, const RequestContext& context);
    // bearer() and the token's user; 401 unless the token is live and the user enabled.
    Caller authenticate(const ParsedRequest& request, const RequestContext& context);

    // thin clients
    nlohmann::json login(const ParsedRequest& request, const RequestContext& context);
    nlohmann::json logout(const Caller& caller);
    nlohmann::json me(const Caller& caller);
    nlohmann::json desktops(const Caller& caller);
    // Throws for refusals it knows at once; otherwise `answer` gets the response when the host
    // agent acknowledges the ticket (or does not, in time).
    void connect(const ParsedRequest& request, const Caller& caller, std::function<void(HttpResponse)> answer);
    nlohmann::json disconnect(long long session_id, const Caller& caller);
    nlohmann::json logoff(long long session_id, const Caller& caller, bool forced);
    // administration
    nlohmann::json admin(const ParsedRequest& request, const Caller& caller, unsigned& status);
    // operations
    bool database_ready();
    std::string metrics_text();

    ApiSettings settings_;
    ConnectionPool& pool_;
    TicketDelivery& tickets_;
    Metrics& metrics_;
    std::string dummy_hash_;  // verified against for unknown users, so timing does not tell
};

// A new display ticket for `protocol`: VNC authentication carries 8 characters at most.
std::string make_display_ticket(const std::string& protocol);

// ISO 8601 UTC with microseconds ("2026-11-22T06:14:26.123456+00:00"), as PostgreSQL's JSON has it.
std::string iso8601(std::chrono::system_clock::time_point t);

}  // namespace vdi::broker
