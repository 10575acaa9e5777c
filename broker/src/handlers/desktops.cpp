// Desktops: the thin client's list of them and its connect (the hot path), and the admin's
// desktop list and refresh.

#include "handler_support.h"
#include "to_api.h"
#include "vdi/broker/api.h"
#include "vdi/common/api/desktop.h"
#include "vdi/common/db/desktop_repository.h"
#include "vdi/common/db/session_repository.h"
#include "vdi/common/logging.h"

namespace vdi::broker {

Api::Reply Api::desktops(const Call& call)
{
    const Caller& caller = call.caller;
    return {200, transact(pool_, "list the user's desktops", [&](pqxx::work& tx) {
        api::DesktopList out;
        // ready counts are capped: a thin client needs "how many, roughly", and counting ten
        // thousand ready desktops on every listing would cost more than the rest of it
        const auto pools = db::exec_cached(
            tx, "vdi_broker_entitled_pools",
            std::string("SELECT p.name, p.display_name, p.assignment, array_to_string(p.protocols, ',') AS protocols, "
                        "(SELECT count(*) FROM (SELECT 1 FROM desktops d WHERE d.pool_id = p.id AND ") +
                db::ready_desktop_sql() +
                " LIMIT 100) r) AS ready FROM pools p WHERE p.enabled AND EXISTS ("
                "SELECT 1 FROM entitlements e LEFT JOIN group_members m ON m.group_id = e.group_id AND m.user_id = $1 "
                "WHERE e.pool_id = p.id AND (e.user_id = $1 OR m.user_id IS NOT NULL)) ORDER BY p.name",
            caller.user.id);
        for (const auto& row : pools) {
            api::EntitledPool pool;
            pool.name = row["name"].as<std::string>();
            pool.display_name = row["display_name"].as<std::string>();
            pool.assignment = row["assignment"].as<std::string>();
            const std::string list = row["protocols"].as<std::string>();
            for (std::size_t at = 0; at < list.size();) {
                const auto comma = list.find(',', at);
                pool.protocols.push_back(list.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
                at = comma == std::string::npos ? list.size() : comma + 1;
            }
            pool.ready = row["ready"].as<int>();
            pool.available = pool.ready > 0;
            out.pools.push_back(std::move(pool));
        }
        const auto sessions = db::exec_cached(
            tx, "vdi_broker_live_sessions",
            "SELECT s.id, p.name AS pool, d.name AS desktop, s.protocol, s.state, s.started_at, s.disconnected_at, s.warning, "
            "CASE WHEN s.warning IS NOT NULL THEN j.force_after END AS warning_deadline "
            "FROM sessions s JOIN pools p ON p.id = s.pool_id JOIN desktops d ON d.id = s.desktop_id "
            "LEFT JOIN jobs j ON j.id = d.refresh_job_id "
            "WHERE s.user_id = $1 AND s.state <> 'ended' ORDER BY s.id",
            caller.user.id);
        for (const auto& row : sessions) {
            out.sessions.push_back(api::UserSession{row["id"].as<long long>(), row["pool"].as<std::string>(),
                                                    row["desktop"].as<std::string>(), row["protocol"].as<std::string>(),
                                                    row["state"].as<std::string>(), db::get_time(row, "started_at"),
                                                    db::get_optional_time(row, "disconnected_at"),
                                                    db::get_optional<std::string>(row, "warning"),
                                                    db::get_optional_time(row, "warning_deadline")});
        }
        return nlohmann::json(out);
    })};
}

Api::Reply Api::connect(const Call& call)
{
    const ParsedRequest& request = call.request;
    const Caller& caller = call.caller;
    db::ConnectRequest ask;
    ask.api_token_hash_hex = caller.token_hash;
    ask.pool = request.params.at(0);
    const std::string protocol_name = request.body["protocol"];
    ask.protocol = db::enum_from_string<db::DisplayProtocol>(protocol_name);
    ask.client_address = caller.address;
    ask.ticket = make_display_ticket(protocol_name);
    ask.ticket_hash_hex = sha256_hex(ask.ticket);
    ask.ticket_ttl = settings_.ticket_ttl;

    // the hot path of every logon: one statement (sql/0004_broker_connect.sql), its own
    // transaction, and the ticket is on its way to the host agent when it returns; the database
    // connection goes back to the pool before the wait for the agent's acknowledgement
    using Steady = std::chrono::steady_clock;
    Steady::time_point acquired, answered_by_db;
    const Steady::time_point asked = Steady::now();
    const auto done = [&] {
        auto lease = pool_.acquire();
        acquired = Steady::now();
        auto result = db::in_autocommit(*lease, "connect a user to a desktop", [&](pqxx::nontransaction& tx) {
            return db::SessionRepository(tx).connect(ask);
        });
        answered_by_db = Steady::now();
        return result;
    }();
    const auto unavailable = [&](const std::string& message) {
        return ApiError(503, "desktop_unavailable", message, settings_.retry_after_s);
    };
    switch (done.outcome) {
    case db::ConnectOutcome::assigned:
    case db::ConnectOutcome::reconnected:
        break;
    case db::ConnectOutcome::unauthenticated:
        throw token_refused();
    case db::ConnectOutcome::no_pool:
        // a pool the caller may not use looks exactly like one that does not exist
        throw ApiError(404, "not_found", "no such pool");
    case db::ConnectOutcome::no_protocol:
        throw ApiError(400, "protocol_not_offered", "pool '" + ask.pool + "' does not offer " + protocol_name);
    case db::ConnectOutcome::not_running:
        throw unavailable("your desktop is not running right now; try again shortly");
    case db::ConnectOutcome::no_display:
        throw unavailable("the desktop's display server is not up yet");
    case db::ConnectOutcome::none_ready:
        // (the pool managers heard of the demand from the same statement)
        metrics_.no_desktop_ready();
        throw ApiError(503, "no_desktop_ready", "no desktop is ready in pool '" + ask.pool + "'; try again shortly",
                       settings_.retry_after_s);
    }
    const bool reconnected = done.outcome == db::ConnectOutcome::reconnected;
    if (!reconnected) {
        metrics_.assignment();
    }
    // the answer goes out when the host agent acknowledges the ticket; no thread waits meanwhile
    api::ConnectResponse response{done.session_id,   ask.pool,   done.desktop_name,
                                  done.host_address, done.port,  protocol_name,
                                  ask.ticket,        done.ticket_expires_at, reconnected, std::nullopt};
    if (traces_) response.trace_id = done.ticket_id;
    const nlohmann::json body = response;
    // the broker's stages, from the request (its block is placed in the client's connect request)
    const auto us = [start = call.started](Steady::time_point t) {
        return std::chrono::duration_cast<std::chrono::microseconds>(t - start).count();
    };
    std::vector<db::LogonStage> stages;
    if (traces_) {
        const auto statement_us = us(answered_by_db) - us(acquired);
        const auto inside_us = (done.token_check + done.claim + done.ticket).count();
        // the statement's own parts, centred in its round trip (the database's clock: lengths only)
        auto at = us(acquired) + std::max<std::int64_t>(0, (statement_us - inside_us) / 2);
        stages = {{"broker", "connection_wait", us(asked), us(acquired) - us(asked)},
                  {"broker", "statement", us(acquired), statement_us},
                  {"broker", "token_check", at, done.token_check.count()}};
        at += done.token_check.count();
        stages.push_back({"broker", reconnected ? "reconnect" : "claim", at, done.claim.count()});
        at += done.claim.count();
        stages.push_back({"broker", "ticket", at, done.ticket.count()});
    }
    tickets_.on_ack(done.ticket_id, settings_.ticket_delivery_timeout,
                    [answer = call.answer_later, body, ticket_id = done.ticket_id, desktop_id = done.desktop_id,
                     retry_after_s = settings_.retry_after_s, writer = traces_.get(), stages = std::move(stages), us,
                     delivering = answered_by_db, metrics = &metrics_, delivery = &tickets_,
                     display_wait = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.ticket_ttl) +
                                    std::chrono::seconds(30),
                     trace = db::BrokerTrace{done.ticket_id, done.session_id, done.pool_id.value_or(0), ask.protocol,
                                             reconnected, {}},
                     pool = ask.pool](std::optional<TicketAck> ack) mutable {
                        if (writer) {
                            const auto now = Steady::now();
                            stages.push_back({"broker", "ticket_delivery", us(delivering), us(now) - us(delivering)});
                            stages.push_back({"broker", "request", 0, us(now)});
                            if (ack) stages.insert(stages.end(), ack->host_stages.begin(), ack->host_stages.end());
                            for (const auto& s : stages) {
                                metrics->logon_stage(pool, s.component, s.stage, std::chrono::microseconds(s.duration_us));
                            }
                            trace.stages = std::move(stages);
                            writer->add(std::move(trace));
                            // the display server's stages follow once the client is in
                            if (ack && ack->ok) {
                                delivery->on_display(ticket_id, display_wait,
                                                     [writer, metrics, pool, ticket_id](std::vector<db::LogonStage> display) {
                                                         for (const auto& s : display) {
                                                             metrics->logon_stage(pool, s.component, s.stage,
                                                                                  std::chrono::microseconds(s.duration_us));
                                                         }
                                                         writer->add_display(ticket_id, std::move(display));
                                                     });
                            }
                        }
                        if (ack && ack->ok) {
                            answer(json_response(200, body));
                            return;
                        }
                        const std::string why = !ack ? "the desktop's host did not answer in time" : ack->error;
                        logger("broker.connect")->warn("ticket not delivered ticket={} desktop={} reason=\"{}\"", ticket_id,
                                                       desktop_id, why);
                        answer(error_response(503, "desktop_unreachable",
                                              "the desktop could not be prepared for your connection (" + why +
                                                  "); try again",
                                              retry_after_s));
                    });
    Reply reply;
    reply.deferred = true;
    return reply;
}

Api::Reply Api::list_desktops(const Call& call)
{
    const ParsedRequest& request = call.request;
    db::DesktopFilter filter;
    filter.pool_id = query_int(request, "pool_id", 1, 9'000'000'000'000'000'000LL);
    if (const auto state = query_string(request, "state")) {
        static const std::vector<std::string> states = {"pending", "starting", "running", "stopping",
                                                        "stopped", "failed",   "lost"};
        if (std::find(states.begin(), states.end(), *state) == states.end()) {
            throw ApiError(400, "invalid_request", "query parameter 'state' is not a desktop state");
        }
        filter.actual_state = db::enum_from_string<db::DesktopActualState>(*state);
    }
    const auto page = page_of(request);
    const auto desktops = transact(pool_, "list desktops",
                                   [&](pqxx::work& tx) { return db::DesktopRepository(tx).list(filter, page); });
    nlohmann::json out = nlohmann::json::array();
    for (const auto& desktop : desktops) out.push_back(to_api(desktop));
    return {200, out};
}

Api::Reply Api::refresh_desktop(const Call& call)
{
    const ParsedRequest& request = call.request;
    const auto id = id_param(request, 0);
    return {200, transact(pool_, "refresh a desktop", [&](pqxx::work& tx) {
        db::DesktopRepository desktops(tx);
        const auto desktop = desktops.find(id);
        if (!desktop || desktop->desired_state == db::DesktopDesiredState::deleted) {
            throw ApiError(404, "not_found", "no such desktop");
        }
        db::SessionRepository sessions(tx);
        std::optional<db::Id> ended;
        if (const auto live = sessions.live_for_desktop(id)) {
            sessions.end(live->id, "desktop refreshed by " + call.caller.user.username);
            ended = live->id;
        }
        if (desktop->assigned_user_id && !desktop->owner_user_id) {
            desktops.release(id, *desktop->assigned_user_id);
        }
        const auto generation = desktops.bump_generation(id, desktop->generation);
        if (!generation) throw ApiError(409, "conflict", "the desktop changed meanwhile; try again");
        audit(tx, call.caller, "desktop.refresh", "desktop", std::to_string(id),
              {{"generation", *generation}, {"ended_session", ended ? nlohmann::json(*ended) : nullptr}});
        return nlohmann::json{{"id", id}, {"generation", *generation},
                              {"ended_session", ended ? nlohmann::json(*ended) : nullptr}};
    })};
}

}  // namespace vdi::broker
