// The admin endpoints (role admin): users, groups, pools, entitlements, images; reads of
// desktops, sessions, hosts, jobs and the audit log with filters and paging; actions. Every
// change is audited in the transaction that makes it.
//
// Reads are rendered to JSON by PostgreSQL (json_agg over an explicit column list, so no hash
// column ever leaves the database); changes go through the repositories.
#include <fmt/format.h>

#include "audit.h"
#include "vdi/broker/api.h"
#include "vdi/common/db/api_token_repository.h"
#include "vdi/common/db/database.h"
#include "vdi/common/db/desktop_repository.h"
#include "vdi/common/db/image_repository.h"
#include "vdi/common/db/job_repository.h"
#include "vdi/common/db/pool_repository.h"
#include "vdi/common/db/session_repository.h"
#include "vdi/common/error.h"

namespace vdi::broker {
namespace {

// Runs a query returning one json value (or NULL) and parses it.
nlohmann::json query_json(pqxx::transaction_base& tx, const std::string& sql,
                          const std::vector<std::string>& params = {})
{
    const auto result = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
    if (result.empty() || result[0][0].is_null()) {
        return nullptr;
    }
    return nlohmann::json::parse(result[0][0].c_str());
}

// A list query: `select` must produce rows with an id column; wrapped in json_agg, newest first.
std::string list_sql(const std::string& select)
{
    return "SELECT coalesce(json_agg(r ORDER BY r.id DESC), '[]'::json) FROM (" + select + ") r";
}

constexpr const char* user_select =
    "SELECT u.id, u.username, u.display_name, u.role, u.disabled, u.created_at, u.last_login_at FROM users u";
constexpr const char* group_select =
    "SELECT g.id, g.name, g.description, (SELECT count(*) FROM group_members m WHERE m.group_id = g.id) AS members "
    "FROM groups g";
constexpr const char* pool_select =
    "SELECT p.id, p.name, p.display_name, p.assignment, p.golden_image_id, p.min_ready, p.max_size, p.protocols, "
    "p.refresh_policy, p.refresh_cron, p.idle_timeout_s, p.disconnected_timeout_s, p.max_session_s, p.enabled, "
    "p.created_at, p.updated_at, "
    "(SELECT count(*) FROM desktops d WHERE d.pool_id = p.id AND d.desired_state <> 'deleted') AS desktops, "
    "(SELECT count(*) FROM desktops d WHERE d.pool_id = p.id AND d.desired_state = 'running' "
    " AND d.actual_state = 'running' AND d.actual_generation = d.generation AND d.ready_generation = d.generation "
    " AND d.assigned_user_id IS NULL AND d.owner_user_id IS NULL) AS ready, "
    "(SELECT count(*) FROM desktops d WHERE d.pool_id = p.id AND d.assigned_user_id IS NOT NULL) AS in_use "
    "FROM pools p";
constexpr const char* image_select =
    "SELECT i.id, i.name, i.version, i.state, i.state_path, i.memory_path, i.memory_mib, i.vcpus, i.fb_width, "
    "i.fb_height, i.description, i.error, i.created_at FROM golden_images i";
constexpr const char* desktop_select =
    "SELECT d.id, d.pool_id, d.name, d.host_id, d.golden_image_id, d.desired_state, d.actual_state, d.generation, "
    "d.actual_generation, d.ready_generation, d.vnc_port, d.rdp_port, d.vmm_pid, d.owner_user_id, "
    "d.assigned_user_id, d.assigned_at, d.error, d.created_at, d.state_changed_at FROM desktops d";
constexpr const char* session_select =
    "SELECT s.id, s.user_id, u.username, s.desktop_id, s.pool_id, s.desktop_generation, s.protocol, s.state, "
    "s.client_address, s.started_at, s.last_activity_at, s.disconnected_at, s.ended_at, s.end_reason "
    "FROM sessions s JOIN users u ON u.id = s.user_id";
constexpr const char* host_select =
    "SELECT h.id, h.name, h.address, h.vcpus_total, h.memory_mib_total, h.max_concurrent_ops, h.state, "
    "h.agent_version, h.registered_at, h.last_heartbeat_at, "
    "(SELECT count(*) FROM desktops d WHERE d.host_id = h.id AND d.desired_state <> 'deleted') AS desktops "
    "FROM hosts h";
constexpr const char* job_select =
    "SELECT j.id, j.type, j.pool_id, j.target_image_id, j.state, j.run_at, j.scheduled_for, j.force_after, "
    "j.progress_done, j.progress_total, j.cancel_requested, j.error, j.created_by, j.claimed_by, j.created_at, "
    "j.started_at, j.finished_at FROM jobs j";
constexpr const char* audit_select =
    "SELECT a.id, a.at, a.actor_user_id, a.actor, a.action, a.target_type, a.target_id, a.success, "
    "a.source_address, a.details FROM audit_log a";

nlohmann::json one(pqxx::transaction_base& tx, const char* select, const char* alias, long long id,
                   const std::string& what)
{
    auto row = query_json(tx, std::string("SELECT row_to_json(r) FROM (") + select + " WHERE " + alias +
                                  ".id = $1) r",
                          std::vector<std::string>{std::to_string(id)});
    if (row.is_null()) {
        throw ApiError(404, "not_found", "no such " + what);
    }
    return row;
}

// Paging: ?limit= (1-1000, default 100) and ?before=ID (entries with smaller ids).
struct Page {
    long long limit = 100;
    std::optional<long long> before;
};

Page page_of(const ParsedRequest& request)
{
    Page page;
    page.limit = query_int(request, "limit", 1, 1000).value_or(100);
    page.before = query_int(request, "before", 1, 9'000'000'000'000'000'000LL);
    return page;
}

// Builds "WHERE a AND b ... ORDER BY id DESC LIMIT n" with numbered parameters.
class Filter {
public:
    explicit Filter(std::string alias) : alias_(std::move(alias)) {}
    template <typename T>
    void add(const std::string& condition, const T& value)
    {
        if constexpr (std::is_arithmetic_v<T>) {
            params_.push_back(std::to_string(value));
        } else {
            params_.push_back(value);
        }
        conditions_.push_back(fmt::format(fmt::runtime(condition), ++count_));
    }
    std::string sql(const std::string& select, const Page& page)
    {
        if (page.before) add(alias_ + ".id < ${}", *page.before);
        std::string where;
        for (const auto& c : conditions_) where += (where.empty() ? " WHERE " : " AND ") + c;
        return list_sql(select + where + " ORDER BY " + alias_ + ".id DESC LIMIT " + std::to_string(page.limit));
    }
    const std::vector<std::string>& params() const { return params_; }

private:
    std::string alias_;
    std::vector<std::string> params_;
    std::vector<std::string> conditions_;
    int count_ = 0;
};

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

}  // namespace

nlohmann::json Api::admin(const ParsedRequest& request, const Caller& caller, unsigned& status)
{
    const std::string& route = request.route->path;
    const std::string& method = request.route->method;
    const nlohmann::json& body = request.body;
    if (route == "/api/v1/admin/sessions/{id}/logoff") {
        return logoff(id_param(request, 0), caller, true);
    }
    auto lease = pool_.acquire();
    const auto in_tx = [&](const char* doing, auto&& fn) { return db::in_transaction(*lease, doing, fn); };

    // ---- users
    if (route == "/api/v1/admin/users" && method == "GET") {
        return in_tx("list users", [&](pqxx::work& tx) { return query_json(tx, list_sql(user_select)); });
    }
    if (route == "/api/v1/admin/users" && method == "POST") {
        const std::string hash = hash_password(body["password"].get<std::string>(), settings_.password_hash);
        status = 201;
        return in_tx("create a user", [&](pqxx::work& tx) {
            db::NewUser fresh;
            fresh.username = body["username"];
            fresh.display_name = body.value("display_name", "");
            fresh.password_hash = hash;
            fresh.role = db::enum_from_string<db::UserRole>(body.value("role", "user"));
            const auto user = db::UserRepository(tx).create(fresh);
            audit(tx, caller, "user.create", "user", std::to_string(user.id),
                  {{"username", user.username}, {"role", db::to_string(user.role)}});
            return one(tx, user_select, "u", user.id, "user");
        });
    }
    if (route == "/api/v1/admin/users/{id}") {
        const auto id = id_param(request, 0);
        if (method == "GET") {
            return in_tx("show a user", [&](pqxx::work& tx) {
                auto user = one(tx, user_select, "u", id, "user");
                user["groups"] = query_json(tx, "SELECT coalesce(json_agg(g.name ORDER BY g.name), '[]'::json) FROM groups g "
                                                "JOIN group_members m ON m.group_id = g.id WHERE m.user_id = $1",
                                            std::vector<std::string>{std::to_string(id)});
                return user;
            });
        }
        if (method == "PATCH") {
            std::optional<std::string> hash;
            if (body.contains("password")) hash = hash_password(body["password"].get<std::string>(), settings_.password_hash);
            return in_tx("update a user", [&](pqxx::work& tx) {
                db::UserRepository users(tx);
                if (!users.find(id)) throw ApiError(404, "not_found", "no such user");
                nlohmann::json changed = nlohmann::json::array();
                if (body.contains("display_name")) {
                    tx.exec_params("UPDATE users SET display_name = $2 WHERE id = $1", id, body["display_name"].get<std::string>());
                    changed.push_back("display_name");
                }
                if (body.contains("role")) {
                    if (id == caller.user.id && body["role"] != "admin") {
                        throw ApiError(409, "conflict", "you cannot take your own admin role away");
                    }
                    users.set_role(id, db::enum_from_string<db::UserRole>(body["role"].get<std::string>()));
                    changed.push_back("role");
                }
                if (hash) {
                    users.set_password_hash(id, *hash);
                    db::ApiTokenRepository(tx).revoke_all_for_user(id);
                    changed.push_back("password");
                }
                if (body.contains("disabled")) {
                    if (id == caller.user.id && body["disabled"] == true) {
                        throw ApiError(409, "conflict", "you cannot disable yourself");
                    }
                    users.set_disabled(id, body["disabled"]);
                    if (body["disabled"] == true) db::ApiTokenRepository(tx).revoke_all_for_user(id);
                    changed.push_back("disabled");
                }
                audit(tx, caller, "user.update", "user", std::to_string(id), {{"changed", changed}});
                return one(tx, user_select, "u", id, "user");
            });
        }
        // DELETE
        return in_tx("delete a user", [&](pqxx::work& tx) {
            if (id == caller.user.id) throw ApiError(409, "conflict", "you cannot delete yourself");
            const auto user = one(tx, user_select, "u", id, "user");
            if (!tx.exec_params("SELECT 1 FROM sessions WHERE user_id = $1 LIMIT 1", id).empty()) {
                throw ApiError(409, "conflict", "the user has session history; disable the account instead");
            }
            tx.exec_params("DELETE FROM entitlements WHERE user_id = $1", id);
            tx.exec_params("DELETE FROM users WHERE id = $1", id);
            audit(tx, caller, "user.delete", "user", std::to_string(id), {{"username", user["username"]}});
            return nlohmann::json{{"deleted", true}, {"id", id}};
        });
    }
    if (route == "/api/v1/admin/users/{id}/disable") {
        const auto id = id_param(request, 0);
        return in_tx("disable a user", [&](pqxx::work& tx) {
            if (id == caller.user.id) throw ApiError(409, "conflict", "you cannot disable yourself");
            if (!db::UserRepository(tx).set_disabled(id, true)) throw ApiError(404, "not_found", "no such user");
            const int revoked = db::ApiTokenRepository(tx).revoke_all_for_user(id);
            audit(tx, caller, "user.disable", "user", std::to_string(id), {{"tokens_revoked", revoked}});
            return one(tx, user_select, "u", id, "user");
        });
    }

    // ---- groups
    if (route == "/api/v1/admin/groups" && method == "GET") {
        return in_tx("list groups", [&](pqxx::work& tx) { return query_json(tx, list_sql(group_select)); });
    }
    if (route == "/api/v1/admin/groups" && method == "POST") {
        status = 201;
        return in_tx("create a group", [&](pqxx::work& tx) {
            const auto group = db::UserRepository(tx).create_group(body["name"], body.value("description", ""));
            audit(tx, caller, "group.create", "group", std::to_string(group.id), {{"name", group.name}});
            return one(tx, group_select, "g", group.id, "group");
        });
    }
    if (route == "/api/v1/admin/groups/{id}") {
        const auto id = id_param(request, 0);
        if (method == "GET") {
            return in_tx("show a group", [&](pqxx::work& tx) {
                auto group = one(tx, group_select, "g", id, "group");
                group["members"] = query_json(tx, list_sql(std::string(user_select) +
                                                           " JOIN group_members m ON m.user_id = u.id WHERE m.group_id = $1"),
                                              std::vector<std::string>{std::to_string(id)});
                return group;
            });
        }
        return in_tx("delete a group", [&](pqxx::work& tx) {
            const auto group = one(tx, group_select, "g", id, "group");
            tx.exec_params("DELETE FROM entitlements WHERE group_id = $1", id);
            tx.exec_params("DELETE FROM group_members WHERE group_id = $1", id);
            tx.exec_params("DELETE FROM groups WHERE id = $1", id);
            audit(tx, caller, "group.delete", "group", std::to_string(id), {{"name", group["name"]}});
            return nlohmann::json{{"deleted", true}, {"id", id}};
        });
    }
    if (route == "/api/v1/admin/groups/{id}/members") {
        const auto id = id_param(request, 0);
        const long long user_id = body["user_id"];
        return in_tx("add a group member", [&](pqxx::work& tx) {
            one(tx, group_select, "g", id, "group");
            one(tx, user_select, "u", user_id, "user");
            const bool added = db::UserRepository(tx).add_member(id, user_id);
            audit(tx, caller, "group.add_member", "group", std::to_string(id), {{"user_id", user_id}});
            return nlohmann::json{{"group_id", id}, {"user_id", user_id}, {"added", added}};
        });
    }
    if (route == "/api/v1/admin/groups/{id}/members/{user}") {
        const auto id = id_param(request, 0);
        const auto user_id = id_param(request, 1);
        return in_tx("remove a group member", [&](pqxx::work& tx) {
            if (!db::UserRepository(tx).remove_member(id, user_id)) {
                throw ApiError(404, "not_found", "no such member");
            }
            audit(tx, caller, "group.remove_member", "group", std::to_string(id), {{"user_id", user_id}});
            return nlohmann::json{{"group_id", id}, {"user_id", user_id}, {"removed", true}};
        });
    }

    // ---- pools and entitlements
    if (route == "/api/v1/admin/pools" && method == "GET") {
        return in_tx("list pools", [&](pqxx::work& tx) { return query_json(tx, list_sql(pool_select)); });
    }
    if (route == "/api/v1/admin/pools" && method == "POST") {
        status = 201;
        return in_tx("create a pool", [&](pqxx::work& tx) {
            db::PoolSettings settings = merge_pool(db::PoolSettings{}, body);
            if (settings.display_name.empty()) settings.display_name = settings.name;
            const auto pool = db::PoolRepository(tx).create(settings);
            audit(tx, caller, "pool.create", "pool", std::to_string(pool.id), body);
            return one(tx, pool_select, "p", pool.id, "pool");
        });
    }
    if (route == "/api/v1/admin/pools/{id}") {
        const auto id = id_param(request, 0);
        if (method == "GET") {
            return in_tx("show a pool", [&](pqxx::work& tx) {
                auto pool = one(tx, pool_select, "p", id, "pool");
                pool["entitlements"] = query_json(
                    tx, list_sql("SELECT e.id, e.user_id, u.username, e.group_id, g.name AS group_name FROM entitlements e "
                                 "LEFT JOIN users u ON u.id = e.user_id LEFT JOIN groups g ON g.id = e.group_id "
                                 "WHERE e.pool_id = $1"),
                    std::vector<std::string>{std::to_string(id)});
                return pool;
            });
        }
        if (method == "PATCH") {
            return in_tx("update a pool", [&](pqxx::work& tx) {
                db::PoolRepository pools(tx);
                const auto pool = pools.find(id);
                if (!pool) throw ApiError(404, "not_found", "no such pool");
                pools.update(id, merge_pool(*pool, body));
                audit(tx, caller, "pool.update", "pool", std::to_string(id), body);
                return one(tx, pool_select, "p", id, "pool");
            });
        }
        return in_tx("delete a pool", [&](pqxx::work& tx) {
            const auto pool = one(tx, pool_select, "p", id, "pool");
            if (pool["desktops"].get<long>() > 0 ||
                !tx.exec_params("SELECT 1 FROM sessions WHERE pool_id = $1 LIMIT 1", id).empty()) {
                throw ApiError(409, "conflict",
                               "the pool still has desktops or session history; disable it and set max_size 0");
            }
            tx.exec_params("DELETE FROM entitlements WHERE pool_id = $1", id);
            tx.exec_params("DELETE FROM desktops WHERE pool_id = $1", id);
            tx.exec_params("DELETE FROM pools WHERE id = $1", id);
            audit(tx, caller, "pool.delete", "pool", std::to_string(id), {{"name", pool["name"]}});
            return nlohmann::json{{"deleted", true}, {"id", id}};
        });
    }
    if (route == "/api/v1/admin/pools/{id}/entitlements") {
        const auto id = id_param(request, 0);
        if (body.contains("user_id") == body.contains("group_id")) {
            throw ApiError(400, "invalid_request", "give exactly one of user_id and group_id");
        }
        status = 201;
        return in_tx("entitle", [&](pqxx::work& tx) {
            one(tx, pool_select, "p", id, "pool");
            db::PoolRepository pools(tx);
            const auto entitlement = body.contains("user_id") ? pools.entitle_user(id, body["user_id"])
                                                              : pools.entitle_group(id, body["group_id"]);
            audit(tx, caller, "pool.entitle", "pool", std::to_string(id), body);
            return nlohmann::json{{"id", entitlement.id},
                                  {"pool_id", id},
                                  {"user_id", entitlement.user_id ? nlohmann::json(*entitlement.user_id) : nullptr},
                                  {"group_id", entitlement.group_id ? nlohmann::json(*entitlement.group_id) : nullptr}};
        });
    }
    if (route == "/api/v1/admin/entitlements/{id}") {
        const auto id = id_param(request, 0);
        return in_tx("revoke an entitlement", [&](pqxx::work& tx) {
            if (!db::PoolRepository(tx).revoke_entitlement(id)) throw ApiError(404, "not_found", "no such entitlement");
            audit(tx, caller, "pool.revoke_entitlement", "entitlement", std::to_string(id));
            return nlohmann::json{{"deleted", true}, {"id", id}};
        });
    }

    // ---- jobs: refresh a pool now, push an image, cancel
    if (route == "/api/v1/admin/pools/{id}/refresh" || route == "/api/v1/admin/pools/{id}/push") {
        const auto id = id_param(request, 0);
        const bool push = route == "/api/v1/admin/pools/{id}/push";
        status = 201;
        return in_tx("start a job", [&](pqxx::work& tx) {
            one(tx, pool_select, "p", id, "pool");
            db::NewJob job;
            job.type = push ? db::JobType::image_push : db::JobType::refresh_pool;
            job.pool_id = id;
            job.created_by = caller.user.id;
            // in-use desktops are refreshed when their sessions end, or forcibly after this
            job.force_after = std::chrono::system_clock::now() + std::chrono::seconds(body.value("force_after_s", 3600));
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
            audit(tx, caller, push ? "pool.push_image" : "pool.refresh", "pool", std::to_string(id),
                  {{"job_id", created.id}, {"image_id", push ? body["image_id"] : nlohmann::json(nullptr)}});
            return one(tx, job_select, "j", created.id, "job");
        });
    }
    if (route == "/api/v1/admin/jobs/{id}") {
        const auto id = id_param(request, 0);
        return in_tx("show a job", [&](pqxx::work& tx) { return one(tx, job_select, "j", id, "job"); });
    }
    if (route == "/api/v1/admin/jobs/{id}/cancel") {
        const auto id = id_param(request, 0);
        return in_tx("cancel a job", [&](pqxx::work& tx) {
            one(tx, job_select, "j", id, "job");
            if (!db::JobRepository(tx).request_cancel(id)) {
                throw ApiError(409, "conflict", "the job has finished");
            }
            audit(tx, caller, "job.cancel", "job", std::to_string(id));
            return one(tx, job_select, "j", id, "job");
        });
    }

    // ---- golden images
    if (route == "/api/v1/admin/images" && method == "GET") {
        return in_tx("list images", [&](pqxx::work& tx) { return query_json(tx, list_sql(image_select)); });
    }
    if (route == "/api/v1/admin/images" && method == "POST") {
        status = 201;
        return in_tx("register an image", [&](pqxx::work& tx) {
            db::NewGoldenImage image;
            image.name = body["name"];
            image.state_path = body["state_path"];
            image.memory_path = body["memory_path"];
            image.memory_mib = body["memory_mib"];
            image.vcpus = body.value("vcpus", 1);
            image.fb_width = body.value("fb_width", 1024);
            image.fb_height = body.value("fb_height", 768);
            image.description = body.value("description", "");
            image.state = db::enum_from_string<db::ImageState>(body.value("state", "ready"));
            const auto created = db::ImageRepository(tx).create(image);
            audit(tx, caller, "image.create", "image", std::to_string(created.id),
                  {{"name", created.name}, {"version", created.version}});
            return one(tx, image_select, "i", created.id, "image");
        });
    }
    if (route == "/api/v1/admin/images/{id}") {
        const auto id = id_param(request, 0);
        if (method == "GET") {
            return in_tx("show an image", [&](pqxx::work& tx) { return one(tx, image_select, "i", id, "image"); });
        }
        return in_tx("change an image's state", [&](pqxx::work& tx) {
            const auto state = db::enum_from_string<db::ImageState>(body["state"].get<std::string>());
            std::optional<std::string> error;
            if (body.contains("error")) error = body["error"].get<std::string>();
            if (!db::ImageRepository(tx).set_state(id, state, error)) throw ApiError(404, "not_found", "no such image");
            audit(tx, caller, "image.update", "image", std::to_string(id), body);
            return one(tx, image_select, "i", id, "image");
        });
    }

    // ---- desktops, sessions, hosts, jobs, audit
    if (route == "/api/v1/admin/desktops") {
        Filter filter("d");
        if (const auto pool = query_int(request, "pool_id", 1, 9'000'000'000'000'000'000LL)) filter.add("d.pool_id = ${}", *pool);
        if (const auto state = query_string(request, "state")) {
            static const std::vector<std::string> states = {"pending", "starting", "running", "stopping",
                                                            "stopped", "failed",   "lost"};
            if (std::find(states.begin(), states.end(), *state) == states.end()) {
                throw ApiError(400, "invalid_request", "query parameter 'state' is not a desktop state");
            }
            filter.add("d.actual_state = ${}::desktop_actual_state", *state);
        }
        const auto sql = filter.sql(desktop_select, page_of(request));
        return in_tx("list desktops", [&](pqxx::work& tx) { return query_json(tx, sql, filter.params()); });
    }
    if (route == "/api/v1/admin/desktops/{id}/refresh") {
        const auto id = id_param(request, 0);
        return in_tx("refresh a desktop", [&](pqxx::work& tx) {
            db::DesktopRepository desktops(tx);
            const auto desktop = desktops.find(id);
            if (!desktop || desktop->desired_state == db::DesktopDesiredState::deleted) {
                throw ApiError(404, "not_found", "no such desktop");
            }
            db::SessionRepository sessions(tx);
            std::optional<db::Id> ended;
            if (const auto live = sessions.live_for_desktop(id)) {
                sessions.end(live->id, "desktop refreshed by " + caller.user.username);
                ended = live->id;
            }
            if (desktop->assigned_user_id && !desktop->owner_user_id) {
                desktops.release(id, *desktop->assigned_user_id);
            }
            const auto generation = desktops.bump_generation(id, desktop->generation);
            if (!generation) throw ApiError(409, "conflict", "the desktop changed meanwhile; try again");
            audit(tx, caller, "desktop.refresh", "desktop", std::to_string(id),
                  {{"generation", *generation}, {"ended_session", ended ? nlohmann::json(*ended) : nullptr}});
            return nlohmann::json{{"id", id}, {"generation", *generation},
                                  {"ended_session", ended ? nlohmann::json(*ended) : nullptr}};
        });
    }
    if (route == "/api/v1/admin/sessions") {
        Filter filter("s");
        if (const auto user = query_int(request, "user_id", 1, 9'000'000'000'000'000'000LL)) filter.add("s.user_id = ${}", *user);
        if (const auto pool = query_int(request, "pool_id", 1, 9'000'000'000'000'000'000LL)) filter.add("s.pool_id = ${}", *pool);
        if (const auto live = query_string(request, "live")) {
            if (*live != "true" && *live != "false") throw ApiError(400, "invalid_request", "'live' is true or false");
            filter.add(*live == "true" ? "s.state <> 'ended' AND ${} = 1" : "s.state = 'ended' AND ${} = 1", 1);
        }
        const auto sql = filter.sql(session_select, page_of(request));
        return in_tx("list sessions", [&](pqxx::work& tx) { return query_json(tx, sql, filter.params()); });
    }
    if (route == "/api/v1/admin/hosts") {
        return in_tx("list hosts", [&](pqxx::work& tx) { return query_json(tx, list_sql(host_select)); });
    }
    if (route == "/api/v1/admin/jobs") {
        Filter filter("j");
        if (const auto pool = query_int(request, "pool_id", 1, 9'000'000'000'000'000'000LL)) filter.add("j.pool_id = ${}", *pool);
        if (const auto state = query_string(request, "state")) {
            static const std::vector<std::string> states = {"queued", "running", "succeeded", "failed", "cancelled"};
            if (std::find(states.begin(), states.end(), *state) == states.end()) {
                throw ApiError(400, "invalid_request", "query parameter 'state' is not a job state");
            }
            filter.add("j.state = ${}::job_state", *state);
        }
        const auto sql = filter.sql(job_select, page_of(request));
        return in_tx("list jobs", [&](pqxx::work& tx) { return query_json(tx, sql, filter.params()); });
    }
    if (route == "/api/v1/admin/audit") {
        Filter filter("a");
        if (const auto actor = query_int(request, "actor_user_id", 1, 9'000'000'000'000'000'000LL)) filter.add("a.actor_user_id = ${}", *actor);
        if (const auto action = query_string(request, "action")) {
            // a prefix: "user." matches every user action (LIKE metacharacters taken literally)
            std::string escaped;
            for (const char c : *action) {
                if (c == '%' || c == '_' || c == '\\') escaped.push_back('\\');
                escaped.push_back(c);
            }
            filter.add("a.action LIKE ${}::text || '%'", escaped);
        }
        const auto sql = filter.sql(audit_select, page_of(request));
        return in_tx("list the audit log", [&](pqxx::work& tx) { return query_json(tx, sql, filter.params()); });
    }
    throw ApiError(404, "not_found", "no such endpoint");
}

}  // namespace vdi::broker
