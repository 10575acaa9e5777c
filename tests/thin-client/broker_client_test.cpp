// BrokerClient against a real vdi-broker (its own self-signed certificate) on the throwaway
// PostgreSQL: trust by pin and CA file, refusals, and the thin-client calls end to end.
#include <catch2/catch.hpp>

#include <QCoreApplication>
#include <QFile>
#include <QSignalSpy>

#include "broker_harness.h"
#include "vdi/common/db/database.h"
#include "vdi/test/fixtures.h"
#include "vdi/test/test_database.h"
#include "vdi/thin_client/broker_client.h"
#include "vdi/thin_client/broker_trust.h"

using namespace vdi::thin_client;
using vdi::test::BrokerProcess;
using vdi::test::TestDatabase;
using vdi::test::TicketAcker;

namespace {

QCoreApplication& application()
{
    static int argc = 1;
    static char name[] = "broker_client_tests";
    static char* argv[] = {name, nullptr};
    static QCoreApplication app(argc, argv);
    return app;
}

struct World {
    TestDatabase db;
    vdi::db::Pool pool;
    vdi::db::Host host;
    std::unique_ptr<BrokerProcess> broker_process;
    std::unique_ptr<TicketAcker> acker;
    const BrokerProcess& broker;

    World() : broker(start())
    {
        application();
        acker = std::make_unique<TicketAcker>(db.dsn(), host.id);
    }
    const BrokerProcess& start()
    {
        vdi::db::in_transaction(db.connection(), "seed", [&](pqxx::work& tx) {
            const auto image = vdi::test::make_image(tx);
            pool = vdi::test::make_pool(tx, image.id, "office");
            host = vdi::test::make_host(tx);
            vdi::test::make_ready_desktops(tx, pool, host, 2);
            const auto alice = vdi::test::make_user_with_password(tx, "alice", "alice-secret");
            vdi::test::make_user_with_password(tx, "carol", "carol-secret");
            vdi::db::PoolRepository(tx).entitle_user(pool.id, alice.id);
        });
        broker_process = std::make_unique<BrokerProcess>(db.dsn(), "thin", "[broker.throttle]\nuser_failures_before_lock = 2\n");
        return *broker_process;
    }
    BrokerEndpoint endpoint() const
    {
        return *parse_broker_endpoint(QStringLiteral("127.0.0.1:%1").arg(broker.port()), nullptr);
    }
    QByteArray certificate_sha256_of_broker() const
    {
        QFile file(QString::fromStdString(broker.certificate().string()));
        REQUIRE(file.open(QIODevice::ReadOnly));
        return vdi::thin_client::certificate_sha256(QSslCertificate(file.readAll(), QSsl::Pem));
    }
};

// Waits for the one signal a call answers with; returns false on requestFailed.
template <typename Signal>
bool answered(BrokerApi& client, Signal signal, BrokerError* error = nullptr)
{
    QSignalSpy ok(&client, signal);
    QSignalSpy failed(&client, &BrokerApi::requestFailed);
    for (int i = 0; i < 200 && ok.isEmpty() && failed.isEmpty(); ++i) ok.wait(100);
    REQUIRE(ok.size() + failed.size() == 1);
    if (!failed.isEmpty()) {
        const auto got = failed.at(0).at(1).value<BrokerError>();
        UNSCOPED_INFO("failed: " << kind_name(got.kind).toStdString() << " " << got.http_status << " "
                                 << got.detail.toStdString());
        if (error != nullptr) *error = got;
    }
    return !ok.isEmpty();
}

}  // namespace

TEST_CASE("broker client: a pin accepts exactly the broker's certificate, a wrong pin names the one it got",
          "[thin-client][postgres]")
{
    World world;
    TrustConfig right;
    right.pin_sha256 = world.certificate_sha256_of_broker();
    BrokerClient pinned(world.endpoint(), right);
    pinned.login(QStringLiteral("alice"), QStringLiteral("alice-secret"));
    REQUIRE(answered(pinned, &BrokerApi::loggedIn));
    CHECK(pinned.signed_in());

    TrustConfig wrong;
    wrong.pin_sha256 = QByteArray(32, '\x42');
    BrokerClient mismatched(world.endpoint(), wrong);
    mismatched.login(QStringLiteral("alice"), QStringLiteral("alice-secret"));
    BrokerError error;
    REQUIRE_FALSE(answered(mismatched, &BrokerApi::loggedIn, &error));
    CHECK(error.kind == BrokerErrorKind::certificate_mismatch);
    CHECK(error.fingerprint == format_fingerprint(right.pin_sha256));
    CHECK(error.sentence().contains(error.fingerprint));
    CHECK_FALSE(mismatched.signed_in());
}

TEST_CASE("broker client: a CA file verifies the broker, with no trust configured it is refused",
          "[thin-client][postgres]")
{
    World world;
    TrustConfig ca;
    ca.ca_file = QString::fromStdString(world.broker.certificate().string());
    BrokerClient verified(world.endpoint(), ca);
    verified.login(QStringLiteral("alice"), QStringLiteral("alice-secret"));
    REQUIRE(answered(verified, &BrokerApi::loggedIn));

    BrokerClient untrusted(world.endpoint(), TrustConfig{});
    untrusted.login(QStringLiteral("alice"), QStringLiteral("alice-secret"));
    BrokerError error;
    REQUIRE_FALSE(answered(untrusted, &BrokerApi::loggedIn, &error));
    CHECK(error.kind == BrokerErrorKind::certificate_untrusted);
    CHECK(error.fingerprint == format_fingerprint(world.certificate_sha256_of_broker()));

    TrustConfig missing;
    missing.ca_file = QStringLiteral("/nonexistent/ca.pem");
    CHECK_THROWS_AS(BrokerClient(world.endpoint(), missing), ClientConfigError);
}

TEST_CASE("broker client: wrong password, lockout with Retry-After, unreachable broker", "[thin-client][postgres]")
{
    World world;
    TrustConfig ca;
    ca.ca_file = QString::fromStdString(world.broker.certificate().string());
    BrokerClient client(world.endpoint(), ca);
    BrokerError error;
    client.login(QStringLiteral("alice"), QStringLiteral("wrong"));
    REQUIRE_FALSE(answered(client, &BrokerApi::loggedIn, &error));
    INFO(error.detail.toStdString() << " status " << error.http_status);
    CHECK(error.kind == BrokerErrorKind::invalid_credentials);
    CHECK(error.sentence() == QStringLiteral("The user name or password is wrong."));

    for (int i = 0; i < 3 && error.kind != BrokerErrorKind::locked; ++i) {
        client.login(QStringLiteral("alice"), QStringLiteral("wrong"));
        REQUIRE_FALSE(answered(client, &BrokerApi::loggedIn, &error));
    }
    REQUIRE(error.kind == BrokerErrorKind::locked);
    REQUIRE(error.retry_after_s);
    CHECK(*error.retry_after_s > 0);
    CHECK(error.sentence() == QStringLiteral("Too many attempts: try again in %1 s.").arg(*error.retry_after_s));

    // a port nothing listens on
    BrokerClient nowhere(*parse_broker_endpoint(QStringLiteral("127.0.0.1:1"), nullptr), ca);
    nowhere.login(QStringLiteral("alice"), QStringLiteral("alice-secret"));
    REQUIRE_FALSE(answered(nowhere, &BrokerApi::loggedIn, &error));
    CHECK(error.kind == BrokerErrorKind::unreachable);
    CHECK(error.sentence() == QStringLiteral("Cannot reach the broker at 127.0.0.1:1: retrying."));
}

TEST_CASE("broker client: desktops, connect, reconnect to the same session, disconnect, logoff, logout",
          "[thin-client][postgres]")
{
    World world;
    TrustConfig ca;
    ca.ca_file = QString::fromStdString(world.broker.certificate().string());
    BrokerClient client(world.endpoint(), ca);
    client.login(QStringLiteral("alice"), QStringLiteral("alice-secret"));
    REQUIRE(answered(client, &BrokerApi::loggedIn));

    QSignalSpy listed(&client, &BrokerApi::desktopsListed);
    client.list_desktops();
    REQUIRE(answered(client, &BrokerApi::desktopsListed));
    const auto list = listed.at(0).at(0).value<vdi::api::DesktopList>();
    REQUIRE(list.pools.size() == 1);
    CHECK(list.pools[0].name == "office");
    CHECK(list.pools[0].available);
    CHECK(list.pools[0].ready == 2);
    CHECK(list.sessions.empty());

    QSignalSpy connected(&client, &BrokerApi::desktopConnected);
    client.connect_desktop(QStringLiteral("office"), QStringLiteral("vnc"));
    REQUIRE(answered(client, &BrokerApi::desktopConnected));
    const auto first = connected.at(0).at(0).value<vdi::api::ConnectResponse>();
    CHECK(first.ticket.size() == 8);
    CHECK_FALSE(first.reconnected);

    client.connect_desktop(QStringLiteral("office"), QStringLiteral("vnc"));
    REQUIRE(answered(client, &BrokerApi::desktopConnected));
    const auto again = connected.at(1).at(0).value<vdi::api::ConnectResponse>();
    CHECK(again.reconnected);
    CHECK(again.session_id == first.session_id);
    CHECK(again.desktop == first.desktop);
    CHECK(again.ticket != first.ticket);

    client.disconnect_session(first.session_id);
    REQUIRE(answered(client, &BrokerApi::sessionDisconnected));
    client.list_desktops();
    REQUIRE(answered(client, &BrokerApi::desktopsListed));
    const auto after = listed.at(1).at(0).value<vdi::api::DesktopList>();
    REQUIRE(after.sessions.size() == 1);
    CHECK(after.sessions[0].state == "disconnected");

    client.logoff_session(first.session_id);
    REQUIRE(answered(client, &BrokerApi::sessionLoggedOff));
    BrokerError error;
    client.disconnect_session(first.session_id);
    REQUIRE_FALSE(answered(client, &BrokerApi::sessionDisconnected, &error));
    CHECK(error.kind == BrokerErrorKind::session_ended);

    client.connect_desktop(QStringLiteral("nope"), QStringLiteral("vnc"));
    REQUIRE_FALSE(answered(client, &BrokerApi::desktopConnected, &error));
    CHECK(error.kind == BrokerErrorKind::not_found);

    client.logout();
    REQUIRE(answered(client, &BrokerApi::loggedOut));
    CHECK_FALSE(client.signed_in());
}

TEST_CASE("broker client: no ready desktop is a 503 with Retry-After", "[thin-client][postgres]")
{
    World world;
    vdi::db::in_transaction(world.db.connection(), "entitle carol, empty the pool", [&](pqxx::work& tx) {
        tx.exec("UPDATE desktops SET ready_generation = NULL");
        tx.exec("INSERT INTO entitlements (pool_id, user_id) SELECT " + std::to_string(world.pool.id) +
                ", id FROM users WHERE username = 'carol'");
    });
    TrustConfig ca;
    ca.ca_file = QString::fromStdString(world.broker.certificate().string());
    BrokerClient client(world.endpoint(), ca);
    client.login(QStringLiteral("carol"), QStringLiteral("carol-secret"));
    REQUIRE(answered(client, &BrokerApi::loggedIn));
    QSignalSpy listed(&client, &BrokerApi::desktopsListed);
    client.list_desktops();
    REQUIRE(answered(client, &BrokerApi::desktopsListed));
    CHECK_FALSE(listed.at(0).at(0).value<vdi::api::DesktopList>().pools.at(0).available);
    BrokerError error;
    client.connect_desktop(QStringLiteral("office"), QStringLiteral("vnc"));
    REQUIRE_FALSE(answered(client, &BrokerApi::desktopConnected, &error));
    CHECK(error.kind == BrokerErrorKind::no_desktop_ready);
    CHECK(error.retry_after_s == 2);  // the harness's retry_after_s
}
