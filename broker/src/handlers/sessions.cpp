// Sessions: the thin client's disconnect and logoff, and the admin's session list and forced
// logoff.
#include "handler_support.h"
#include "to_api.h"
#include "vdi/broker/api.h"
#include "vdi/common/api/session.h"
#include "vdi/common/db/desktop_repository.h"
#include "vdi/common/db/pool_repository.h"
#include "vdi/common/db/session_repository.h"

namespace vdi::broker {

Api::Reply Api::disconnect(const Call& call)
{
    const auto session_id = id_param(call.request, 0);
    const Caller& caller = call.caller;
    return {200, transact(pool_, "disconnect a session", [&](pqxx::work& tx) {
        db::SessionRepository sessions(tx);
        const auto session = sessions.find(session_id);
        // another user's session looks exactly like a missing one
        if (!session || (session->user_id != caller.user.id && !caller.acts_on_sessions())) {
            throw ApiError(404, "not_found", "no such session");
        }
        if (session->state == db::SessionState::ended) {
            throw ApiError(409, "session_ended", "the session has ended");
        }
        sessions.mark_disconnected(session_id);
        audit(tx, caller, "session.disconnect", "session", std::to_string(session_id));
        return nlohmann::json(api::DisconnectResponse{session_id, "disconnected"});
    })};
}

Api::Reply Api::logoff(const Call& call)
{
    return {200, end_session(id_param(call.request, 0), call.caller, false)};
}

Api::Reply Api::force_logoff(const Call& call)
{
    return {200, end_session(id_param(call.request, 0), call.caller, true)};
}

nlohmann::json Api::end_session(long long session_id, const Caller& caller, bool forced)
{
    auto lease = pool_.acquire();
    return db::in_transaction(*lease, "log a session off", [&](pqxx::work& tx) {
        db::SessionRepository sessions(tx);
        const auto session = sessions.find(session_id);
        if (!session || (session->user_id != caller.user.id && !forced)) {
            throw ApiError(404, "not_found", "no such session");
        }
        if (session->state == db::SessionState::ended) {
            throw ApiError(409, "session_ended", "the session has ended");
        }
        sessions.end(session_id, forced ? "forced logoff by " + caller.user.username : "logoff");
        const auto pool = db::PoolRepository(tx).find(session->pool_id);
        db::DesktopRepository desktops(tx);
        api::LogoffResponse result{session_id, "ended", false, std::nullopt};
        if (pool && pool->assignment == db::PoolAssignment::floating) {
            desktops.release(session->desktop_id, session->user_id);
            // the next user must never see this user's state: a new clone from the golden image
            if (pool->refresh_policy == db::RefreshPolicy::on_logoff) {
                if (const auto desktop = desktops.find(session->desktop_id)) {
                    if (const auto generation = desktops.bump_generation(desktop->id, desktop->generation)) {
                        result.refresh = true;
                        result.generation = *generation;
                    }
                }
            }
        }
        audit(tx, caller, forced ? "session.force_logoff" : "session.logoff", "session", std::to_string(session_id),
              {{"desktop_id", session->desktop_id}, {"user_id", session->user_id}, {"refresh", result.refresh}});
        return nlohmann::json(result);
    });
}

Api::Reply Api::list_sessions(const Call& call)
{
    const ParsedRequest& request = call.request;
    db::SessionFilter filter;
    filter.user_id = query_int(request, "user_id", 1, 9'000'000'000'000'000'000LL);
    filter.pool_id = query_int(request, "pool_id", 1, 9'000'000'000'000'000'000LL);
    if (const auto live = query_string(request, "live")) {
        if (*live != "true" && *live != "false") throw ApiError(400, "invalid_request", "'live' is true or false");
        filter.live = *live == "true";
    }
    const auto page = page_of(request);
    const auto sessions = transact(pool_, "list sessions",
                                   [&](pqxx::work& tx) { return db::SessionRepository(tx).list(filter, page); });
    nlohmann::json out = nlohmann::json::array();
    for (const auto& session : sessions) out.push_back(to_api(session));
    return {200, out};
}

}  // namespace vdi::broker
