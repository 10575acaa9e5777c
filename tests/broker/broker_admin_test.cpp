// The admin API: users, groups, pools, entitlements, images; reads with filters and paging;
// refresh, force logoff and disable; every change audited with actor, target and address.
#include <catch2/catch.hpp>

#include "broker_harness.h"
#include "vdi/common/db/database.h"
#include "vdi/test/fixtures.h"
#include "vdi/test/test_database.h"

using nlohmann::json;
using vdi::test::BrokerProcess;
using vdi::test::TestDatabase;
using vdi::test::TicketAcker;

TEST_CASE("broker admin API: users, groups, images, pools and entitlements, audited", "[broker][admin]")
{
    TestDatabase db;
    vdi::db::Host host;
    vdi::db::in_transaction(db.connection(), "seed", [&](pqxx::work& tx) {
        vdi::test::make_user_with_password(tx, "root", "root-secret", vdi::db::UserRole::admin);
        host = vdi::test::make_host(tx);
    });
    TicketAcker acker(db.dsn(), host.id);
    BrokerProcess broker(db.dsn(), "admin");
    auto client = broker.client();
    const std::string root = client->post("/api/v1/login", {{"user", "root"}, {"password", "root-secret"}}).json()["token"];

    // a user, a group with the user in it
    const auto carol = client->post("/api/v1/admin/users",
                                    {{"username", "carol"}, {"password", "carol-secret"}, {"display_name", "Carol C"}}, root);
    REQUIRE(carol.status == 201);
    const long long carol_id = carol.json()["id"];
    CHECK(carol.json()["role"] == "user");
    CHECK_FALSE(carol.json().contains("password_hash"));
    CHECK(client->post("/api/v1/admin/users", {{"username", "CAROL"}, {"password", "whatever-1"}}, root).status == 409);
    CHECK(client->post("/api/v1/admin/users", {{"username", "dave"}, {"password", "short"}}, root).status == 400);
    const auto group = client->post("/api/v1/admin/groups", {{"name", "designers"}}, root);
    REQUIRE(group.status == 201);
    const long long group_id = group.json()["id"];
    REQUIRE(client->post("/api/v1/admin/groups/" + std::to_string(group_id) + "/members", {{"user_id", carol_id}}, root).status == 200);
    CHECK(client->get("/api/v1/admin/groups/" + std::to_string(group_id), root).json()["members"][0]["username"] == "carol");
    CHECK(client->get("/api/v1/admin/users/" + std::to_string(carol_id), root).json()["groups"] == json{"designers"});

    // an image, a pool of it, entitled to the group; carol sees it
    const auto image = client->post("/api/v1/admin/images",
                                    {{"name", "win-like"}, {"state_path", "/images/w/state"}, {"memory_path", "/images/w/memory"},
                                     {"memory_mib", 64}}, root);
    REQUIRE(image.status == 201);
    CHECK(image.json()["version"] == 1);
    CHECK(image.json()["state"] == "ready");
    const auto pool = client->post("/api/v1/admin/pools",
                                   {{"name", "design"}, {"golden_image_id", image.json()["id"]}, {"min_ready", 1},
                                    {"max_size", 4}, {"protocols", {"rdp"}}, {"disconnected_timeout_s", 600}}, root);
    INFO(pool.body);
    REQUIRE(pool.status == 201);
    const long long pool_id = pool.json()["id"];
    CHECK(pool.json()["protocols"] == json{"rdp"});
    CHECK(pool.json()["assignment"] == "floating");
    CHECK(client->post("/api/v1/admin/pools", {{"name", "bad"}, {"golden_image_id", 999999}}, root).status == 409);
    CHECK(client->post("/api/v1/admin/pools", {{"name", "bad"}, {"golden_image_id", image.json()["id"]}, {"min_ready", 5}, {"max_size", 2}}, root).status == 400);
    REQUIRE(client->post("/api/v1/admin/pools/" + std::to_string(pool_id) + "/entitlements", {{"group_id", group_id}}, root).status == 201);
    CHECK(client->post("/api/v1/admin/pools/" + std::to_string(pool_id) + "/entitlements", {{"group_id", group_id}, {"user_id", carol_id}}, root).status == 400);
    const auto patched = client->patch_json("/api/v1/admin/pools/" + std::to_string(pool_id), {{"max_size", 8}, {"display_name", "Design team"}}, root);
    REQUIRE(patched.status == 200);
    CHECK(patched.json()["max_size"] == 8);
    CHECK(patched.json()["min_ready"] == 1);  // untouched fields keep their values
    CHECK(patched.json()["disconnected_timeout_s"] == 600);

    std::vector<vdi::db::Desktop> desktops;
    vdi::db::in_transaction(db.connection(), "desktops", [&](pqxx::work& tx) {
        desktops = vdi::test::make_ready_desktops(tx, *vdi::db::PoolRepository(tx).find(pool_id), host, 3, "d");
    });
    const std::string carol_token = client->post("/api/v1/login", {{"user", "carol"}, {"password", "carol-secret"}}).json()["token"];
    CHECK(client->get("/api/v1/desktops", carol_token).json()["pools"][0]["display_name"] == "Design team");
    const auto session = client->post("/api/v1/desktops/design/connect", {{"protocol", "rdp"}}, carol_token);
    REQUIRE(session.status == 200);
    const long long session_id = session.json()["session_id"];

    // reads with filters and paging
    const auto all_desktops = client->get("/api/v1/admin/desktops?pool_id=" + std::to_string(pool_id), root).json();
    REQUIRE(all_desktops.size() == 3);
    CHECK(all_desktops[0]["id"].get<long long>() > all_desktops[1]["id"].get<long long>());  // newest first
    const auto page = client->get("/api/v1/admin/desktops?limit=2", root).json();
    REQUIRE(page.size() == 2);
    const auto next = client->get("/api/v1/admin/desktops?limit=2&before=" + std::to_string(page[1]["id"].get<long long>()), root).json();
    REQUIRE(next.size() == 1);
    CHECK(client->get("/api/v1/admin/desktops?state=running", root).json().size() == 3);
    CHECK(client->get("/api/v1/admin/desktops?state=bogus", root).status == 400);
    CHECK(client->get("/api/v1/admin/sessions?live=true&user_id=" + std::to_string(carol_id), root).json().size() == 1);
    CHECK(client->get("/api/v1/admin/hosts", root).json()[0]["name"] == "host-1");
    CHECK(client->get("/api/v1/admin/jobs", root).json().empty());
    CHECK(client->get("/api/v1/admin/pools/" + std::to_string(pool_id), root).json()["in_use"] == 1);

    // actions: force logoff (the floating desktop is refreshed), refresh, disable
    const auto forced = client->post("/api/v1/admin/sessions/" + std::to_string(session_id) + "/logoff", json::object(), root);
    REQUIRE(forced.status == 200);
    CHECK(forced.json()["refresh"] == true);
    const auto refreshed = client->post("/api/v1/admin/desktops/" + std::to_string(desktops[2].id) + "/refresh", json::object(), root);
    REQUIRE(refreshed.status == 200);
    CHECK(refreshed.json()["generation"] == desktops[2].generation + 1);
    CHECK(client->post("/api/v1/admin/desktops/999999/refresh", json::object(), root).status == 404);
    REQUIRE(client->post("/api/v1/admin/users/" + std::to_string(carol_id) + "/disable", json::object(), root).status == 200);
    CHECK(client->get("/api/v1/me", carol_token).status == 401);  // her tokens are revoked
    CHECK(client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, carol_token).status == 401);
    CHECK(client->post("/api/v1/login", {{"user", "carol"}, {"password", "carol-secret"}}).status == 401);
    CHECK(client->post("/api/v1/admin/users/1/disable", json::object(), root).status == 409);  // not yourself

    // the audit log has every change, by root, from 127.0.0.1; filtered by action prefix
    const auto audit = client->get("/api/v1/admin/audit?action=pool.", root).json();
    std::vector<std::string> actions;
    for (const auto& entry : audit) {
        actions.push_back(entry["action"]);
        CHECK(entry["actor"] == "root");
        CHECK(entry["source_address"] == "127.0.0.1");
    }
    CHECK(actions == std::vector<std::string>{"pool.update", "pool.entitle", "pool.create"});
    for (const char* action : {"user.create", "group.create", "group.add_member", "image.create",
                               "session.force_logoff", "desktop.refresh", "user.disable"}) {
        INFO(action);
        CHECK(client->get(std::string("/api/v1/admin/audit?action=") + action, root).json().size() == 1);
    }

    // deletions: a user with history is refused, a fresh one goes; groups and entitlements go
    CHECK(client->request("DELETE", "/api/v1/admin/users/" + std::to_string(carol_id), "", root).status == 409);
    const auto temp = client->post("/api/v1/admin/users", {{"username", "temp"}, {"password", "temp-secret"}}, root).json();
    CHECK(client->request("DELETE", "/api/v1/admin/users/" + std::to_string(temp["id"].get<long long>()), "", root).status == 200);
    CHECK(client->request("DELETE", "/api/v1/admin/groups/" + std::to_string(group_id), "", root).status == 200);
    CHECK(client->request("DELETE", "/api/v1/admin/pools/" + std::to_string(pool_id), "", root).status == 409);
}

TEST_CASE("broker admin API: refresh a pool now, push an image, cancel a job", "[broker][admin]")
{
    TestDatabase db;
    const auto [pool, image] = vdi::db::in_transaction(db.connection(), "seed", [&](pqxx::work& tx) {
        vdi::test::make_user_with_password(tx, "root", "root-secret", vdi::db::UserRole::admin);
        const auto i = vdi::test::make_image(tx);
        return std::make_pair(vdi::test::make_pool(tx, i.id, "p"), i);
    });
    BrokerProcess broker(db.dsn(), "jobs");
    auto client = broker.client();
    const std::string root = client->post("/api/v1/login", {{"user", "root"}, {"password", "root-secret"}}).json()["token"];
    const std::string base = "/api/v1/admin/pools/" + std::to_string(pool.id);

    const auto refresh = client->post(base + "/refresh", {{"force_after_s", 600}}, root);
    REQUIRE(refresh.status == 201);
    CHECK(refresh.json()["type"] == "refresh_pool");
    CHECK(refresh.json()["state"] == "queued");
    CHECK_FALSE(refresh.json()["force_after"].is_null());

    const auto building = client->post("/api/v1/admin/images", {{"name", image.name}, {"state_path", "/i/s"},
                                                                 {"memory_path", "/i/m"}, {"memory_mib", 64},
                                                                 {"state", "building"}}, root).json();
    CHECK(client->post(base + "/push", {{"image_id", building["id"]}}, root).status == 409);  // not ready
    CHECK(client->post(base + "/push", {{"image_id", 99999}}, root).status == 404);
    CHECK(client->post(base + "/push", json::object(), root).status == 400);
    REQUIRE(client->patch_json("/api/v1/admin/images/" + std::to_string(building["id"].get<long long>()), {{"state", "ready"}}, root).status == 200);
    const auto push = client->post(base + "/push", {{"image_id", building["id"]}}, root);
    REQUIRE(push.status == 201);
    CHECK(push.json()["type"] == "image_push");
    CHECK(push.json()["target_image_id"] == building["id"]);

    const std::string job = "/api/v1/admin/jobs/" + std::to_string(push.json()["id"].get<long long>());
    const auto cancelled = client->post(job + "/cancel", json::object(), root);
    REQUIRE(cancelled.status == 200);
    CHECK(cancelled.json()["state"] == "cancelled");  // (a queued job ends at once)
    CHECK(client->post(job + "/cancel", json::object(), root).status == 409);
    CHECK(client->get(job, root).json()["cancel_requested"] == true);
    CHECK(client->get("/api/v1/admin/jobs?state=queued", root).json().size() == 1);
    for (const char* action : {"pool.refresh", "pool.push_image", "job.cancel"}) {
        INFO(action);
        CHECK(client->get(std::string("/api/v1/admin/audit?action=") + action, root).json().size() == 1);
    }
}
