// The logon storm: 2,000 users log in and connect at once against 2,000 ready desktops (rows
// only; a stand-in acknowledges the tickets). Each user gets exactly one desktop, no desktop is
// given twice, every session is recorded.
#include <catch2/catch.hpp>

#include "broker_harness.h"
#include "vdi/common/db/database.h"
#include "vdi/test/fixtures.h"
#include "vdi/test/test_database.h"

TEST_CASE("broker: logon storm of 2000 users against 2000 ready desktops, two replicas", "[broker][storm]")
{
    constexpr int users = 2000;
    vdi::test::TestDatabase db;
    vdi::db::Host host;
    vdi::db::in_transaction(db.connection(), "seed", [&](pqxx::work& tx) {
        const auto image = vdi::test::make_image(tx);
        auto pool = vdi::test::make_pool(tx, image.id, "storm");
        host = vdi::test::make_host(tx);
        vdi::test::make_ready_desktops(tx, pool, host, users, "s");
        vdi::test::make_storm_users(tx, pool, users);
    });
    vdi::test::TicketAcker acker(db.dsn(), host.id);
    vdi::test::BrokerProcess one(db.dsn(), "storm-1");
    vdi::test::BrokerProcess two(db.dsn(), "storm-2", "", &one);
    const auto result = vdi::test::run_logon_storm({one.port(), two.port()}, one.certificate(), "storm", users, 64);
    INFO((result.failures.empty() ? std::string() : result.failures.front()));
    WARN("storm of " << users << " users: " << result.seconds << " s");
    CHECK(result.failed == 0);
    CHECK(result.succeeded == users);
    CHECK(static_cast<int>(result.desktops_given.size()) == users);
    CHECK(std::all_of(result.desktops_given.begin(), result.desktops_given.end(),
                      [](const auto& entry) { return entry.second == 1; }));

    pqxx::work tx(db.connection());
    CHECK(tx.exec1("SELECT count(*) FROM sessions WHERE state = 'active'")[0].as<int>() == users);
    CHECK(tx.exec1("SELECT count(DISTINCT desktop_id) FROM sessions")[0].as<int>() == users);
    CHECK(tx.exec1("SELECT count(DISTINCT user_id) FROM sessions")[0].as<int>() == users);
    // the database agrees with what the clients were told: each session's desktop is held by its user
    CHECK(tx.exec1("SELECT count(*) FROM sessions s JOIN desktops d ON d.id = s.desktop_id "
                   "WHERE d.assigned_user_id = s.user_id")[0]
              .as<int>() == users);
    CHECK(tx.exec1("SELECT count(*) FROM audit_log WHERE action = 'desktop.assign'")[0].as<int>() == users);
    CHECK(tx.exec1("SELECT count(*) FROM display_tickets WHERE delivered_at IS NOT NULL")[0].as<int>() == users);
}
