// The login screen's error states with the real program under Xvfb against a real broker on the
// throwaway PostgreSQL (no desktop, so no KVM): the lockout counting down, an unreachable broker
// retried by itself until it is reached, a pinned certificate that is not the broker's.
#include <catch2/catch.hpp>

#include <QFile>
#include <QSslCertificate>

#include "broker_harness.h"
#include "terminal_driver.h"
#include "vdi/common/db/database.h"
#include "vdi/test/fixtures.h"
#include "vdi/test/tcp_relay.h"
#include "vdi/test/test_database.h"
#include "vdi/thin_client/broker_trust.h"
#include "vdi/thin_client/screens/login_screen.h"

using namespace std::chrono_literals;
using namespace vdi::thin_client;
using Phase = SessionController::Phase;
using namespace thin_client_driver;

TEST_CASE("the login screen says when the user is locked out, the broker is unreachable or its certificate "
          "is not the pinned one",
          "[broker][gui][errors]")
{
    vdi::test::TestDatabase db;
    vdi::db::in_transaction(db.connection(), "seed", [&](pqxx::work& t) {
        vdi::test::make_user_with_password(t, "lee", "lee-secret");
    });
    vdi::test::BrokerProcess broker(db.dsn(), "thin-e2e-errors", "[broker.throttle]\nuser_failures_before_lock = 2\n");

    SECTION("locked out after wrong passwords, counting down")
    {
        const auto config = config_for(broker, DisplayProtocol::vnc);
        Terminal terminal(config, client_for(config));
        auto& login = terminal.app->login();
        for (int i = 0; i < 3 && login.state() != screens::LoginScreen::State::locked; ++i) {
            terminal.sign_in(QStringLiteral("lee"), QStringLiteral("guess-%1").arg(i));
            REQUIRE(wait_for([&] { return login.state() == screens::LoginScreen::State::error ||
                                          login.state() == screens::LoginScreen::State::locked; }, 20s));
        }
        REQUIRE(login.state() == screens::LoginScreen::State::locked);
        CHECK_FALSE(login.signInEnabled());
        const QString before = login.message();
        CHECK(before.contains(QStringLiteral("Try again in")));
        CHECK(wait_for([&] { return login.message() != before; }, 3s));  // it counts down by itself
        screenshot(terminal.app->window(), QStringLiteral("e2e-login-locked"));
    }

    SECTION("the broker is not there: said so, and retried by itself")
    {
        vdi::test::TcpRelay nowhere(1);  // a port of ours that leads nowhere: connections drop at once
        auto config = config_for(broker, DisplayProtocol::vnc);
        config.broker = QStringLiteral("127.0.0.1:%1").arg(nowhere.port());
        Terminal terminal(config, client_for(config));
        terminal.app->controller().set_unreachable_retry_s(2);
        auto& login = terminal.app->login();
        terminal.sign_in(QStringLiteral("lee"), QStringLiteral("lee-secret"));
        REQUIRE(wait_for([&] { return login.state() == screens::LoginScreen::State::unreachable; }, 30s));
        CHECK(login.message().contains(QStringLiteral("127.0.0.1:%1").arg(nowhere.port())));
        screenshot(terminal.app->window(), QStringLiteral("e2e-login-unreachable"));
        // the broker comes back (the relay now leads to it): the user gets in without doing anything
        nowhere.set_target(broker.port());
        REQUIRE(wait_for([&] { return terminal.app->controller().phase() == Phase::choosing; }, 30s));
        CHECK(nowhere.accepted() >= 1);  // the retry, by itself, through the relay that now leads somewhere
    }

    SECTION("a pinned certificate that is not the broker's: refused, with the fingerprint it got")
    {
        auto config = config_for(broker, DisplayProtocol::vnc);
        config.trust.ca_file.clear();
        config.trust.pin_sha256 = QByteArray(32, '\x11');
        Terminal terminal(config, client_for(config));
        auto& login = terminal.app->login();
        terminal.sign_in(QStringLiteral("lee"), QStringLiteral("lee-secret"));
        REQUIRE(wait_for([&] { return login.state() == screens::LoginScreen::State::error; }, 20s));
        QFile file(QString::fromStdString(broker.certificate().string()));
        REQUIRE(file.open(QIODevice::ReadOnly));
        const QString got = format_fingerprint(certificate_sha256(QSslCertificate(file.readAll(), QSsl::Pem)));
        INFO(login.message().toStdString());
        CHECK(login.message().contains(got));
        screenshot(terminal.app->window(), QStringLiteral("e2e-login-certificate-mismatch"));
    }
}
