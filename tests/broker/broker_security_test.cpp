// vdi-broker under hostile input: login throttling shared by two replicas, answers that do not
// reveal which user names exist, malformed and oversized requests, slow clients, SQL meta
// characters. Nothing invalid is stored, and the server keeps serving.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "broker_harness.h"
#include "vdi/common/db/database.h"
#include "vdi/common/unique_fd.h"
#include "vdi/test/fixtures.h"
#include "vdi/test/test_database.h"

using namespace std::chrono_literals;
using nlohmann::json;
using vdi::test::BrokerProcess;
using vdi::test::TestDatabase;

namespace {

long long scalar(TestDatabase& db, const std::string& sql)
{
    pqxx::work tx(db.connection());
    return tx.exec(sql)[0][0].as<long long>();
}

void seed_users(TestDatabase& db)
{
    vdi::db::in_transaction(db.connection(), "seed", [&](pqxx::work& tx) {
        vdi::test::make_user_with_password(tx, "alice", "alice-secret");
        vdi::test::make_user_with_password(tx, "root", "root-secret", vdi::db::UserRole::admin);
    });
}

// A raw TCP connection to the broker (below TLS), for clients that misbehave.
vdi::UniqueFd raw_connect(unsigned short port)
{
    vdi::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(fd);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    return fd;
}

// True once the server closed `fd` (read returns 0 or an error) within `timeout`.
bool closed_by_server(int fd, std::chrono::milliseconds timeout)
{
    timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n == 0) return true;
        if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
    }
}

}  // namespace

TEST_CASE("broker: failed logins lock the user name across two replicas, the same answer for unknown users",
          "[broker][security]")
{
    TestDatabase db;
    seed_users(db);
    const std::string throttle =
        "[broker.throttle]\nuser_failures_before_lock = 3\naddress_failures_before_lock = 1000\nfirst_lock_s = 2\n";
    BrokerProcess one(db.dsn(), "replica-1", throttle);
    BrokerProcess two(db.dsn(), "replica-2", throttle);
    auto a = one.client();
    auto b = two.client();

    // wrong password and unknown user: the same status, code and message
    const auto wrong = a->post("/api/v1/login", {{"user", "alice"}, {"password", "nope"}});
    const auto unknown = a->post("/api/v1/login", {{"user", "nobody-here"}, {"password", "nope"}});
    CHECK(wrong.status == 401);
    CHECK(unknown.status == 401);
    CHECK(wrong.body == unknown.body);

    // alternate replicas: failures 2 and 3 on different processes still add up
    CHECK(b->post("/api/v1/login", {{"user", "alice"}, {"password", "nope"}}).status == 401);
    CHECK(a->post("/api/v1/login", {{"user", "ALICE"}, {"password", "nope"}}).status == 401);  // names are case-insensitive
    // locked now on both replicas, even with the right password
    const auto locked = b->post("/api/v1/login", {{"user", "alice"}, {"password", "alice-secret"}});
    CHECK(locked.status == 429);
    CHECK(locked.json()["error"]["code"] == "too_many_attempts");
    CHECK(std::stoi(locked.headers.at("retry-after")) >= 1);
    CHECK(a->post("/api/v1/login", {{"user", "alice"}, {"password", "alice-secret"}}).status == 429);
    // another user from the same address is not affected (address limit is high here)
    CHECK(a->post("/api/v1/login", {{"user", "root"}, {"password", "root-secret"}}).status == 200);
    // an unknown name locks the same way: locks do not reveal whether a name exists
    for (int i = 0; i < 3; ++i) a->post("/api/v1/login", {{"user", "ghost"}, {"password", "x"}});
    CHECK(b->post("/api/v1/login", {{"user", "ghost"}, {"password", "x"}}).status == 429);

    // the lock expires (by the database's clock, which is the brokers' too); a success clears the count
    REQUIRE(vdi::test::wait_until(
        [&] { return scalar(db, "SELECT count(*) FROM login_lockouts WHERE subject = 'alice' AND locked_until > now()") == 0; },
        10s));
    CHECK(b->post("/api/v1/login", {{"user", "alice"}, {"password", "alice-secret"}}).status == 200);
    CHECK(scalar(db, "SELECT count(*) FROM login_lockouts WHERE subject = 'alice'") == 0);
    // progressive: failing again after a lock starts from zero, but the next lock doubles
    CHECK(scalar(db, "SELECT count(*) FROM login_attempts WHERE lower(username) = 'alice' AND NOT succeeded") >= 4);
    CHECK(scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'user.login' AND NOT success") >= 7);
}

TEST_CASE("broker: failures from one address lock that address for every user name", "[broker][security]")
{
    TestDatabase db;
    seed_users(db);
    BrokerProcess broker(db.dsn(), "address",
                         "[broker.throttle]\nuser_failures_before_lock = 100\naddress_failures_before_lock = 4\n"
                         "first_lock_s = 60\n");
    auto client = broker.client();
    for (int i = 0; i < 4; ++i) {
        CHECK(client->post("/api/v1/login", {{"user", "spray-" + std::to_string(i)}, {"password", "x"}}).status == 401);
    }
    CHECK(client->post("/api/v1/login", {{"user", "alice"}, {"password", "alice-secret"}}).status == 429);
    CHECK(scalar(db, "SELECT count(*) FROM login_lockouts WHERE scope = 'address' AND subject = '127.0.0.1' "
                     "AND locked_until > now() + interval '50 seconds'") == 1);
}

TEST_CASE("broker: malformed, oversized and hostile requests get clear 4xx and store nothing", "[broker][security]")
{
    TestDatabase db;
    seed_users(db);
    BrokerProcess broker(db.dsn(), "hostile", "[broker.limits]\nbody_bytes = 4096\nheader_bytes = 2048\nrequest_timeout_ms = 1500\n");
    auto client = broker.client();
    const auto admin = client->post("/api/v1/login", {{"user", "root"}, {"password", "root-secret"}}).json()["token"].get<std::string>();
    const auto users_before = scalar(db, "SELECT count(*) FROM users");

    CHECK(client->request("POST", "/api/v1/login", "{\"user\": \"alice\", ").status == 400);
    CHECK(client->request("POST", "/api/v1/login", "{\"user\":\"\xff\xfe\",\"password\":\"x\"}").status == 400);
    CHECK(client->request("POST", "/api/v1/login", "user=alice&password=x", "", "application/x-www-form-urlencoded").status == 415);
    const auto big = client->request("POST", "/api/v1/login", "{\"user\":\"" + std::string(10000, 'a') + "\",\"password\":\"x\"}");
    CHECK(big.status == 413);
    CHECK(big.json()["error"]["code"] == "body_too_large");
    const auto huge_header = client->request("GET", "/api/v1/me", "", std::string(4000, 'x'));
    CHECK(huge_header.status == 431);
    CHECK(client->request("GET", "/api/v1/me?" + std::string(100, '%')).status == 400);
    CHECK(client->request("BREW", "/api/v1/login").status >= 400);

    // SQL meta characters in every field of a user creation: either stored verbatim as data or
    // refused by a constraint, never interpreted
    const std::string meta = "x'); DROP TABLE users; --";
    const auto created = client->post("/api/v1/admin/users",
                                      {{"username", meta}, {"password", meta + meta}, {"display_name", meta}}, admin);
    CHECK((created.status == 400 || created.status == 409));
    const auto display = client->post("/api/v1/admin/users",
                                      {{"username", "quoted"}, {"password", meta + meta}, {"display_name", meta}}, admin);
    REQUIRE(display.status == 201);
    CHECK(display.json()["display_name"] == meta);
    CHECK(client->post("/api/v1/login", {{"user", meta}, {"password", meta}}).status == 401);
    CHECK(client->get("/api/v1/admin/audit?action=" + std::string("%25'%20OR%201=1%20--"), admin).status == 200);
    CHECK(scalar(db, "SELECT count(*) FROM users") == users_before + 1);

    // a slowloris client trickling its headers is cut off at the request deadline...
    const auto slow = raw_connect(broker.port());
    const auto started = std::chrono::steady_clock::now();
    std::thread trickle([&] {
        const char hello[] = "\x16\x03\x01";  // the start of a TLS record, then nothing useful
        for (int i = 0; i < 40; ++i) {
            if (::send(slow.get(), hello, 1, MSG_NOSIGNAL) < 0) break;
            // the client's pace, not a wait for something: one byte each 100 ms is the slowloris attack
            std::this_thread::sleep_for(100ms);
        }
    });
    // ...while everyone else is served meanwhile
    for (int i = 0; i < 5; ++i) {
        CHECK(client->get("/healthz").status == 200);
    }
    CHECK(closed_by_server(slow.get(), 15s));
    CHECK(std::chrono::steady_clock::now() - started < 12s);  // the handshake deadline, not forever
    trickle.join();

    // garbage instead of TLS, and 100 clients that connect and drop at once
    const auto garbage = raw_connect(broker.port());
    const std::string junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ::send(garbage.get(), junk.data(), junk.size(), MSG_NOSIGNAL);
    CHECK(closed_by_server(garbage.get(), 5s));
    for (int i = 0; i < 100; ++i) {
        raw_connect(broker.port());  // connected, and closed again as the temporary goes
    }
    CHECK(client->get("/healthz").status == 200);
    CHECK(client->post("/api/v1/login", {{"user", "alice"}, {"password", "alice-secret"}}).status == 200);
}

TEST_CASE("broker: connections beyond the limit are refused at once, and served again when others leave",
          "[broker][security]")
{
    TestDatabase db;
    BrokerProcess broker(db.dsn(), "crowded", "[broker.limits]\nmax_connections = 8\nhandshake_timeout_ms = 20000\n");
    std::vector<vdi::UniqueFd> idle;
    for (int i = 0; i < 8; ++i) idle.push_back(raw_connect(broker.port()));  // 8 clients saying nothing
    // No wait needed: the kernel queues connections in order and the broker accepts (and counts)
    // them one at a time, so the ninth, connected after these eight, is accepted after them.
    auto client = broker.client();
    CHECK(client->get("/healthz").status == 0);  // the ninth is closed, not queued
    idle.clear();
    CHECK(vdi::test::wait_until([&] { return client->get("/healthz").status == 200; }, 10s));
}
