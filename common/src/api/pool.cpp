// JSON conversion of the pool, entitlement and pool-job request bodies.
#include "vdi/common/api/pool.h"

namespace vdi::api {
namespace {

// (the settings in the order of the pools table; Pool and PoolRequest share them)
constexpr auto pool_settings_fields = [](auto& v, auto&& f) {
    f("name", v.name);
    f("display_name", v.display_name);
    f("assignment", v.assignment);
    f("golden_image_id", v.golden_image_id);
    f("min_ready", v.min_ready);
    f("max_size", v.max_size);
    f("protocols", v.protocols);
    f("refresh_policy", v.refresh_policy);
    f("refresh_cron", v.refresh_cron);
    f("idle_timeout_s", v.idle_timeout_s);
    f("disconnected_timeout_s", v.disconnected_timeout_s);
    f("max_session_s", v.max_session_s);
    f("enabled", v.enabled);
};
constexpr auto pool_fields = [](auto& v, auto&& f) {
    f("id", v.id);
    pool_settings_fields(v, f);
    f("created_at", v.created_at);
    f("updated_at", v.updated_at);
    f("desktops", v.desktops);
    f("ready", v.ready);
    f("in_use", v.in_use);
};
constexpr auto pool_entitlement_fields = [](auto& v, auto&& f) {
    f("id", v.id);
    f("user_id", v.user_id);
    f("username", v.username);
    f("group_id", v.group_id);
    f("group_name", v.group_name);
};
constexpr auto entitle_fields = [](auto& v, auto&& f) {
    f("user_id", v.user_id);
    f("group_id", v.group_id);
};
constexpr auto entitlement_fields = [](auto& v, auto&& f) {
    f("id", v.id);
    f("pool_id", v.pool_id);
    f("user_id", v.user_id);
    f("group_id", v.group_id);
};
constexpr auto refresh_fields = [](auto& v, auto&& f) { f("force_after_s", v.force_after_s); };
constexpr auto push_fields = [](auto& v, auto&& f) {
    f("image_id", v.image_id);
    f("force_after_s", v.force_after_s);
};

}  // namespace

void to_json(nlohmann::json& j, const Pool& v) { field::write_response(j, v, pool_fields); }
void from_json(const nlohmann::json& j, Pool& v) { field::read(j, v, pool_fields); }
void to_json(nlohmann::json& j, const PoolEntitlement& v) { field::write_response(j, v, pool_entitlement_fields); }
void from_json(const nlohmann::json& j, PoolEntitlement& v) { field::read(j, v, pool_entitlement_fields); }

void to_json(nlohmann::json& j, const PoolDetail& v)
{
    field::write_response(j, static_cast<const Pool&>(v), pool_fields);
    field::put(j, "entitlements", v.entitlements);
}
void from_json(const nlohmann::json& j, PoolDetail& v)
{
    field::read(j, static_cast<Pool&>(v), pool_fields);
    field::get(j, "entitlements", v.entitlements);
}

void to_json(nlohmann::json& j, const PoolRequest& v) { field::write_request(j, v, pool_settings_fields); }
void from_json(const nlohmann::json& j, PoolRequest& v) { field::read(j, v, pool_settings_fields); }
void to_json(nlohmann::json& j, const EntitleRequest& v) { field::write_request(j, v, entitle_fields); }
void from_json(const nlohmann::json& j, EntitleRequest& v) { field::read(j, v, entitle_fields); }
void to_json(nlohmann::json& j, const Entitlement& v) { field::write_response(j, v, entitlement_fields); }
void from_json(const nlohmann::json& j, Entitlement& v) { field::read(j, v, entitlement_fields); }
void to_json(nlohmann::json& j, const RefreshPoolRequest& v) { field::write_request(j, v, refresh_fields); }
void from_json(const nlohmann::json& j, RefreshPoolRequest& v) { field::read(j, v, refresh_fields); }
void to_json(nlohmann::json& j, const PushImageRequest& v) { field::write_request(j, v, push_fields); }
void from_json(const nlohmann::json& j, PushImageRequest& v) { field::read(j, v, push_fields); }

}  // namespace vdi::api
