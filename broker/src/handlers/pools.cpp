// The admin's pool endpoints: /api/v1/admin/pools, their entitlements, and the jobs an admin
// starts on a pool (refresh, image push).
#include "handler_support.h"
#include "to_api.h"
#include "vdi/broker/api.h"
#include "vdi/common/api/pool.h"
#include "vdi/common/db/image_repository.h"
#include "vdi/common/db/job_repository.h"
#include "vdi/common/db/pool_repository.h"
#include "vdi/common/db/session_repository.h"

namespace vdi::broker {
namespace {

db::PoolSettings merge_pool(db::PoolSettings settings, const nlohmann::json& body)
{
    if (body.contains("name")) settings.name = body["name"];
    if (body.contains("display_name")) settings.display_name = body["display_name"];
    if (body.contains("assignment")) settings.assignment = db::enum_from_string<db::PoolAssignment>(body["assignment"].get<std::string>());
    if (body.contains("golden_image_id")) settings.golden_image_id = body["golden_image_id"];
    if (body.contains("min_ready")) settings.min_ready = body["min_ready"];
    if (body.contains("max_size")) settings.max_size = body["max_size"];
    if (body.contains("protocols")) {
        settings.protocols.clear();
        for (const auto& p : body["protocols"]) {
            const std::string name = p;
            if (name != "vnc" && name != "rdp") {
                throw ApiError(400, "invalid_request", "field 'protocols' may hold only \"vnc\" and \"rdp\"");
            }
            settings.protocols.push_back(db::enum_from_string<db::DisplayProtocol>(name));
        }
        if (settings.protocols.empty()) {
            throw ApiError(400, "invalid_request", "field 'protocols' must name at least one protocol");
        }
    }
    if (body.contains("refresh_policy")) settings.refresh_policy = db::enum_from_string<db::RefreshPolicy>(body["refresh_policy"].get<std::string>());
    if (body.contains("refresh_cron")) {
        const std::string cron = body["refresh_cron"];
        settings.refresh_cron = cron.empty() ? std::nullopt : std::optional<std::string>(cron);
    }
    const auto optional_int = [&](const char* name, std::optional<int>& field) {
        if (body.contains(name)) {
            const int value = body[name];
            field = value == 0 ? std::nullopt : std::optional<int>(value);
        }
    };
    optional_int("idle_timeout_s", settings.idle_timeout_s);
    optional_int("disconnected_timeout_s", settings.disconnected_timeout_s);
    optional_int("max_session_s", settings.max_session_s);
    if (body.contains("enabled")) settings.enabled = body["enabled"];
    if (settings.min_ready > settings.max_size) {
        throw ApiError(400, "invalid_request", "min_ready may not exceed max_size");
    }
    return settings;
}

db::PoolSummary found(pqxx::transaction_base& tx, db::Id id)
{
    auto pool = db::PoolRepository(tx).find_summary(id);
    if (!pool) throw ApiError(404, "not_found", "no such pool");
    return *pool;
}

}  // namespace

Api::Reply Api::list_pools(const Call&)
{
    const auto pools =
        transact(pool_, "list pools", [&](pqxx::work& tx) { return db::PoolRepository(tx).list_summaries(); });
    nlohmann::json out = nlohmann::json::array();
    for (const auto& pool : pools) out.push_back(to_api(pool));
    return {200, out};
}

Api::Reply Api::create_pool(const Call& call)
{
    const nlohmann::json& body = call.request.body;
    return {201, transact(pool_, "create a pool", [&](pqxx::work& tx) {
                db::PoolSettings settings = merge_pool(db::PoolSettings{}, body);
                if (settings.display_name.empty()) settings.display_name = settings.name;
                const auto pool = db::PoolRepository(tx).create(settings);
                audit(tx, call.caller, "pool.create", "pool", std::to_string(pool.id), body);
                return nlohmann::json(to_api(found(tx, pool.id)));
            })};
}

Api::Reply Api::show_pool(const Call& call)
{
    const auto id = id_param(call.request, 0);
    return {200, transact(pool_, "show a pool", [&](pqxx::work& tx) {
                api::PoolDetail pool{to_api(found(tx, id)), {}};
                for (const auto& e : db::PoolRepository(tx).named_entitlements_of(id)) {
                    pool.entitlements.push_back(api::PoolEntitlement{e.id, e.user_id, e.username, e.group_id, e.group_name});
                }
                return nlohmann::json(pool);
            })};
}

Api::Reply Api::update_pool(const Call& call)
{
    const auto id = id_param(call.request, 0);
    const nlohmann::json& body = call.request.body;
    return {200, transact(pool_, "update a pool", [&](pqxx::work& tx) {
                db::PoolRepository pools(tx);
                const auto pool = pools.find(id);
                if (!pool) throw ApiError(404, "not_found", "no such pool");
                pools.update(id, merge_pool(*pool, body));
                audit(tx, call.caller, "pool.update", "pool", std::to_string(id), body);
                return nlohmann::json(to_api(found(tx, id)));
            })};
}

Api::Reply Api::delete_pool(const Call& call)
{
    const auto id = id_param(call.request, 0);
    return {200, transact(pool_, "delete a pool", [&](pqxx::work& tx) {
                const auto pool = found(tx, id);
                if (pool.desktops > 0 || db::SessionRepository(tx).any_for_pool(id)) {
                    throw ApiError(409, "conflict",
                                   "the pool still has desktops or session history; disable it and set max_size 0");
                }
                db::PoolRepository(tx).remove(id);
                audit(tx, call.caller, "pool.delete", "pool", std::to_string(id), {{"name", pool.name}});
                return nlohmann::json(api::Deleted{id});
            })};
}

Api::Reply Api::entitle(const Call& call)
{
    const auto id = id_param(call.request, 0);
    const nlohmann::json& body = call.request.body;
    if (body.contains("user_id") == body.contains("group_id")) {
        throw ApiError(400, "invalid_request", "give exactly one of user_id and group_id");
    }
    return {201, transact(pool_, "entitle", [&](pqxx::work& tx) {
                if (!db::PoolRepository(tx).find(id)) throw ApiError(404, "not_found", "no such pool");
                db::PoolRepository pools(tx);
                const auto entitlement = body.contains("user_id") ? pools.entitle_user(id, body["user_id"])
                                                                  : pools.entitle_group(id, body["group_id"]);
                audit(tx, call.caller, "pool.entitle", "pool", std::to_string(id), body);
                return nlohmann::json(api::Entitlement{entitlement.id, id, entitlement.user_id, entitlement.group_id});
            })};
}

Api::Reply Api::revoke_entitlement(const Call& call)
{
    const auto id = id_param(call.request, 0);
    return {200, transact(pool_, "revoke an entitlement", [&](pqxx::work& tx) {
                if (!db::PoolRepository(tx).revoke_entitlement(id)) {
                    throw ApiError(404, "not_found", "no such entitlement");
                }
                audit(tx, call.caller, "pool.revoke_entitlement", "entitlement", std::to_string(id));
                return nlohmann::json(api::Deleted{id});
            })};
}

Api::Reply Api::refresh_pool(const Call& call) { return start_pool_job(call, false); }

Api::Reply Api::push_image(const Call& call) { return start_pool_job(call, true); }

Api::Reply Api::start_pool_job(const Call& call, bool push)
{
    const auto id = id_param(call.request, 0);
    const nlohmann::json& body = call.request.body;
    return {201, transact(pool_, "start a job", [&](pqxx::work& tx) {
                if (!db::PoolRepository(tx).find(id)) throw ApiError(404, "not_found", "no such pool");
                db::NewJob job;
                job.type = push ? db::JobType::image_push : db::JobType::refresh_pool;
                job.pool_id = id;
                job.created_by = call.caller.user.id;
                // in-use desktops are refreshed when their sessions end, or forcibly after this
                job.force_after = clock_.now() + std::chrono::seconds(body.value("force_after_s", 3600));
                if (push) {
                    const long long image_id = body["image_id"];
                    const auto image = db::ImageRepository(tx).find(image_id);
                    if (!image) throw ApiError(404, "not_found", "no such image");
                    if (image->state != db::ImageState::ready) {
                        throw ApiError(409, "conflict", "image " + image->name + " v" + std::to_string(image->version) +
                                                            " is " + db::to_string(image->state) + ", not ready");
                    }
                    job.target_image_id = image_id;
                }
                const auto created = db::JobRepository(tx).enqueue(job);
                audit(tx, call.caller, push ? "pool.push_image" : "pool.refresh", "pool", std::to_string(id),
                      {{"job_id", created.id}, {"image_id", push ? body["image_id"] : nlohmann::json(nullptr)}});
                return nlohmann::json(to_api(created));
            })};
}

}  // namespace vdi::broker
