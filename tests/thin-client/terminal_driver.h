// Driving vdi-thin-client as a person at the terminal would, for the GUI tests and the client
// bench: the QApplication with the program's theme, the app in an active window, sign-in by
// typing, and what the remote picture shows (demo_screen.h). Call from inside a Catch test case
// (REQUIRE); GUI thread only.
#pragma once

#include <catch2/catch.hpp>

#include <QApplication>
#include <QLineEdit>
#include <QPushButton>
#include <QTest>
#include <chrono>
#include <memory>

#include "broker_harness.h"
#include "vdi/test/demo_screen.h"
#include "vdi/thin_client/app/desktop_page.h"
#include "vdi/thin_client/app/thin_client_app.h"
#include "vdi/thin_client/screens/kiosk_window.h"
#include "vdi/thin_client/screens/login_screen.h"
#include "vdi/thin_client/screens/session_bar.h"
#include "vdi/thin_client/screens/theme.h"

namespace thin_client_driver {

using namespace std::chrono_literals;
using namespace vdi::thin_client;
using vdi::thin_client::app::ThinClientApp;

inline QApplication& application()
{
    static int argc = 1;
    static char name[] = "vdi-thin-client";
    static char* argv[] = {name, nullptr};
    static QApplication app(argc, argv);
    static const bool themed = (screens::apply_theme(app), true);  // as vdi-thin-client's main() does
    (void)themed;
    return app;
}

// Runs the event loop until `done` holds or `timeout` passes.
template <typename Pred>
bool wait_for(Pred done, std::chrono::milliseconds timeout)
{
    return QTest::qWaitFor(done, static_cast<int>(timeout.count()));
}

inline void screenshot(QWidget& window, const QString& name)
{
    QApplication::processEvents();
    const QPixmap pixmap = window.grab();
    REQUIRE_FALSE(pixmap.isNull());
    const QByteArray dir = qgetenv("VDI_SCREENSHOT_DIR");
    if (!dir.isEmpty()) {
        CHECK(pixmap.save(QString::fromLocal8Bit(dir) + QStringLiteral("/") + name + QStringLiteral(".png")));
    }
}

// A QImage as demo_screen's checks want it (pixel(x, y) -> 0xRRGGBB).
struct Picture {
    QImage image;
    std::uint32_t pixel(std::uint32_t x, std::uint32_t y) const
    {
        const int px = static_cast<int>(x), py = static_cast<int>(y);
        if (px >= image.width() || py >= image.height()) return 0xff000000u;  // matches no colour
        return image.pixel(px, py) & 0xffffffu;
    }
};

inline ClientConfig config_for(const vdi::test::BrokerProcess& broker, DisplayProtocol protocol)
{
    ClientConfig config;
    config.broker = QStringLiteral("127.0.0.1:%1").arg(broker.port());
    config.trust.ca_file = QString::fromStdString(broker.certificate().string());
    config.protocol = protocol;
    config.terminal_name = QStringLiteral("lab-terminal-3");
    return config;
}

inline std::unique_ptr<BrokerApi> client_for(const ClientConfig& config)
{
    return std::make_unique<BrokerClient>(config.endpoint(), config.trust);
}

// The terminal: the app in its window at the size of the docs' screenshots, active (Xvfb has no
// window manager to activate it, and keyboard focus lives only in the active window).
struct Terminal {
    std::unique_ptr<ThinClientApp> app;

    Terminal(const ClientConfig& config, std::unique_ptr<BrokerApi> broker)
    {
        application();
        app = std::make_unique<ThinClientApp>(config, std::move(broker));
        app->window().resize(1024, 700);
        app->present();
        REQUIRE(QTest::qWaitForWindowExposed(&app->window()));
        app->window().activateWindow();
        REQUIRE(QTest::qWaitForWindowActive(&app->window()));
    }

    void sign_in(const QString& user, const QString& password)
    {
        auto* user_field = app->login().findChild<QLineEdit*>(QStringLiteral("user"));
        auto* password_field = app->login().findChild<QLineEdit*>(QStringLiteral("password"));
        REQUIRE(user_field);
        REQUIRE(password_field);
        REQUIRE(wait_for([&] { return password_field->isEnabled(); }, 10s));
        if (user_field->text() != user) {
            user_field->clear();
            QTest::keyClicks(user_field, user);
        }
        password_field->clear();
        QTest::keyClicks(password_field, password);
        QTest::keyClick(password_field, Qt::Key_Return);
    }

    bool connected_within(std::chrono::seconds timeout)
    {
        return wait_for([&] { return app->controller().phase() == SessionController::Phase::connected; }, timeout);
    }

    view::RemoteView& view() { return app->desktop().current(); }
    Picture picture() { return Picture{view().framebuffer_image()}; }

    // What the desktop's top bar and text window show, as the terminal sees them.
    bool bar_shows_user(const std::string& desktop, const std::string& user)
    {
        return demo_screen::text_at(picture(), demo_screen::user_x(desktop), demo_screen::bar_text_y, user + "   ",
                                    demo_screen::bar_text, demo_screen::bar_color);
    }
    bool window_shows(const std::string& text, std::uint32_t column = 0)
    {
        const Picture p = picture();
        if (p.image.isNull()) return false;
        const demo_screen::Layout layout(static_cast<std::uint32_t>(p.image.width()),
                                         static_cast<std::uint32_t>(p.image.height()));
        return demo_screen::text_at(p, layout.text_x + column * 8, layout.text_y, text, demo_screen::text_color,
                                    demo_screen::window_color);
    }

    // The session bar's button, after the hot key brought the bar down.
    void click_bar_button(const char* name)
    {
        auto& bar = app->desktop().bar();
        const QKeySequence hot = bar.hotKey();
        REQUIRE_FALSE(hot.isEmpty());
        QTest::keyClick(&view(), hot[0].key(), hot[0].keyboardModifiers());
        REQUIRE(wait_for([&] { return bar.revealed(); }, 5s));
        auto* button = bar.findChild<QPushButton*>(QString::fromLatin1(name));
        REQUIRE(button);
        REQUIRE(wait_for([&] { return button->isVisible() && button->mapTo(&app->window(), QPoint(0, 0)).y() >= 0; }, 5s));
        QTest::qWait(400);  // the slide-down animation ends
        QTest::mouseClick(button, Qt::LeftButton);
    }
};

}  // namespace thin_client_driver
