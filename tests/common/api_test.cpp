// The API contract's JSON: the exact field names and null/absent rules docs/api.md promises, the
// timestamp form, and that every body reads back what it wrote.
#include <catch2/catch.hpp>

#include "vdi/common/api/audit.h"
#include "vdi/common/api/desktop.h"
#include "vdi/common/api/error.h"
#include "vdi/common/api/group.h"
#include "vdi/common/api/host.h"
#include "vdi/common/api/image.h"
#include "vdi/common/api/job.h"
#include "vdi/common/api/pool.h"
#include "vdi/common/api/session.h"
#include "vdi/common/api/user.h"

using namespace vdi::api;
using nlohmann::json;

namespace {

std::vector<std::string> keys(const json& j)
{
    std::vector<std::string> out;
    for (const auto& item : j.items()) out.push_back(item.key());
    return out;
}

Time at(long long micros) { return Time(std::chrono::microseconds(micros)); }

}  // namespace

TEST_CASE("timestamps are written as UTC ISO 8601 with microseconds and read back in every PostgreSQL form")
{
    const Time t = at(1'795'328'066'123'456LL);  // 2026-11-22T06:14:26.123456Z
    CHECK(to_iso8601(t) == "2026-11-22T06:14:26.123456+00:00");
    CHECK(to_iso8601(at(1'795'328'066'000'000LL)) == "2026-11-22T06:14:26.000000+00:00");
    CHECK(to_iso8601(at(-1)) == "1969-12-31T23:59:59.999999+00:00");
    CHECK(parse_iso8601("2026-11-22T06:14:26.123456+00:00") == t);
    CHECK(parse_iso8601("2026-11-22 06:14:26.123456+00") == t);
    CHECK(parse_iso8601("2026-11-22T07:14:26.123456+0100") == t);
    CHECK(parse_iso8601("2026-11-22T06:14:26.12+00:00") == at(1'795'328'066'120'000LL));
    CHECK(parse_iso8601("2026-11-22T06:14:26Z") == at(1'795'328'066'000'000LL));
    CHECK(parse_iso8601("2026-11-22T06:14:26") == at(1'795'328'066'000'000LL));
    for (const char* bad : {"", "2026-11-22", "2026-11-22T06:14", "2026-13-22T06:14:26", "2026-11-22T06:14:26.",
                            "2026-11-22T06:14:26+0", "2026-11-22T06:14:26 junk", "yesterday"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse_iso8601(bad), std::invalid_argument);
    }
}

TEST_CASE("response bodies carry exactly the documented fields, null for what is unset")
{
    User user;
    user.id = 3;
    user.username = "alice";
    user.role = "admin";
    user.created_at = at(0);
    const json j = user;
    CHECK(keys(j) == std::vector<std::string>{"created_at", "disabled", "display_name", "id", "last_login_at",
                                              "role", "username"});
    CHECK(j["last_login_at"].is_null());
    CHECK(j["created_at"] == "1970-01-01T00:00:00.000000+00:00");

    UserDetail detail;
    static_cast<User&>(detail) = user;
    detail.groups = {"ops", "staff"};
    CHECK(json(detail)["groups"] == json::array({"ops", "staff"}));

    CHECK(keys(json(Pool{})) ==
          std::vector<std::string>{"assignment", "created_at", "desktops", "disconnected_timeout_s", "display_name",
                                   "enabled", "golden_image_id", "id", "idle_timeout_s", "in_use", "max_session_s",
                                   "max_size", "min_ready", "name", "protocols", "ready", "refresh_cron",
                                   "refresh_policy", "updated_at"});
    CHECK(keys(json(Desktop{})).size() == 19);
    CHECK(keys(json(Session{})).size() == 14);
    CHECK(keys(json(Job{})).size() == 17);
    CHECK(keys(json(Host{})).size() == 12);
    CHECK(keys(json(Image{})).size() == 13);
    CHECK(keys(json(AuditEntry{})) == std::vector<std::string>{"action", "actor", "actor_user_id", "at", "details",
                                                               "id", "source_address", "success", "target_id",
                                                               "target_type"});
    CHECK(json(Deleted{7}) == json{{"deleted", true}, {"id", 7}});
    CHECK(json(Error{"not_found", "no such pool"}) ==
          json{{"error", {{"code", "not_found"}, {"message", "no such pool"}}}});

    // a logoff names the new generation only when it refreshed the desktop
    LogoffResponse logoff;
    logoff.session_id = 4;
    CHECK(json(logoff) == json{{"session_id", 4}, {"state", "ended"}, {"refresh", false}});
    logoff.refresh = true;
    logoff.generation = 9;
    CHECK(json(logoff)["generation"] == 9);
    GroupDetail group;
    group.members.push_back(user);
    CHECK(json(group)["members"][0]["username"] == "alice");
}

TEST_CASE("request bodies leave out the optional fields not given, since the broker refuses null")
{
    UpdateUserRequest patch;
    patch.disabled = true;
    CHECK(json(patch) == json{{"disabled", true}});
    PoolRequest pool;
    pool.name = "demo";
    pool.golden_image_id = 1;
    pool.protocols = std::vector<std::string>{"vnc"};
    CHECK(json(pool) == json{{"name", "demo"}, {"golden_image_id", 1}, {"protocols", {"vnc"}}});
    CHECK(json(PushImageRequest{5, std::nullopt}) == json{{"image_id", 5}});
    CHECK(json(LoginRequest{"demo", "pw"}) == json{{"user", "demo"}, {"password", "pw"}});
}

TEST_CASE("every body reads back what it wrote")
{
    Job job;
    job.id = 12;
    job.type = "image_push";
    job.pool_id = 2;
    job.target_image_id = 4;
    job.state = "running";
    job.run_at = at(1'795'328'066'123'456LL);
    job.force_after = at(1'795'331'666'000'001LL);
    job.progress_done = 1;
    job.progress_total = 3;
    job.claimed_by = "pool-manager@host1";
    job.created_at = job.run_at;
    const Job back = json(job).get<Job>();
    CHECK(json(back) == json(job));
    CHECK(back.force_after == job.force_after);
    CHECK(!back.finished_at);

    PoolDetail pool;
    pool.id = 1;
    pool.name = "demo";
    pool.protocols = {"vnc", "rdp"};
    pool.idle_timeout_s = 600;
    pool.entitlements.push_back(PoolEntitlement{3, std::nullopt, std::nullopt, 5, "staff"});
    CHECK(json(json(pool).get<PoolDetail>()) == json(pool));

    ConnectResponse connect{7, "demo", "demo-2", "127.0.0.1", 41873, "vnc", "q3Z-8xYb", at(5), false, 311};
    CHECK(json(json(connect).get<ConnectResponse>()) == json(connect));
    DesktopList list;
    list.pools.push_back(EntitledPool{"demo", "Demo", "floating", {"vnc"}, true, 3});
    list.sessions.push_back(UserSession{7, "demo", "demo-2", "vnc", "disconnected", at(1), at(2), std::string("refresh at 18:00"), at(4)});
    CHECK(json(json(list).get<DesktopList>()) == json(list));

    AuditEntry entry;
    entry.id = 1;
    entry.at = at(3);
    entry.actor = "admin";
    entry.action = "pool.create";
    entry.details = {{"name", "demo"}};
    CHECK(json(json(entry).get<AuditEntry>()) == json(entry));

    // a client learns a refusal's code from the same type
    const Error error = json::parse(R"({"error": {"code": "conflict", "message": "the job has finished"}})");
    CHECK(error.code == "conflict");
    // and a required field that is missing is an error, not a default
    CHECK_THROWS_AS(json({{"id", 1}}).get<Host>(), json::exception);
}
