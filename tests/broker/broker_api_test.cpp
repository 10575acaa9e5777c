// vdi-broker through a real HTTPS client against a real (throwaway) PostgreSQL: the thin-client
// flow, authorization, tickets, refresh on logoff, and the operational endpoints.
#include <csignal>
#include <optional>
#include <thread>

#include <catch2/catch.hpp>

#include "broker_harness.h"
#include "vdi/common/crypto.h"
#include "vdi/common/db/database.h"
#include "vdi/common/db/session_repository.h"
#include "vdi/common/db/ticket_repository.h"
#include "vdi/test/fixtures.h"
#include "vdi/test/test_database.h"

using namespace std::chrono_literals;
using nlohmann::json;
using vdi::test::BrokerProcess;
using vdi::test::TestDatabase;
using vdi::test::TicketAcker;

namespace {

struct World {
    TestDatabase db;
    vdi::db::Pool pool;
    vdi::db::Host host;
    std::vector<vdi::db::Desktop> desktops;

    explicit World(int ready = 3, vdi::db::PoolAssignment assignment = vdi::db::PoolAssignment::floating)
    {
        vdi::db::in_transaction(db.connection(), "seed", [&](pqxx::work& tx) {
            const auto image = vdi::test::make_image(tx);
            pool = vdi::test::make_pool(tx, image.id, "office", assignment);
            host = vdi::test::make_host(tx);
            desktops = vdi::test::make_ready_desktops(tx, pool, host, ready);
            const auto alice = vdi::test::make_user_with_password(tx, "alice", "alice-secret");
            const auto bob = vdi::test::make_user_with_password(tx, "bob", "bob-secret");
            vdi::test::make_user_with_password(tx, "root", "root-secret", vdi::db::UserRole::admin);
            vdi::test::make_user_with_password(tx, "mallory", "mallory-secret");  // not entitled
            vdi::db::PoolRepository pools(tx);
            pools.entitle_user(pool.id, alice.id);
            const auto staff = vdi::db::UserRepository(tx).create_group("staff");
            vdi::db::UserRepository(tx).add_member(staff.id, bob.id);
            pools.entitle_group(pool.id, staff.id);
        });
    }
    long long scalar(const std::string& sql)
    {
        pqxx::work tx(db.connection());
        return tx.exec(sql)[0][0].as<long long>();
    }
    void exec(const std::string& sql)
    {
        vdi::db::in_transaction(db.connection(), "change the test's rows", [&](pqxx::work& tx) { tx.exec(sql); });
    }
};

std::string login(vdi::test::HttpsClient& client, const std::string& user, const std::string& password)
{
    const auto r = client.post("/api/v1/login", {{"user", user}, {"password", password}});
    INFO(r.body);
    REQUIRE(r.status == 200);
    return r.json()["token"];
}

}  // namespace

TEST_CASE("broker: login, desktops, connect with a delivered ticket, reconnect, disconnect, logoff, logout",
          "[broker]")
{
    World world;
    TicketAcker acker(world.db.dsn(), world.host.id);
    BrokerProcess broker(world.db.dsn(), "flow");
    auto client = broker.client();

    const std::string token = login(*client, "alice", "alice-secret");
    CHECK(token.size() == 43);  // 256 bits, base64url
    // only the token's hash is stored
    CHECK(world.scalar("SELECT count(*) FROM api_tokens WHERE token_hash = decode('" + vdi::sha256_hex(token) +
                       "', 'hex')") == 1);

    const auto me = client->get("/api/v1/me", token);
    REQUIRE(me.status == 200);
    CHECK(me.json()["username"] == "alice");
    CHECK(me.json()["role"] == "user");

    // a token's last use is written at most once a minute, by any authenticated request
    const auto used_recently = [&] {
        return world.scalar("SELECT count(*) FROM api_tokens WHERE last_used_at > now() - interval '10 seconds'");
    };
    world.exec("UPDATE api_tokens SET last_used_at = now() - interval '2 minutes'");
    CHECK(used_recently() == 0);
    REQUIRE(client->get("/api/v1/me", token).status == 200);
    CHECK(used_recently() == 1);

    const auto listing = client->get("/api/v1/desktops", token);
    REQUIRE(listing.status == 200);
    REQUIRE(listing.json()["pools"].size() == 1);
    CHECK(listing.json()["pools"][0]["name"] == "office");
    CHECK(listing.json()["pools"][0]["ready"] == 3);
    CHECK(listing.json()["pools"][0]["available"] == true);
    CHECK(listing.json()["sessions"].empty());

    // connect: a desktop, a session, and a ticket that reached the host agent first
    world.exec("UPDATE api_tokens SET last_used_at = now() - interval '2 minutes'");
    const auto connected = client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, token);
    INFO(connected.body);
    REQUIRE(connected.status == 200);
    CHECK(used_recently() == 1);  // (connect checks the token in its own statement)
    const auto c = connected.json();
    CHECK(c["host"] == "127.0.0.1");
    CHECK(c["protocol"] == "vnc");
    CHECK(c["reconnected"] == false);
    const std::string ticket = c["ticket"];
    CHECK(ticket.size() == 8);  // VNC authentication carries 8 characters
    CHECK(acker.received() == std::vector<std::string>{ticket});
    CHECK(world.scalar("SELECT count(*) FROM display_tickets WHERE ticket_hash = decode('" + vdi::sha256_hex(ticket) +
                       "', 'hex') AND delivered_at IS NOT NULL") == 1);
    const long long session_id = c["session_id"];
    const long long desktop_port = c["port"];
    CHECK(desktop_port >= 5900);

    // the listing shows the session; the pool has one fewer ready desktop
    const auto after = client->get("/api/v1/desktops", token).json();
    CHECK(after["pools"][0]["ready"] == 2);
    REQUIRE(after["sessions"].size() == 1);
    CHECK(after["sessions"][0]["id"] == session_id);
    CHECK(after["sessions"][0]["state"] == "active");

    // connecting again (over RDP now) reconnects to the same desktop with a fresh, longer ticket
    const auto again = client->post("/api/v1/desktops/office/connect", {{"protocol", "rdp"}}, token);
    REQUIRE(again.status == 200);
    CHECK(again.json()["reconnected"] == true);
    CHECK(again.json()["session_id"] == session_id);
    CHECK(again.json()["desktop"] == c["desktop"]);
    CHECK(again.json()["ticket"].get<std::string>().size() == 24);
    CHECK(again.json()["ticket"] != ticket);

    const auto disconnected = client->post("/api/v1/sessions/" + std::to_string(session_id) + "/disconnect", json::object(), token);
    REQUIRE(disconnected.status == 200);
    CHECK(disconnected.json()["state"] == "disconnected");
    CHECK(client->get("/api/v1/desktops", token).json()["sessions"][0]["state"] == "disconnected");

    // logoff of a floating desktop: released and refreshed (new generation, not ready until the
    // host agent runs a fresh clone), so the next user never sees this one's state
    const auto desktop_id = world.scalar("SELECT desktop_id FROM sessions WHERE id = " + std::to_string(session_id));
    const auto generation = world.scalar("SELECT generation FROM desktops WHERE id = " + std::to_string(desktop_id));
    const auto logoff = client->post("/api/v1/sessions/" + std::to_string(session_id) + "/logoff", json::object(), token);
    REQUIRE(logoff.status == 200);
    CHECK(logoff.json()["refresh"] == true);
    CHECK(world.scalar("SELECT generation FROM desktops WHERE id = " + std::to_string(desktop_id)) == generation + 1);
    CHECK(world.scalar("SELECT count(*) FROM desktops WHERE id = " + std::to_string(desktop_id) +
                       " AND assigned_user_id IS NULL") == 1);
    CHECK(client->get("/api/v1/desktops", token).json()["pools"][0]["ready"] == 2);
    CHECK(client->post("/api/v1/sessions/" + std::to_string(session_id) + "/logoff", json::object(), token).status == 409);

    // the audit log has the login, the assignment, the reconnect, the disconnect and the logoff
    for (const char* action : {"user.login", "desktop.assign", "session.reconnect", "session.disconnect", "session.logoff"}) {
        INFO(action);
        CHECK(world.scalar(std::string("SELECT count(*) FROM audit_log WHERE action = '") + action +
                           "' AND actor = 'alice' AND source_address = '127.0.0.1'") >= 1);
    }

    REQUIRE(client->post("/api/v1/logout", json::object(), token).status == 200);
    CHECK(client->get("/api/v1/me", token).status == 401);
    // connect checks the token in its own statement: a logged-out token opens nothing
    const auto after_logout = client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, token);
    CHECK(after_logout.status == 401);
    CHECK(after_logout.json()["error"]["code"] == "unauthenticated");
    CHECK(world.scalar("SELECT count(*) FROM sessions WHERE state <> 'ended'") == 0);
}

TEST_CASE("broker: a user cannot see or act on another user's sessions, non-admins get 403", "[broker]")
{
    World world;
    TicketAcker acker(world.db.dsn(), world.host.id);
    BrokerProcess broker(world.db.dsn(), "authz");
    auto client = broker.client();
    const auto alice = login(*client, "alice", "alice-secret");
    const auto bob = login(*client, "bob", "bob-secret");  // entitled through the group
    const auto mallory = login(*client, "mallory", "mallory-secret");

    const auto a = client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, alice).json();
    const std::string session = std::to_string(a["session_id"].get<long long>());
    const auto b = client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, bob);
    REQUIRE(b.status == 200);
    CHECK(b.json()["desktop"] != a["desktop"]);

    // bob sees only his own session and cannot touch alice's
    const auto bobs = client->get("/api/v1/desktops", bob).json()["sessions"];
    REQUIRE(bobs.size() == 1);
    CHECK(bobs[0]["id"] == b.json()["session_id"]);
    CHECK(client->post("/api/v1/sessions/" + session + "/disconnect", json::object(), bob).status == 404);
    CHECK(client->post("/api/v1/sessions/" + session + "/logoff", json::object(), bob).status == 404);
    CHECK(world.scalar("SELECT count(*) FROM sessions WHERE id = " + session + " AND state = 'active'") == 1);

    // mallory is not entitled: the pool does not exist for her
    CHECK(client->get("/api/v1/desktops", mallory).json()["pools"].empty());
    const auto refused = client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, mallory);
    CHECK(refused.status == 404);
    CHECK(refused.json()["error"]["code"] == "not_found");

    // the admin API is for admins only
    for (const char* path : {"/api/v1/admin/users", "/api/v1/admin/pools", "/api/v1/admin/audit"}) {
        CHECK(client->get(path, alice).status == 403);
        CHECK(client->get(path).status == 401);
    }
    CHECK(client->post("/api/v1/admin/users/1/disable", json::object(), alice).status == 403);
    CHECK(world.scalar("SELECT count(*) FROM users WHERE disabled") == 0);

    // no token, a made-up token, a malformed header
    CHECK(client->get("/api/v1/me").status == 401);
    CHECK(client->get("/api/v1/me", vdi::random_token(32)).status == 401);
    CHECK(client->request("GET", "/api/v1/me", "", "", "").status == 401);
    CHECK(client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}).status == 401);
    CHECK(client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, vdi::random_token(32)).status == 401);
}

TEST_CASE("broker: the helpdesk role reads everything and acts only on sessions, the auditor only reads",
          "[broker][roles]")
{
    World world;
    TicketAcker acker(world.db.dsn(), world.host.id);
    vdi::db::in_transaction(world.db.connection(), "console users", [&](pqxx::work& tx) {
        vdi::test::make_user_with_password(tx, "hana", "hana-secret", vdi::db::UserRole::helpdesk);
        vdi::test::make_user_with_password(tx, "otto", "otto-secret", vdi::db::UserRole::auditor);
    });
    BrokerProcess broker(world.db.dsn(), "roles");
    auto client = broker.client();
    const auto alice = login(*client, "alice", "alice-secret");
    const auto hana = login(*client, "hana", "hana-secret");
    const auto otto = login(*client, "otto", "otto-secret");
    const auto root = login(*client, "root", "root-secret");
    CHECK(client->get("/api/v1/me", hana).json()["role"] == "helpdesk");
    CHECK(client->get("/api/v1/me", otto).json()["role"] == "auditor");

    const auto a = client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, alice);
    REQUIRE(a.status == 200);
    const std::string session = std::to_string(a.json()["session_id"].get<long long>());
    const std::string pool = "/api/v1/admin/pools/" + std::to_string(world.pool.id);

    // both read what an admin reads
    for (const std::string& path : std::vector<std::string>{"/api/v1/admin/users", "/api/v1/admin/pools", pool, "/api/v1/admin/desktops",
                                   "/api/v1/admin/sessions", "/api/v1/admin/hosts", "/api/v1/admin/jobs",
                                   "/api/v1/admin/audit", "/api/v1/admin/images"}) {
        INFO(path);
        CHECK(client->get(path, hana).status == 200);
        CHECK(client->get(path, otto).status == 200);
    }
    // neither changes a pool, a user or an image; each is told what its role may do
    const auto resize = client->patch_json(pool, {{"min_ready", 1}}, hana);
    CHECK(resize.status == 403);
    CHECK(resize.json()["error"]["message"] == "the helpdesk role may read, and act only on sessions");
    const auto resize2 = client->patch_json(pool, {{"min_ready", 1}}, otto);
    CHECK(resize2.status == 403);
    CHECK(resize2.json()["error"]["message"] == "the auditor role may only read");
    CHECK(client->post("/api/v1/admin/users", {{"username", "eve"}, {"password", "eve-secret-1"}, {"role", "admin"}}, hana)
              .status == 403);
    CHECK(client->post(pool + "/refresh", json::object(), hana).status == 403);
    CHECK(world.scalar("SELECT min_ready FROM pools WHERE id = " + std::to_string(world.pool.id)) != 1);
    CHECK(world.scalar("SELECT count(*) FROM users WHERE username = 'eve'") == 0);
    // a plain user still reads nothing of it
    CHECK(client->get("/api/v1/admin/sessions", alice).json()["error"]["message"] == "this endpoint is for administrators");

    // the auditor cannot touch the session; the helpdesk disconnects it and logs it off
    const auto refused = client->post("/api/v1/admin/sessions/" + session + "/logoff", json::object(), otto);
    CHECK(refused.status == 403);
    CHECK(refused.json()["error"]["message"] == "the auditor role may only read");
    CHECK(client->post("/api/v1/sessions/" + session + "/disconnect", json::object(), otto).status == 404);
    CHECK(world.scalar("SELECT count(*) FROM sessions WHERE id = " + session + " AND state = 'active'") == 1);
    CHECK(client->post("/api/v1/sessions/" + session + "/disconnect", json::object(), hana).status == 200);
    CHECK(client->post("/api/v1/admin/sessions/" + session + "/logoff", json::object(), hana).status == 200);
    CHECK(world.scalar("SELECT count(*) FROM sessions WHERE id = " + session + " AND state = 'ended'") == 1);
    CHECK(world.scalar("SELECT count(*) FROM audit_log WHERE actor = 'hana' AND action IN "
                       "('session.disconnect', 'session.force_logoff')") == 2);

    // only an admin drains a host: no new desktops go there (the pool manager's placement)
    const std::string host = "/api/v1/admin/hosts/" + std::to_string(world.host.id);
    CHECK(client->post(host + "/drain", json::object(), hana).status == 403);
    CHECK(client->post(host + "/drain", json::object(), otto).status == 403);
    const auto drained = client->post(host + "/drain", json::object(), root);
    INFO(drained.body);
    REQUIRE(drained.status == 200);
    CHECK(drained.json()["drained"] == true);
    CHECK(client->get("/api/v1/admin/hosts", otto).json()[0]["drained"] == true);
    CHECK(client->post("/api/v1/admin/hosts/999999/drain", json::object(), root).status == 404);
    CHECK(client->post(host + "/undrain", json::object(), root).json()["drained"] == false);
    CHECK(world.scalar("SELECT count(*) FROM audit_log WHERE actor = 'root' AND action IN ('host.drain', 'host.undrain')") == 2);

    // an admin gives and takes the roles
    const auto made = client->post("/api/v1/admin/users",
                                   {{"username", "hugo"}, {"password", "hugo-secret-1"}, {"role", "helpdesk"}}, root);
    INFO(made.body);
    REQUIRE(made.status == 201);
    CHECK(made.json()["role"] == "helpdesk");
    const auto id = std::to_string(made.json()["id"].get<long long>());
    CHECK(client->patch_json("/api/v1/admin/users/" + id, {{"role", "auditor"}}, root).json()["role"] == "auditor");
    CHECK(client->patch_json("/api/v1/admin/users/" + id, {{"role", "janitor"}}, root).status == 400);
}

TEST_CASE("broker: no ready desktop gives 503 with Retry-After at once, and an undeliverable ticket 503 too",
          "[broker]")
{
    World world(1);
    TicketAcker acker(world.db.dsn(), world.host.id);
    BrokerProcess broker(world.db.dsn(), "busy");
    auto client = broker.client();
    const auto alice = login(*client, "alice", "alice-secret");
    const auto bob = login(*client, "bob", "bob-secret");
    REQUIRE(client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, alice).status == 200);

    const auto started = std::chrono::steady_clock::now();
    const auto none = client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, bob);
    CHECK(std::chrono::steady_clock::now() - started < 1s);
    CHECK(none.status == 503);
    CHECK(none.json()["error"]["code"] == "no_desktop_ready");
    CHECK(none.headers.at("retry-after") == "2");
    CHECK(world.scalar("SELECT count(*) FROM sessions WHERE state <> 'ended'") == 1);

    // a protocol the pool does not offer
    vdi::db::in_transaction(world.db.connection(), "vnc only", [&](pqxx::work& tx) {
        tx.exec("UPDATE pools SET protocols = '{vnc}'");
    });
    CHECK(client->post("/api/v1/desktops/office/connect", {{"protocol", "rdp"}}, alice).json()["error"]["code"] ==
          "protocol_not_offered");

    // the host agent refuses the ticket, or does not answer: 503, and the session stays for a retry
    acker.fail_with("the desktop is not running on this host");
    const auto refused = client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, alice);
    CHECK(refused.status == 503);
    CHECK(refused.json()["error"]["code"] == "desktop_unreachable");
    CHECK_THAT(refused.json()["error"]["message"].get<std::string>(), Catch::Contains("not running on this host"));
    acker.pause(true);
    const auto silent_start = std::chrono::steady_clock::now();
    const auto silent = client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, alice);
    CHECK(silent.status == 503);
    CHECK(std::chrono::steady_clock::now() - silent_start < 5s);  // the configured 3 s, not forever
    acker.pause(false);
    acker.fail_with("");
    CHECK(client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, alice).status == 200);

    // the user's desktop is being restarted, or its display server is not up: 503, nothing changes
    const auto tickets_before = world.scalar("SELECT count(*) FROM display_tickets");
    world.exec("UPDATE desktops SET actual_state = 'starting'");
    const auto starting = client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, alice);
    CHECK(starting.status == 503);
    CHECK(starting.json()["error"]["code"] == "desktop_unavailable");
    world.exec("UPDATE desktops SET actual_state = 'running', vnc_port = NULL");
    const auto no_port = client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, alice);
    CHECK(no_port.status == 503);
    CHECK_THAT(no_port.json()["error"]["message"].get<std::string>(), Catch::Contains("display server"));
    CHECK(world.scalar("SELECT count(*) FROM display_tickets") == tickets_before);
    CHECK(world.scalar("SELECT count(*) FROM sessions WHERE state <> 'ended'") == 1);
}

TEST_CASE("broker: a reconnect racing a logoff of the same session claims a fresh desktop instead", "[broker]")
{
    World world;
    TicketAcker acker(world.db.dsn(), world.host.id);
    BrokerProcess broker(world.db.dsn(), "race");
    auto client = broker.client();
    const auto alice = login(*client, "alice", "alice-secret");
    const auto first = client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, alice).json();
    const auto session_id = first["session_id"].get<long long>();

    // a logoff (the session ended, its desktop released for a refresh) has not committed yet
    // when the reconnect looks the session up
    auto ender = vdi::db::connect(world.db.dsn(), "test-logoff");
    pqxx::work logoff(*ender);
    const std::string id = std::to_string(session_id);
    logoff.exec("UPDATE desktops SET assigned_user_id = NULL, assigned_at = NULL, generation = generation + 1 "
                "WHERE id = (SELECT desktop_id FROM sessions WHERE id = " + id + ")");
    logoff.exec("UPDATE sessions SET state = 'ended', ended_at = now(), end_reason = 'logoff' WHERE id = " + id);
    std::optional<vdi::db::ConnectResult> reconnect;
    std::string error;
    std::thread connecting([&] {
        try {
            auto connection = vdi::db::connect(world.db.dsn(), "test-connect");
            vdi::db::ConnectRequest ask;
            ask.api_token_hash_hex = vdi::sha256_hex(alice);
            ask.pool = "office";
            ask.client_address = "127.0.0.1";
            ask.ticket = "race-ticket";
            ask.ticket_hash_hex = vdi::sha256_hex(ask.ticket);
            reconnect = vdi::db::in_autocommit(*connection, "connect", [&](pqxx::nontransaction& tx) {
                return vdi::db::SessionRepository(tx).connect(ask);
            });
        } catch (const std::exception& e) {
            error = e.what();
        }
    });
    // the reconnect waits for the logoff's row lock; then the logoff commits
    REQUIRE(vdi::test::wait_until(
        [&] {
            return world.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'test-connect' "
                                "AND wait_event_type = 'Lock'") == 1;
        },
        5s));
    logoff.commit();
    connecting.join();
    INFO(error);
    REQUIRE(reconnect);
    CHECK(reconnect->outcome == vdi::db::ConnectOutcome::assigned);  // retried: a first connect now
    CHECK(reconnect->session_id != session_id);
    CHECK(reconnect->desktop_name != first["desktop"].get<std::string>());
    CHECK(world.scalar("SELECT count(*) FROM sessions WHERE state <> 'ended'") == 1);
    CHECK(world.scalar("SELECT count(*) FROM display_tickets WHERE session_id = " + std::to_string(session_id)) == 1);
}

TEST_CASE("broker: connects waiting for a silent host agent hold no request thread", "[broker]")
{
    World world;
    TicketAcker acker(world.db.dsn(), world.host.id);
    BrokerProcess broker(world.db.dsn(), "threads", "", nullptr, "threads = 2");
    auto client = broker.client();
    const auto alice = login(*client, "alice", "alice-secret");
    REQUIRE(client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, alice).status == 200);

    // eight reconnects wait for acknowledgements that do not come (3 s), on a broker with two threads
    acker.pause(true);
    std::vector<vdi::test::HttpResult> waited(8);
    std::vector<std::thread> waiting;
    const auto started = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < waited.size(); ++i) {
        waiting.emplace_back([&, i] {
            waited[i] = broker.client()->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, alice);
        });
    }
    REQUIRE(vdi::test::wait_until([&] { return world.scalar("SELECT count(*) FROM display_tickets") >= 9; }, 2s));
    // meanwhile the broker answers at once
    const auto listed_start = std::chrono::steady_clock::now();
    CHECK(client->get("/api/v1/desktops", alice).status == 200);
    CHECK(client->get("/api/v1/me", alice).status == 200);
    CHECK(std::chrono::steady_clock::now() - listed_start < 500ms);
    CHECK(std::chrono::steady_clock::now() - started < 2s);
    for (auto& t : waiting) t.join();
    for (const auto& result : waited) {
        CHECK(result.status == 503);
    }
    CHECK(std::chrono::steady_clock::now() - started < 6s);  // all timed out together, not one after another
    acker.pause(false);
    CHECK(client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, alice).status == 200);
}

TEST_CASE("broker: dedicated pools keep the user's own desktop across logoff", "[broker]")
{
    World world(2, vdi::db::PoolAssignment::dedicated);
    TicketAcker acker(world.db.dsn(), world.host.id);
    BrokerProcess broker(world.db.dsn(), "dedicated");
    auto client = broker.client();
    const auto alice = login(*client, "alice", "alice-secret");
    const auto first = client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, alice).json();
    REQUIRE(client->post("/api/v1/sessions/" + std::to_string(first["session_id"].get<long long>()) + "/logoff",
                         json::object(), alice)
                .json()["refresh"] == false);
    const auto second = client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, alice);
    REQUIRE(second.status == 200);
    CHECK(second.json()["desktop"] == first["desktop"]);
    CHECK(second.json()["reconnected"] == false);
}

TEST_CASE("broker: /healthz, /readyz and /metrics", "[broker]")
{
    World world;
    TicketAcker acker(world.db.dsn(), world.host.id);
    BrokerProcess broker(world.db.dsn(), "ops");
    auto client = broker.client();
    CHECK(client->get("/healthz").json()["status"] == "ok");
    CHECK(client->get("/readyz").json()["status"] == "ready");
    const auto alice = login(*client, "alice", "alice-secret");
    CHECK(client->post("/api/v1/login", {{"user", "alice"}, {"password", "wrong"}}).status == 401);
    REQUIRE(client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, alice).status == 200);
    const auto metrics = client->get("/metrics");
    REQUIRE(metrics.status == 200);
    CHECK(metrics.headers.at("content-type").rfind("text/plain", 0) == 0);
    const std::string& text = metrics.body;
    CHECK_THAT(text, Catch::Contains("vdi_broker_logins_total{result=\"ok\"} 1"));
    CHECK_THAT(text, Catch::Contains("vdi_broker_logins_total{result=\"failed\"} 1"));
    CHECK_THAT(text, Catch::Contains("vdi_broker_assignments_total 1"));
    CHECK_THAT(text, Catch::Contains("vdi_pool_ready_desktops{pool=\"office\"} 2"));
    CHECK_THAT(text, Catch::Contains(
                         "vdi_broker_requests_total{method=\"POST\",route=\"/api/v1/desktops/{pool}/connect\",status=\"200\"} 1"));
    CHECK_THAT(text, Catch::Contains("vdi_broker_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/login\",le=\"+Inf\"} 2"));
    CHECK_THAT(text, Catch::Contains("vdi_broker_ticket_listener_up 1"));
}

TEST_CASE("broker: a PostgreSQL outage gives 503s and the broker recovers by itself", "[broker]")
{
    World world;
    TicketAcker acker(world.db.dsn(), world.host.id);
    BrokerProcess broker(world.db.dsn(), "outage");
    auto client = broker.client();
    const auto alice = login(*client, "alice", "alice-secret");
    REQUIRE(client->get("/api/v1/desktops", alice).status == 200);

    // the database goes away for the broker: new connections refused, existing ones killed
    pqxx::connection admin(vdi::test::cluster_dsn());
    {
        pqxx::nontransaction tx(admin);
        tx.exec("ALTER DATABASE " + tx.quote_name(world.db.name()) + " ALLOW_CONNECTIONS false");
        tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = " + tx.quote(world.db.name()) +
                " AND application_name LIKE 'vdi-broker%'");
    }
    const auto down = client->get("/api/v1/desktops", alice);
    CHECK(down.status == 503);
    CHECK(down.json()["error"]["code"] == "database_unavailable");
    CHECK(down.headers.count("retry-after") == 1);
    CHECK(client->get("/readyz").status == 503);
    CHECK(client->get("/healthz").status == 200);

    {
        pqxx::nontransaction tx(admin);
        tx.exec("ALTER DATABASE " + tx.quote_name(world.db.name()) + " ALLOW_CONNECTIONS true");
    }
    CHECK(vdi::test::wait_until([&] { return client->get("/readyz").status == 200; }, 10s));
    CHECK(client->get("/api/v1/desktops", alice).status == 200);
    // the ticket listener reconnected too: connect works end to end again
    CHECK(vdi::test::wait_until(
        [&] { return client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, alice).status == 200; },
        10s));
}

TEST_CASE("broker: SIGTERM lets a request in flight finish, then exits 0", "[broker]")
{
    World world;
    TicketAcker acker(world.db.dsn(), world.host.id);
    BrokerProcess broker(world.db.dsn(), "shutdown");
    auto client = broker.client();
    const auto alice = login(*client, "alice", "alice-secret");
    acker.pause(true);  // connect now waits its full 3 s for a ticket acknowledgement
    vdi::test::HttpResult slow;
    std::thread request([&] { slow = client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, alice); });
    // in flight once its ticket is issued: the broker now waits for the acknowledgement
    REQUIRE(vdi::test::wait_until([&] { return world.scalar("SELECT count(*) FROM display_tickets") > 0; }, 10s));
    broker.process().signal(SIGTERM);
    request.join();
    CHECK(slow.status == 503);  // answered (ticket not acknowledged), not cut off
    CHECK(slow.json()["error"]["code"] == "desktop_unreachable");
    const auto status = broker.process().wait(15s);
    REQUIRE(status);
    CHECK(*status == 0);
}

namespace {

// The stages of `stages` (a level of the timing tree) by name, with their children.
const json* stage_named(const json& stages, const std::string& component, const std::string& name)
{
    for (const auto& s : stages) {
        if (s["component"] == component && s["stage"] == name) return &s;
    }
    return nullptr;
}

json client_report(long long trace_id, bool reconnect)
{
    // a plausible client trace: stages back to back with small gaps, 200 ms in all
    return {{"trace_id", trace_id},
            {"reconnect", reconnect},
            {"total_us", 200'000},
            {"stages",
             json::array({{{"stage", "sign_in"}, {"start_us", 0}, {"duration_us", 120'000}},
                          {{"stage", "desktop_list"}, {"start_us", 121'000}, {"duration_us", 3'000}},
                          {{"stage", "connect_request"}, {"start_us", 125'000}, {"duration_us", 40'000}},
                          {{"stage", "display_connection"}, {"start_us", 166'000}, {"duration_us", 10'000}},
                          {{"stage", "display_authentication"}, {"start_us", 176'000}, {"duration_us", 2'000}},
                          {{"stage", "first_picture"}, {"start_us", 178'000}, {"duration_us", 20'000}}})}};
}

}  // namespace

TEST_CASE("broker: every connect opens a logon trace with the broker's and host agent's stages, the client adds its "
          "own once, an admin reads the tree",
          "[broker][timing]")
{
    World world;
    TicketAcker acker(world.db.dsn(), world.host.id);
    BrokerProcess broker(world.db.dsn(), "timing", "[broker.limits]\nbody_bytes = 4096\n");
    auto client = broker.client();
    const auto alice = login(*client, "alice", "alice-secret");
    const auto bob = login(*client, "bob", "bob-secret");
    const auto root = login(*client, "root", "root-secret");

    const auto connected = client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, alice);
    REQUIRE(connected.status == 200);
    const auto session_id = connected.json()["session_id"].get<long long>();
    REQUIRE(connected.json()["trace_id"].is_number_integer());
    const auto trace_id = connected.json()["trace_id"].get<long long>();
    const auto id = std::to_string(trace_id);
    // the broker writes its stages off the request path, within a period
    REQUIRE(vdi::test::wait_until(
        [&] { return world.scalar("SELECT count(*) FROM logon_stages WHERE ticket_id = " + id) >= 8; }, 5s));
    CHECK(world.scalar("SELECT count(*) FROM logon_stages WHERE ticket_id = " + id + " AND component = 'broker'") == 7);
    CHECK(world.scalar("SELECT count(*) FROM logon_stages WHERE ticket_id = " + id + " AND component = 'host'") == 1);
    CHECK(world.scalar("SELECT count(*) FROM logon_traces WHERE ticket_id = " + id + " AND session_id = " +
                       std::to_string(session_id) + " AND NOT resumed AND reconnect IS NULL") == 1);

    const std::string timing = "/api/v1/sessions/" + std::to_string(session_id) + "/timing";
    const auto stored = [&] { return world.scalar("SELECT count(*) FROM logon_stages"); };
    const auto before = stored();
    // refused, changing nothing: another user, another session, a trace that does not exist, a
    // forged stage, a negative time, a stage past the total, too many stages, a huge body
    CHECK(client->post(timing, client_report(trace_id, false), bob).status == 404);
    CHECK(client->post("/api/v1/sessions/" + std::to_string(session_id + 1000) + "/timing",
                       client_report(trace_id, false), alice)
              .status == 404);
    CHECK(client->post(timing, client_report(trace_id + 1000, false), alice).status == 404);
    auto forged = client_report(trace_id, false);
    forged["stages"][0]["stage"] = "token_check";
    CHECK(client->post(timing, forged, alice).status == 400);
    auto negative = client_report(trace_id, false);
    negative["stages"][1]["duration_us"] = -5;
    CHECK(client->post(timing, negative, alice).status == 400);
    auto late = client_report(trace_id, false);
    late["stages"][5]["duration_us"] = 500'000;
    CHECK(client->post(timing, late, alice).status == 400);
    auto twice = client_report(trace_id, false);
    twice["stages"].push_back(twice["stages"][0]);
    CHECK(client->post(timing, twice, alice).status == 400);
    auto many = client_report(trace_id, false);
    for (int i = 0; i < 20; ++i) many["stages"].push_back(many["stages"][0]);
    CHECK(client->post(timing, many, alice).status == 400);
    auto huge = client_report(trace_id, false);
    huge["padding"] = std::string(10000, 'x');
    CHECK(client->post(timing, huge, alice).status == 413);
    CHECK(stored() == before);

    const auto posted = client->post(timing, client_report(trace_id, false), alice);
    INFO(posted.body);
    REQUIRE(posted.status == 200);
    CHECK(stored() == before + 7);  // six stages and the total
    CHECK(client->post(timing, client_report(trace_id, true), alice).status == 409);  // the first stands
    CHECK(stored() == before + 7);

    // the display server's stages, as the host agent passes them on once the client is in
    // (TicketRepository::report_display_stages): stored with the trace, once; for a ticket that
    // does not exist nothing is stored
    const auto report_display = [&](long long ticket, const std::string& stages) {
        vdi::db::in_transaction(world.db.connection(), "report display stages", [&](pqxx::work& tx) {
            vdi::db::TicketRepository(tx).report_display_stages(ticket, stages);
        });
    };
    report_display(trace_id + 1000, R"([["handshake",0,1000]])");
    report_display(trace_id, R"([["handshake",0,4000],["authentication",4000,500],["first_update",4500,12000],)"
                             R"(["bad name!",0,1],["negative",0,-5]])");
    REQUIRE(vdi::test::wait_until([&] { return stored() == before + 10; }, 5s));
    report_display(trace_id, R"([["handshake",0,9999]])");  // a second report changes nothing
    CHECK(world.scalar("SELECT count(*) FROM logon_stages WHERE component = 'display' AND ticket_id = " + id) == 3);
    CHECK(world.scalar("SELECT duration_us FROM logon_stages WHERE component = 'display' AND stage = 'handshake' "
                       "AND ticket_id = " + id) == 4000);
    CHECK(stored() == before + 10);

    // the admin's tree: client stages on the root, the broker's request inside the connect
    // request, the statement's parts and the host agent's stages inside the broker's
    CHECK(client->get("/api/v1/admin/sessions/" + std::to_string(session_id) + "/timing", alice).status == 403);
    const auto tree = client->get("/api/v1/admin/sessions/" + std::to_string(session_id) + "/timing", root);
    INFO(tree.body);
    REQUIRE(tree.status == 200);
    const json body = tree.json();
    const json& t = body["traces"].at(0);
    CHECK(t["trace_id"] == trace_id);
    CHECK(t["client_reported"] == true);
    CHECK(t["total_ms"] == Approx(200.0));
    double covered = 0, last_end = 0;
    for (const auto& s : t["stages"]) {
        CHECK(s["start_ms"].get<double>() >= last_end - 1e-9);  // in order, no overlap
        CHECK(s["duration_ms"].get<double>() >= 0);
        last_end = s["start_ms"].get<double>() + s["duration_ms"].get<double>();
        covered += s["duration_ms"].get<double>();
    }
    CHECK(covered + t["unaccounted_ms"].get<double>() == Approx(t["total_ms"].get<double>()));
    const json* request_stage = stage_named(t["stages"], "client", "connect_request");
    REQUIRE(request_stage);
    const json* broker_request = stage_named((*request_stage)["stages"], "broker", "request");
    REQUIRE(broker_request);
    CHECK((*broker_request)["start_ms"].get<double>() >= (*request_stage)["start_ms"].get<double>());
    const json* statement = stage_named((*broker_request)["stages"], "broker", "statement");
    REQUIRE(statement);
    CHECK(stage_named((*statement)["stages"], "broker", "token_check"));
    CHECK(stage_named((*statement)["stages"], "broker", "claim"));
    const json* delivery = stage_named((*broker_request)["stages"], "broker", "ticket_delivery");
    REQUIRE(delivery);
    CHECK(stage_named((*delivery)["stages"], "host", "ticket_check"));
    CHECK((*broker_request).contains("unaccounted_ms"));
    // the display server's stages inside the client's stages that waited for them, centred
    const json* connection = stage_named(t["stages"], "client", "display_connection");
    REQUIRE(connection);
    const json* handshake = stage_named((*connection)["stages"], "display", "handshake");
    REQUIRE(handshake);
    CHECK((*handshake)["start_ms"].get<double>() == Approx(166.0 + 3.0));  // 4 ms centred in 10
    CHECK((*connection)["unaccounted_ms"].get<double>() == Approx(6.0));
    const json* authentication = stage_named(t["stages"], "client", "display_authentication");
    REQUIRE(authentication);
    CHECK(stage_named((*authentication)["stages"], "display", "authentication"));
    const json* picture = stage_named(t["stages"], "client", "first_picture");
    REQUIRE(picture);
    const json* update = stage_named((*picture)["stages"], "display", "first_update");
    REQUIRE(update);
    CHECK((*update)["duration_ms"].get<double>() == Approx(12.0));
    // the pool's normal, from this one trace
    CHECK((*request_stage)["pool_p50_ms"] == Approx(40.0));

    // a reconnect opens its own trace, marked resumed by the broker and reconnect by the client
    const auto again = client->post("/api/v1/desktops/office/connect", {{"protocol", "rdp"}}, alice);
    REQUIRE(again.status == 200);
    const auto second = again.json()["trace_id"].get<long long>();
    CHECK(second != trace_id);
    REQUIRE(client->post(timing, client_report(second, true), alice).status == 200);
    REQUIRE(vdi::test::wait_until(
        [&] {
            return world.scalar("SELECT count(*) FROM logon_stages WHERE component = 'broker' AND stage = 'reconnect' "
                                "AND ticket_id = " + std::to_string(second)) == 1;
        },
        5s));
    const auto both = client->get("/api/v1/admin/sessions/" + std::to_string(session_id) + "/timing", root).json();
    REQUIRE(both["traces"].size() == 2);
    CHECK(both["traces"][0]["trace_id"] == second);  // newest first
    CHECK(both["traces"][0]["resumed"] == true);
    CHECK(both["traces"][0]["reconnect"] == true);
    CHECK(both["traces"][1]["reconnect"] == false);
    CHECK(client->get("/api/v1/admin/sessions/999999/timing", root).status == 404);

    // the pool's statistics per period, for charts, and the histogram on /metrics
    const auto stats = client->get("/api/v1/admin/pools/" + std::to_string(world.pool.id) + "/logon-stats?period_s=60", root);
    INFO(stats.body);
    REQUIRE(stats.status == 200);
    const auto periods = stats.json()["periods"];
    REQUIRE(periods.size() >= 1);
    long client_totals = 0;
    for (const auto& period : periods) {
        for (const auto& s : period["stages"]) {
            CHECK(s["p50_ms"].get<double>() <= s["p95_ms"].get<double>());
            if (s["component"] == "client" && s["stage"] == "total") client_totals += s["count"].get<long>();
        }
    }
    CHECK(client_totals == 2);
    CHECK(client->get("/api/v1/admin/pools/" + std::to_string(world.pool.id) + "/logon-stats?since=yesterday", root).status == 400);
    CHECK(client->get("/api/v1/admin/pools/999999/logon-stats", root).status == 404);
    CHECK(client->get("/api/v1/admin/pools/" + std::to_string(world.pool.id) + "/logon-stats", alice).status == 403);
    const auto metrics = client->get("/metrics").body;
    CHECK_THAT(metrics, Catch::Contains("vdi_logon_duration_seconds_count{pool=\"office\",component=\"client\",stage=\"total\"} 2"));
    CHECK_THAT(metrics, Catch::Contains("vdi_logon_duration_seconds_count{pool=\"office\",component=\"broker\",stage=\"request\"} 2"));
    CHECK_THAT(metrics, Catch::Contains("vdi_logon_duration_seconds_bucket{pool=\"office\",component=\"host\",stage=\"ticket_check\",le=\"+Inf\"} 2"));
    CHECK_THAT(metrics, Catch::Contains("vdi_logon_duration_seconds_count{pool=\"office\",component=\"display\",stage=\"first_update\"} 1"));
}

TEST_CASE("broker: with trace_logons = false a connect opens no trace", "[broker][timing]")
{
    World world;
    TicketAcker acker(world.db.dsn(), world.host.id);
    BrokerProcess broker(world.db.dsn(), "untraced", "", nullptr, "trace_logons = false");
    auto client = broker.client();
    const auto alice = login(*client, "alice", "alice-secret");
    const auto connected = client->post("/api/v1/desktops/office/connect", {{"protocol", "vnc"}}, alice);
    REQUIRE(connected.status == 200);
    CHECK(connected.json()["trace_id"].is_null());
    std::this_thread::sleep_for(300ms);
    CHECK(world.scalar("SELECT count(*) FROM logon_traces") == 0);
    CHECK(world.scalar("SELECT count(*) FROM logon_stages") == 0);
}
