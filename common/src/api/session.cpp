// JSON conversion of the session bodies.
#include "vdi/common/api/session.h"

namespace vdi::api {
namespace {

constexpr auto user_session_fields = [](auto& v, auto&& f) {
    f("id", v.id);
    f("pool", v.pool);
    f("desktop", v.desktop);
    f("protocol", v.protocol);
    f("state", v.state);
    f("started_at", v.started_at);
    f("disconnected_at", v.disconnected_at);
    f("warning", v.warning);
    f("warning_deadline", v.warning_deadline);
};
constexpr auto disconnect_fields = [](auto& v, auto&& f) {
    f("session_id", v.session_id);
    f("state", v.state);
};
constexpr auto session_fields = [](auto& v, auto&& f) {
    f("id", v.id);
    f("user_id", v.user_id);
    f("username", v.username);
    f("desktop_id", v.desktop_id);
    f("pool_id", v.pool_id);
    f("desktop_generation", v.desktop_generation);
    f("protocol", v.protocol);
    f("state", v.state);
    f("client_address", v.client_address);
    f("started_at", v.started_at);
    f("last_activity_at", v.last_activity_at);
    f("disconnected_at", v.disconnected_at);
    f("ended_at", v.ended_at);
    f("end_reason", v.end_reason);
};

}  // namespace

void to_json(nlohmann::json& j, const UserSession& v) { field::write_response(j, v, user_session_fields); }
void from_json(const nlohmann::json& j, UserSession& v) { field::read(j, v, user_session_fields); }
void to_json(nlohmann::json& j, const DisconnectResponse& v) { field::write_response(j, v, disconnect_fields); }
void from_json(const nlohmann::json& j, DisconnectResponse& v) { field::read(j, v, disconnect_fields); }

void to_json(nlohmann::json& j, const LogoffResponse& v)
{
    j = {{"session_id", v.session_id}, {"state", v.state}, {"refresh", v.refresh}};
    field::put_present(j, "generation", v.generation);  // (only with a refresh)
}
void from_json(const nlohmann::json& j, LogoffResponse& v)
{
    field::get(j, "session_id", v.session_id);
    field::get(j, "state", v.state);
    field::get(j, "refresh", v.refresh);
    field::get(j, "generation", v.generation);
}

void to_json(nlohmann::json& j, const Session& v) { field::write_response(j, v, session_fields); }
void from_json(const nlohmann::json& j, Session& v) { field::read(j, v, session_fields); }

}  // namespace vdi::api
