// JSON conversion of the desktop bodies.
#include "vdi/common/api/desktop.h"

namespace vdi::api {
namespace {

constexpr auto entitled_pool_fields = [](auto& v, auto&& f) {
    f("name", v.name);
    f("display_name", v.display_name);
    f("assignment", v.assignment);
    f("protocols", v.protocols);
    f("available", v.available);
    f("ready", v.ready);
};
constexpr auto desktop_list_fields = [](auto& v, auto&& f) {
    f("pools", v.pools);
    f("sessions", v.sessions);
};
constexpr auto connect_request_fields = [](auto& v, auto&& f) { f("protocol", v.protocol); };
constexpr auto connect_response_fields = [](auto& v, auto&& f) {
    f("session_id", v.session_id);
    f("pool", v.pool);
    f("desktop", v.desktop);
    f("host", v.host);
    f("port", v.port);
    f("protocol", v.protocol);
    f("ticket", v.ticket);
    f("ticket_expires_at", v.ticket_expires_at);
    f("reconnected", v.reconnected);
    f("trace_id", v.trace_id);
};
constexpr auto timing_stage_fields = [](auto& v, auto&& f) {
    f("stage", v.stage);
    f("start_us", v.start_us);
    f("duration_us", v.duration_us);
};
constexpr auto timing_report_fields = [](auto& v, auto&& f) {
    f("trace_id", v.trace_id);
    f("reconnect", v.reconnect);
    f("total_us", v.total_us);
    f("stages", v.stages);
};
constexpr auto desktop_fields = [](auto& v, auto&& f) {
    f("id", v.id);
    f("pool_id", v.pool_id);
    f("name", v.name);
    f("host_id", v.host_id);
    f("golden_image_id", v.golden_image_id);
    f("desired_state", v.desired_state);
    f("actual_state", v.actual_state);
    f("generation", v.generation);
    f("actual_generation", v.actual_generation);
    f("ready_generation", v.ready_generation);
    f("vnc_port", v.vnc_port);
    f("rdp_port", v.rdp_port);
    f("vmm_pid", v.vmm_pid);
    f("owner_user_id", v.owner_user_id);
    f("assigned_user_id", v.assigned_user_id);
    f("assigned_at", v.assigned_at);
    f("error", v.error);
    f("created_at", v.created_at);
    f("state_changed_at", v.state_changed_at);
};
constexpr auto desktop_refreshed_fields = [](auto& v, auto&& f) {
    f("id", v.id);
    f("generation", v.generation);
    f("ended_session", v.ended_session);
};

}  // namespace

void to_json(nlohmann::json& j, const EntitledPool& v) { field::write_response(j, v, entitled_pool_fields); }
void from_json(const nlohmann::json& j, EntitledPool& v) { field::read(j, v, entitled_pool_fields); }
void to_json(nlohmann::json& j, const DesktopList& v) { field::write_response(j, v, desktop_list_fields); }
void from_json(const nlohmann::json& j, DesktopList& v) { field::read(j, v, desktop_list_fields); }
void to_json(nlohmann::json& j, const ConnectRequest& v) { field::write_request(j, v, connect_request_fields); }
void from_json(const nlohmann::json& j, ConnectRequest& v) { field::read(j, v, connect_request_fields); }
void to_json(nlohmann::json& j, const ConnectResponse& v) { field::write_response(j, v, connect_response_fields); }
void from_json(const nlohmann::json& j, ConnectResponse& v) { field::read(j, v, connect_response_fields); }
void to_json(nlohmann::json& j, const TimingStage& v) { field::write_request(j, v, timing_stage_fields); }
void from_json(const nlohmann::json& j, TimingStage& v) { field::read(j, v, timing_stage_fields); }
void to_json(nlohmann::json& j, const TimingReport& v) { field::write_request(j, v, timing_report_fields); }
void from_json(const nlohmann::json& j, TimingReport& v) { field::read(j, v, timing_report_fields); }
void to_json(nlohmann::json& j, const Desktop& v) { field::write_response(j, v, desktop_fields); }
void from_json(const nlohmann::json& j, Desktop& v) { field::read(j, v, desktop_fields); }
void to_json(nlohmann::json& j, const DesktopRefreshed& v) { field::write_response(j, v, desktop_refreshed_fields); }
void from_json(const nlohmann::json& j, DesktopRefreshed& v) { field::read(j, v, desktop_refreshed_fields); }

}  // namespace vdi::api
