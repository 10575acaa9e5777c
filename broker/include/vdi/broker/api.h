// The broker's API: authentication, the thin-client endpoints, the admin endpoints and the
// operational ones, on top of a connection pool. Stateless apart from metrics: every replica
// serving the same PostgreSQL behaves the same (sessions, tokens, throttling all live there).
//
// Threads: handle() is called concurrently from the HTTP server's threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "vdi/broker/api_request.h"
#include "vdi/broker/connection_pool.h"
#include "vdi/broker/http_server.h"
#include "vdi/broker/logon_timing.h"
#include "vdi/broker/metrics.h"
#include "vdi/broker/ticket_delivery.h"
#include "vdi/common/clock.h"
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
    bool trace_logons = true;  // every connect's logon trace (docs/logon-timing.md)
};

class Api {
public:
    // `clock`: the wall clock for token expiry, login locks and job deadlines (tests drive one).
    Api(ApiSettings settings, ConnectionPool& pool, TicketDelivery& tickets, Metrics& metrics,
        const Clock& clock = system_clock());

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
        // helpdesk and auditor read what an admin reads; helpdesk also acts on sessions
        bool reads_admin() const { return is_admin() || acts_on_sessions() || user.role == db::UserRole::auditor; }
        bool acts_on_sessions() const { return is_admin() || user.role == db::UserRole::helpdesk; }
    };

    // What a handler gets: the validated request, its caller (empty for public routes) and the
    // connection's context.
    struct Call {
        const ParsedRequest& request;
        const Caller& caller;
        const RequestContext& context;
        std::chrono::steady_clock::time_point started;  // the request complete (the broker's logon stages count from here)
        // for a handler that answers later, from another thread (connect)
        std::function<void(HttpResponse)> answer_later;
    };
    // What a handler returns: a JSON body with its status, a complete response (metrics), or
    // nothing yet (it has arranged for Call::answer_later to be called).
    struct Reply {
        Reply() = default;
        Reply(unsigned status_code, nlohmann::json json_body) : status(status_code), body(std::move(json_body)) {}
        unsigned status = 200;
        nlohmann::json body;
        std::optional<HttpResponse> response;
        bool deferred = false;
    };

private:
    // Calls the handler of the request's route (RouteSpec::endpoint).
    Reply invoke(Endpoint endpoint, const Call& call);
    // The 401 for a token that is unknown, expired or revoked (or whose user is disabled).
    static ApiError token_refused();
    // The caller's token hash and address; 401 without a bearer token.
    Caller bearer(const ParsedRequest& request, const RequestContext& context);
    // bearer() and the token's user; 401 unless the token is live and the user enabled.
    Caller authenticate(const ParsedRequest& request, const RequestContext& context);

    // ---- the handlers, one per Endpoint (broker/src/handlers/, a file per resource)
    // operations.cpp
    Reply healthz(const Call& call);
    Reply readyz(const Call& call);
    Reply metrics(const Call& call);
    // auth.cpp
    Reply login(const Call& call);
    Reply logout(const Call& call);
    Reply me(const Call& call);
    // desktops.cpp. connect: throws for refusals it knows at once; otherwise answers later, when
    // the host agent acknowledges the ticket (or does not, in time).
    Reply desktops(const Call& call);
    Reply connect(const Call& call);
    Reply list_desktops(const Call& call);
    Reply refresh_desktop(const Call& call);
    // sessions.cpp
    Reply disconnect(const Call& call);
    Reply logoff(const Call& call);
    Reply force_logoff(const Call& call);
    Reply post_timing(const Call& call);
    Reply session_timing(const Call& call);
    Reply pool_logon_stats(const Call& call);
    Reply list_sessions(const Call& call);
    // users.cpp
    Reply list_users(const Call& call);
    Reply create_user(const Call& call);
    Reply show_user(const Call& call);
    Reply update_user(const Call& call);
    Reply delete_user(const Call& call);
    Reply disable_user(const Call& call);
    // groups.cpp
    Reply list_groups(const Call& call);
    Reply create_group(const Call& call);
    Reply show_group(const Call& call);
    Reply delete_group(const Call& call);
    Reply add_member(const Call& call);
    Reply remove_member(const Call& call);
    // pools.cpp (pools, entitlements, and the jobs started on a pool)
    Reply list_pools(const Call& call);
    Reply create_pool(const Call& call);
    Reply show_pool(const Call& call);
    Reply update_pool(const Call& call);
    Reply delete_pool(const Call& call);
    Reply entitle(const Call& call);
    Reply revoke_entitlement(const Call& call);
    Reply refresh_pool(const Call& call);
    Reply push_image(const Call& call);
    // images.cpp
    Reply list_images(const Call& call);
    Reply create_image(const Call& call);
    Reply show_image(const Call& call);
    Reply update_image(const Call& call);
    // hosts.cpp
    Reply list_hosts(const Call& call);
    Reply drain_host(const Call& call);
    Reply undrain_host(const Call& call);
    // jobs.cpp
    Reply list_jobs(const Call& call);
    Reply show_job(const Call& call);
    Reply cancel_job(const Call& call);
    // audit.cpp
    Reply list_audit(const Call& call);

    // A logoff by the session's user, or forced by an admin (sessions.cpp).
    nlohmann::json end_session(long long session_id, const Caller& caller, bool forced);
    // pool refresh and image push (pools.cpp)
    Reply start_pool_job(const Call& call, bool push);
    // operations.cpp
    bool database_ready();
    std::string metrics_text();

    ApiSettings settings_;
    ConnectionPool& pool_;
    TicketDelivery& tickets_;
    Metrics& metrics_;
    const Clock& clock_;
    std::unique_ptr<LogonTraceWriter> traces_;  // when settings_.trace_logons
    std::string dummy_hash_;  // verified against for unknown users, so timing does not tell
};

// A new display ticket for `protocol`: VNC authentication carries 8 characters at most.
std::string make_display_ticket(const std::string& protocol);

}  // namespace vdi::broker
