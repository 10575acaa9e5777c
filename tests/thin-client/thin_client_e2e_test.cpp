// vdi-thin-client end to end under Xvfb: the real program (ThinClientApp with its BrokerClient)
// against a real broker, host agent and VMM clones of the demo desktop on KVM, driven with QTest as
// a person at the terminal would: typing into the login screen, into the desktop, the clipboard,
// the session bar, a network cut (a TcpRelay between the client and the display server) and the
// error screens. The pictures are checked against what the guest draws (demo_screen.h) and against
// the VMM's own screenshot. With VDI_SCREENSHOT_DIR set, each screen is saved there as a PNG.
#include <set>

#include <catch2/catch.hpp>

#include <QApplication>
#include <QClipboard>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTest>

#include "e2e_backend.h"
#include "relayed_broker.h"
#include "terminal_driver.h"
#include "vdi/test/demo_screen.h"
#include "vdi/test/tcp_relay.h"
#include "vdi/thin_client/app/desktop_page.h"
#include "vdi/thin_client/app/thin_client_app.h"
#include "vdi/thin_client/broker_trust.h"
#include "vdi/thin_client/screens/kiosk_window.h"
#include "vdi/thin_client/screens/login_screen.h"
#include "vdi/thin_client/screens/reconnect_overlay.h"
#include "vdi/thin_client/screens/session_bar.h"
#include "vdi/thin_client/screens/theme.h"

using namespace std::chrono_literals;
using namespace vdi::thin_client;
using nlohmann::json;
using Phase = SessionController::Phase;
using vdi::thin_client::app::ThinClientApp;
using vdi::test::RelayedBroker;
using namespace thin_client_driver;

namespace {

std::string session_state(e2e::Backend& backend, vdi::api::Id session_id)
{
    return backend.tx([&](pqxx::work& t) {
        return t.exec_params1("SELECT state::text FROM sessions WHERE id = $1", session_id)[0].as<std::string>();
    });
}

// The stored logon trace of a connect (docs/logon-timing.md): the client's stages in order and
// non-negative, within the total; the broker's, the host agent's and the display server's with it,
// the display server's in order.
void check_trace(e2e::Backend& backend, vdi::test::BrokerProcess& broker, const vdi::api::ConnectResponse& connection,
                 bool reconnect)
{
    REQUIRE(connection.trace_id);
    const auto id = *connection.trace_id;
    const auto count = [&](const char* component) {
        return backend.tx([&](pqxx::work& t) {
            return t.exec_params1("SELECT count(*) FROM logon_stages WHERE ticket_id = $1 AND component = $2", id,
                                  component)[0].as<long>();
        });
    };
    // (the client reports after its first picture; the broker writes within a period)
    REQUIRE(wait_for([&] { return count("client") >= 7 && count("broker") == 7 && count("display") == 3; }, 10s));
    CHECK(count("host") >= 3);  // queued, ticket_check, ticket_to_display (identity when it changed)
    // a component's stages as (stage, start_us, duration_us), in order (a client's total first)
    const auto stages = [&](const char* component) {
        return backend.tx([&](pqxx::work& t) {
            std::vector<std::tuple<std::string, long long, long long>> out;
            for (const auto& r : t.exec_params("SELECT stage, start_us, duration_us FROM logon_stages WHERE ticket_id = $1 "
                                               "AND component = $2 ORDER BY start_us, stage <> 'total', duration_us",
                                               id, component)) {
                out.emplace_back(r[0].as<std::string>(), r[1].as<long long>(), r[2].as<long long>());
            }
            return out;
        });
    };
    const auto display = stages("display");
    REQUIRE(display.size() == 3);
    CHECK(std::get<0>(display[0]) == "handshake");
    CHECK(std::get<0>(display[1]) == "authentication");
    CHECK(std::get<0>(display[2]) == "first_update");
    long long display_end = 0;
    for (const auto& [stage, start, duration] : display) {
        CHECK(start >= display_end);
        CHECK(duration >= 0);
        display_end = start + duration;
    }
    const auto rows = stages("client");
    long long total = 0, covered = 0, end = 0;
    std::vector<std::string> names;
    for (const auto& [stage, start, duration] : rows) {
        CHECK(start >= 0);
        CHECK(duration >= 0);
        if (stage == "total") {
            total = duration;
            continue;
        }
        CHECK(start >= end);  // in order
        end = start + duration;
        covered += duration;
        names.push_back(stage);
    }
    CHECK(names.front() == (reconnect ? "reconnect_wait" : "sign_in"));
    CHECK(names.back() == "first_picture");
    CHECK(covered <= total);
    CHECK(end <= total);
    CHECK(backend.tx([&](pqxx::work& t) {
        return t.exec_params1("SELECT reconnect FROM logon_traces WHERE ticket_id = $1", id)[0].as<bool>();
    }) == reconnect);

    // the admin's tree of it: the client's stages plus unaccounted time equal the total, and the
    // display server's stages sit in the client's display stages
    backend.tx([&](pqxx::work& t) {
        if (t.exec("SELECT 1 FROM users WHERE username = 'timing-admin'").empty()) {
            vdi::test::make_user_with_password(t, "timing-admin", "timing-admin-secret", vdi::db::UserRole::admin);
        }
    });
    auto client = broker.client();
    const auto token = backend.login(*client, "timing-admin");
    const auto answer = client->get("/api/v1/admin/sessions/" + std::to_string(connection.session_id) + "/timing", token);
    INFO(answer.body);
    REQUIRE(answer.status == 200);
    const json tree = answer.json();
    const json* trace = nullptr;
    for (const auto& candidate : tree["traces"]) {
        if (candidate["trace_id"] == id) trace = &candidate;
    }
    REQUIRE(trace);
    double sum = 0;
    std::set<std::string> nested;
    for (const auto& stage : (*trace)["stages"]) {
        CHECK(stage["component"] == "client");
        sum += stage["duration_ms"].get<double>();
        for (const auto& child : stage.value("stages", json::array())) {
            if (child["component"] == "display") nested.insert(child["stage"].get<std::string>());
        }
    }
    CHECK(sum + (*trace)["unaccounted_ms"].get<double>() == Approx((*trace)["total_ms"].get<double>()));
    CHECK(nested == std::set<std::string>{"handshake", "authentication", "first_update"});
}

// The VMM's own screenshot of a desktop (its framebuffer as the guest drew it).
QImage vmm_screenshot(e2e::Backend& backend, const std::string& desktop)
{
    const auto id = backend.tx([&](pqxx::work& t) {
        return t.exec_params1("SELECT id FROM desktops WHERE name = $1", desktop)[0].as<long long>();
    });
    const auto socket = backend.state_dir / ("desktop-" + std::to_string(id)) / "control.sock";
    const auto answer = vdi::test::unix_request(socket.string(), R"({"cmd":"screenshot"})");
    REQUIRE(answer);
    const auto png = QByteArray::fromBase64(QByteArray::fromStdString(json::parse(*answer)["png_base64"].get<std::string>()));
    QImage image;
    REQUIRE(image.loadFromData(png, "PNG"));
    return image;
}

// Share of pixels the two pictures have alike (1.0: the same picture).
double alike(const QImage& a, const QImage& b)
{
    if (a.size() != b.size() || a.isNull()) return 0;
    const QImage x = a.convertToFormat(QImage::Format_RGB32), y = b.convertToFormat(QImage::Format_RGB32);
    long long same = 0;
    for (int row = 0; row < x.height(); ++row) {
        const auto* p = reinterpret_cast<const QRgb*>(x.constScanLine(row));
        const auto* q = reinterpret_cast<const QRgb*>(y.constScanLine(row));
        for (int col = 0; col < x.width(); ++col) same += (p[col] & 0xffffff) == (q[col] & 0xffffff);
    }
    return static_cast<double>(same) / (static_cast<double>(x.width()) * x.height());
}

}  // namespace

TEST_CASE("a user signs in at the terminal, works on the desktop over VNC, survives a network cut, "
          "disconnects, comes back to the same desktop and logs off",
          "[kvm][hostd][broker][gui][vnc]")
{
    e2e::Backend backend(0, {"ruth"});
    backend.start_pool_manager(1, 2);
    vdi::test::BrokerProcess broker(backend.db.dsn(), "thin-e2e");
    vdi::test::TcpRelay relay;
    const auto config = config_for(broker, DisplayProtocol::vnc);
    auto relayed = std::make_unique<RelayedBroker>(client_for(config), relay);
    RelayedBroker& network = *relayed;
    Terminal terminal(config, std::move(relayed));
    terminal.app->controller().set_reconnect_policy({250, 1000, 60});  // the default backoff, 60 s to give up
    auto& login = terminal.app->login();
    screenshot(terminal.app->window(), QStringLiteral("e2e-login"));

    // a wrong password: said so, the user name kept, the password wiped
    terminal.sign_in(QStringLiteral("ruth"), QStringLiteral("not-my-password"));
    REQUIRE(wait_for([&] { return login.state() == screens::LoginScreen::State::error; }, 20s));
    CHECK(login.message().contains(QStringLiteral("wrong")));
    CHECK(login.findChild<QLineEdit*>(QStringLiteral("user"))->text() == QStringLiteral("ruth"));
    CHECK(login.findChild<QLineEdit*>(QStringLiteral("password"))->text().isEmpty());
    screenshot(terminal.app->window(), QStringLiteral("e2e-login-wrong-password"));

    // the right one: one pool, so straight to the desktop, stage by stage
    QElapsedTimer clock;
    clock.start();
    terminal.sign_in(QStringLiteral("ruth"), QStringLiteral("ruth-secret"));
    REQUIRE(terminal.connected_within(90s));
    WARN("login to first picture over VNC: " << clock.elapsed() << " ms");
    REQUIRE(terminal.app->controller().connection());
    const auto first = *terminal.app->controller().connection();
    CHECK(first.desktop.rfind("demo", 0) == 0);
    CHECK(first.protocol == "vnc");
    CHECK(terminal.view().session().protocol_name() == QStringLiteral("VNC"));
    CHECK(terminal.view().hasFocus());
    check_trace(backend, broker, first, false);

    // the desktop knows its user, and the terminal shows what the VMM has
    REQUIRE(wait_for([&] { return terminal.bar_shows_user(first.desktop, "ruth"); }, 30s));
    CHECK(wait_for([&] { return alike(terminal.picture().image, vmm_screenshot(backend, first.desktop)) > 0.999; }, 20s));

    // typing reaches the desktop
    QTest::keyClicks(&terminal.view(), QStringLiteral("Hello, Ruth!"));
    CHECK(wait_for([&] { return terminal.window_shows("Hello, Ruth!"); }, 30s));
    CHECK(terminal.view().pressed_key_count() == 0);

    // the terminal's clipboard goes to the desktop (Ctrl+V pastes it there)...
    QGuiApplication::clipboard()->setText(QStringLiteral(" pasted-42"));
    QTest::qWait(2000);  // VNC cut text, the VMM, the agent channel, the guest
    QTest::keyClick(&terminal.view(), Qt::Key_V, Qt::ControlModifier);
    CHECK(wait_for([&] { return terminal.window_shows("Hello, Ruth! pasted-42"); }, 30s));
    // ...and the desktop's comes back (Ctrl+C offers the window's text)
    QTest::keyClick(&terminal.view(), Qt::Key_C, Qt::ControlModifier);
    CHECK(wait_for([&] { return QGuiApplication::clipboard()->text() == QStringLiteral("Hello, Ruth! pasted-42"); }, 30s));
    CHECK(terminal.view().pressed_key_count() == 0);
    screenshot(terminal.app->window(), QStringLiteral("e2e-desktop-vnc"));

    // the network between terminal and desktop fails and stays down: the overlay says so and the
    // client keeps trying...
    network.block(true);
    REQUIRE(relay.cut() >= 1);
    auto& overlay = terminal.app->desktop().overlay();
    REQUIRE(wait_for([&] { return terminal.app->controller().phase() == Phase::reconnecting && overlay.isVisible(); }, 20s));
    REQUIRE(wait_for([&] { return terminal.app->controller().reconnect_attempt() >= 2; }, 20s));
    CHECK(overlay.text().contains(QStringLiteral("Reconnecting"), Qt::CaseInsensitive));
    screenshot(terminal.app->window(), QStringLiteral("e2e-reconnecting"));
    // ...and when it is back, the same desktop returns with the work on it
    clock.restart();
    network.block(false);
    REQUIRE(terminal.connected_within(60s));
    WARN("reconnect after the network came back: " << clock.elapsed() << " ms");
    CHECK_FALSE(overlay.isVisible());
    CHECK(terminal.app->controller().connection()->session_id == first.session_id);
    CHECK(terminal.app->controller().connection()->desktop == first.desktop);
    CHECK(wait_for([&] { return terminal.window_shows("Hello, Ruth! pasted-42"); }, 30s));
    CHECK(session_state(backend, first.session_id) == "active");
    check_trace(backend, broker, *terminal.app->controller().connection(), true);

    // Disconnect from the bar: the desktop is kept, the terminal shows the login screen, empty
    terminal.click_bar_button("disconnect");
    REQUIRE(wait_for([&] { return terminal.app->controller().phase() == Phase::signed_out; }, 20s));
    CHECK(terminal.app->window().currentScreen() == &login);
    CHECK(login.findChild<QLineEdit*>(QStringLiteral("user"))->text().isEmpty());
    CHECK(wait_for([&] { return session_state(backend, first.session_id) == "disconnected"; }, 10s));

    // signing in again brings the same desktop back, text and all
    terminal.sign_in(QStringLiteral("ruth"), QStringLiteral("ruth-secret"));
    REQUIRE(terminal.connected_within(60s));
    CHECK(terminal.app->controller().connection()->session_id == first.session_id);
    CHECK(wait_for([&] { return terminal.window_shows("Hello, Ruth! pasted-42"); }, 30s));

    // Log off from the bar: the session ends and the terminal is back at the login screen
    terminal.click_bar_button("logoff");
    REQUIRE(wait_for([&] { return terminal.app->controller().phase() == Phase::signed_out; }, 20s));
    CHECK(terminal.app->window().currentScreen() == &login);
    CHECK(login.state() == screens::LoginScreen::State::idle);
    CHECK(wait_for([&] { return session_state(backend, first.session_id) == "ended"; }, 10s));
    CHECK(network.connects >= 4);
}

TEST_CASE("over RDP the terminal shows the user's desktop, types into it, shares the clipboard and logs off", "[kvm][hostd][broker][gui][rdp]")
{
    e2e::Backend backend(0, {"sam"});
    backend.start_pool_manager(1, 2);
    vdi::test::BrokerProcess broker(backend.db.dsn(), "thin-e2e-rdp");
    const auto config = config_for(broker, DisplayProtocol::rdp);
    Terminal terminal(config, client_for(config));

    QElapsedTimer clock;
    clock.start();
    terminal.sign_in(QStringLiteral("sam"), QStringLiteral("sam-secret"));
    REQUIRE(terminal.connected_within(90s));
    WARN("login to first picture over RDP: " << clock.elapsed() << " ms");
    const auto session = *terminal.app->controller().connection();
    CHECK(session.protocol == "rdp");
    CHECK(terminal.view().session().protocol_name() == QStringLiteral("RDP"));
    check_trace(backend, broker, session, false);
    REQUIRE(wait_for([&] { return terminal.bar_shows_user(session.desktop, "sam"); }, 30s));
    CHECK(wait_for([&] { return alike(terminal.picture().image, vmm_screenshot(backend, session.desktop)) > 0.999; }, 20s));

    QTest::keyClicks(&terminal.view(), QStringLiteral("Typed over RDP: 1+1=2"));
    CHECK(wait_for([&] { return terminal.window_shows("Typed over RDP: 1+1=2"); }, 30s));
    CHECK(terminal.view().pressed_key_count() == 0);

    // the clipboard both ways over RDP's cliprdr channel: the terminal's text pasted on the desktop
    // (Ctrl+V), the desktop's window text copied back (Ctrl+C)
    QGuiApplication::clipboard()->setText(QStringLiteral(" and pasted"));
    QTest::qWait(2000);  // the format list, the VMM, the agent channel, the guest
    QTest::keyClick(&terminal.view(), Qt::Key_V, Qt::ControlModifier);
    CHECK(wait_for([&] { return terminal.window_shows("Typed over RDP: 1+1=2 and pasted"); }, 30s));
    QTest::keyClick(&terminal.view(), Qt::Key_C, Qt::ControlModifier);
    CHECK(wait_for([&] { return QGuiApplication::clipboard()->text() == QStringLiteral("Typed over RDP: 1+1=2 and pasted"); },
                   30s));
    CHECK(terminal.view().pressed_key_count() == 0);
    screenshot(terminal.app->window(), QStringLiteral("e2e-desktop-rdp"));

    terminal.click_bar_button("logoff");
    REQUIRE(wait_for([&] { return terminal.app->controller().phase() == Phase::signed_out; }, 20s));
    CHECK(terminal.app->window().currentScreen() == &terminal.app->login());
    CHECK(wait_for([&] { return session_state(backend, session.session_id) == "ended"; }, 10s));
}
