// JSON conversion of the host body.
#include "vdi/common/api/host.h"

namespace vdi::api {
namespace {

constexpr auto host_fields = [](auto& v, auto&& f) {
    f("id", v.id);
    f("name", v.name);
    f("address", v.address);
    f("vcpus_total", v.vcpus_total);
    f("memory_mib_total", v.memory_mib_total);
    f("max_concurrent_ops", v.max_concurrent_ops);
    f("state", v.state);
    f("drained", v.drained);
    f("agent_version", v.agent_version);
    f("registered_at", v.registered_at);
    f("last_heartbeat_at", v.last_heartbeat_at);
    f("desktops", v.desktops);
};

}  // namespace

void to_json(nlohmann::json& j, const Host& v) { field::write_response(j, v, host_fields); }
void from_json(const nlohmann::json& j, Host& v) { field::read(j, v, host_fields); }

}  // namespace vdi::api
