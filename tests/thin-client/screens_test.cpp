// The thin client's screens under Xvfb, driven with QTest as a user would: typing, Enter, clicks,
// countdowns running on their own. Each state is also grabbed at 1024x640 into
// $VDI_SCREENSHOT_DIR (when set) for people to look at (docs/screenshots/).
#include <QApplication>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QStackedWidget>
#include <QTest>

#include "vdi/thin_client/screens/connecting_screen.h"
#include "vdi/thin_client/screens/countdown.h"
#include "vdi/thin_client/screens/kiosk_window.h"
#include "vdi/thin_client/screens/login_screen.h"
#include "vdi/thin_client/screens/pool_screen.h"
#include "vdi/thin_client/screens/reconnect_overlay.h"
#include "vdi/thin_client/screens/session_bar.h"
#include "vdi/thin_client/screens/theme.h"
#include "vdi/thin_client/screens/warning_banner.h"

using namespace vdi::thin_client::screens;
using vdi::api::DesktopList;

namespace {

// Saves what `w` shows, at the size the docs use, when the caller asked for screenshots.
void screenshot(QWidget& w, const QString& name) {
    const QByteArray dir = qgetenv("VDI_SCREENSHOT_DIR");
    QApplication::processEvents();
    const QPixmap pixmap = w.grab();
    QVERIFY(!pixmap.isNull());
    if (!dir.isEmpty()) QVERIFY(pixmap.save(QString::fromLocal8Bit(dir) + QStringLiteral("/") + name + QStringLiteral(".png")));
}

void show_at_doc_size(QWidget& w) {
    w.resize(1024, 640);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    // Xvfb has no window manager to activate a new window, and focus exists only in the active one
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
}

// A desktop view stand-in: a plain dark picture the bar, banner and overlay sit on.
class FakeDesktop : public QWidget {
public:
    FakeDesktop() {
        setAutoFillBackground(true);
        QPalette p = palette();
        p.setColor(QPalette::Window, QColor(0x2d, 0x5f, 0x8a));
        setPalette(p);
        auto* label = new QLabel(QStringLiteral("remote desktop"), this);
        label->setStyleSheet(QStringLiteral("color: rgba(255,255,255,0.5); font-size: 40px;"));
        label->move(340, 290);
        setMouseTracking(true);
    }
};

DesktopList sample_desktops() {
    DesktopList list;
    list.pools.push_back({"office", "Office desktop", "floating", {"vnc", "rdp"}, true, 7});
    list.pools.push_back({"cad", "CAD workstation", "floating", {"rdp"}, false, 0});
    list.pools.push_back({"dev", "", "dedicated", {"vnc"}, true, 1});
    vdi::api::UserSession active;
    active.id = 11;
    active.pool = "office";
    active.desktop = "office-03";
    active.state = "active";
    vdi::api::UserSession disconnected;
    disconnected.id = 42;
    disconnected.pool = "dev";
    disconnected.desktop = "dev-alice";
    disconnected.state = "disconnected";
    list.sessions = {active, disconnected};
    return list;
}

}  // namespace

class ScreensTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { apply_theme(*qApp); }

    void countdown_formats_and_finishes() {
        QCOMPARE(format_duration(28), QStringLiteral("0:28"));
        QCOMPARE(format_duration(299), QStringLiteral("4:59"));
        QCOMPARE(format_duration(3723), QStringLiteral("1:02:03"));
        Countdown c;
        QSignalSpy finished(&c, &Countdown::finished);
        c.start(1);
        QVERIFY(finished.wait(3000));
        QCOMPARE(c.remaining(), 0);
    }

    void login_typing_and_enter_signs_in() {
        LoginScreen login;
        login.setTerminalName(QStringLiteral("lobby-3"));
        show_at_doc_size(login);
        QSignalSpy spy(&login, &LoginScreen::signInRequested);
        auto* user = login.findChild<QLineEdit*>(QStringLiteral("user"));
        QVERIFY(user->hasFocus());
        screenshot(login, QStringLiteral("login"));
        QTest::keyClicks(user, QStringLiteral("alice"));
        QTest::keyClick(user, Qt::Key_Tab);
        auto* password = login.findChild<QLineEdit*>(QStringLiteral("password"));
        QVERIFY(password->hasFocus());
        QTest::keyClicks(password, QStringLiteral("s3cret pass"));
        QTest::keyClick(password, Qt::Key_Return);
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy[0][0].toString(), QStringLiteral("alice"));
        QCOMPARE(spy[0][1].toString(), QStringLiteral("s3cret pass"));

        login.setSigningIn();
        QVERIFY(!login.signInEnabled());
        QTest::keyClick(password, Qt::Key_Return);
        QCOMPARE(spy.count(), 1);  // no second request while the first runs
        screenshot(login, QStringLiteral("login-signing-in"));

        login.setError(QStringLiteral("The user name or password is wrong."));
        QCOMPARE(login.message(), QStringLiteral("The user name or password is wrong."));
        QVERIFY(password->text().isEmpty());
        QCOMPARE(user->text(), QStringLiteral("alice"));
        QVERIFY(password->hasFocus());
        screenshot(login, QStringLiteral("login-error"));
    }

    void login_lockout_counts_down_and_reenables() {
        LoginScreen login;
        show_at_doc_size(login);
        QTest::keyClicks(login.findChild<QLineEdit*>(QStringLiteral("user")), QStringLiteral("alice"));
        QSignalSpy ended(&login, &LoginScreen::lockoutEnded);
        login.setLocked(2);
        QCOMPARE(login.message(), QStringLiteral("Too many attempts. Try again in 0:02."));
        QVERIFY(!login.signInEnabled());
        QTRY_COMPARE_WITH_TIMEOUT(login.message(), QStringLiteral("Too many attempts. Try again in 0:01."), 2000);
        QVERIFY(!login.signInEnabled());
        QVERIFY(ended.wait(3000));
        QVERIFY(login.signInEnabled());
        QCOMPARE(login.state(), LoginScreen::State::idle);
        QVERIFY(login.message().isEmpty());

        login.setLocked(28);
        screenshot(login, QStringLiteral("login-locked"));
    }

    void login_unreachable_retries_by_itself() {
        LoginScreen login;
        show_at_doc_size(login);
        QSignalSpy due(&login, &LoginScreen::retryDue);
        login.setUnreachable(QStringLiteral("broker.example:8443"), 1);
        QCOMPARE(login.message(), QStringLiteral("Cannot reach the broker at broker.example:8443. Retrying in 1 s…"));
        QVERIFY(due.wait(3000));
        QCOMPARE(due.count(), 1);
        login.setUnreachable(QStringLiteral("broker.example:8443"), 5);
        screenshot(login, QStringLiteral("login-unreachable"));
    }

    void login_clear_leaves_no_trace() {
        LoginScreen login;
        show_at_doc_size(login);
        auto* user = login.findChild<QLineEdit*>(QStringLiteral("user"));
        auto* password = login.findChild<QLineEdit*>(QStringLiteral("password"));
        QTest::keyClicks(user, QStringLiteral("bob"));
        QTest::keyClicks(password, QStringLiteral("hunter2"));
        login.setError(QStringLiteral("The user name or password is wrong."));
        login.clear();
        QVERIFY(user->text().isEmpty());
        QVERIFY(password->text().isEmpty());
        QVERIFY(login.message().isEmpty());
        QVERIFY(!user->isUndoAvailable());  // Ctrl+Z cannot bring the name back
        for (QLabel* l : login.findChildren<QLabel*>()) QVERIFY(!l->text().contains(QStringLiteral("bob")));
        QVERIFY(user->hasFocus());
    }

    void pools_resume_first_busy_disabled() {
        PoolScreen pools;
        pools.setTerminalName(QStringLiteral("lobby-3"));
        pools.setUserName(QStringLiteral("alice"));
        pools.setDesktops(sample_desktops());
        show_at_doc_size(pools);
        const QList<QPushButton*> buttons = pools.choiceButtons();
        QCOMPARE(buttons.size(), 4);  // one disconnected session + three pools; the active one is not offered
        QCOMPARE(buttons[0]->objectName(), QStringLiteral("resume:42"));
        QCOMPARE(buttons[0]->accessibleName(), QStringLiteral("Resume dev-alice (dev)"));
        QCOMPARE(buttons[1]->accessibleName(), QStringLiteral("Office desktop"));
        QCOMPARE(buttons[2]->objectName(), QStringLiteral("pool:cad"));
        QVERIFY(!buttons[2]->isEnabled());
        QVERIFY(buttons[2]->accessibleDescription().startsWith(QStringLiteral("Busy")));
        QVERIFY(buttons[1]->isEnabled() && buttons[3]->isEnabled());
        QVERIFY(buttons[0]->hasFocus());

        QSignalSpy resume(&pools, &PoolScreen::resumeChosen);
        QSignalSpy chosen(&pools, &PoolScreen::poolChosen);
        QTest::keyClick(buttons[0], Qt::Key_Return);
        QCOMPARE(resume.count(), 1);
        QCOMPARE(resume[0][0].toLongLong(), 42);
        QCOMPARE(resume[0][1].toString(), QStringLiteral("dev"));
        QTest::mouseClick(buttons[2], Qt::LeftButton);
        QCOMPARE(chosen.count(), 0);  // busy: nothing happens
        QTest::mouseClick(buttons[1], Qt::LeftButton);
        QCOMPARE(chosen.count(), 1);
        QCOMPARE(chosen[0][0].toString(), QStringLiteral("office"));
        QSignalSpy sign_out(&pools, &PoolScreen::signOutRequested);
        QTest::mouseClick(pools.findChild<QPushButton*>(QStringLiteral("signOut")), Qt::LeftButton);
        QCOMPARE(sign_out.count(), 1);
        buttons[0]->setFocus();
        screenshot(pools, QStringLiteral("pools"));

        pools.setDesktops({});
        QVERIFY(pools.choiceButtons().isEmpty());
        screenshot(pools, QStringLiteral("pools-empty"));
    }

    void connecting_stages_and_error() {
        ConnectingScreen c;
        c.setTerminalName(QStringLiteral("lobby-3"));
        show_at_doc_size(c);
        using S = ConnectingScreen::Stage;
        using M = ConnectingScreen::Mark;
        c.setStage(S::desktop_assigned);
        QCOMPARE(c.mark(S::signed_in), M::done);
        QCOMPARE(c.mark(S::desktop_assigned), M::current);
        QCOMPARE(c.mark(S::first_picture), M::pending);
        c.setDesktopName(QStringLiteral("office-07"));
        c.setStage(S::display_connecting);
        screenshot(c, QStringLiteral("connecting"));

        QSignalSpy retry(&c, &ConnectingScreen::retryRequested);
        QSignalSpy cancel(&c, &ConnectingScreen::cancelRequested);
        c.setError(QStringLiteral("The desktop's display did not answer. Retry, or ask your administrator if it happens again."));
        QCOMPARE(c.mark(S::display_connecting), M::failed);
        QCOMPARE(c.mark(S::desktop_assigned), M::done);
        auto* retry_button = c.findChild<QPushButton*>(QStringLiteral("retry"));
        QVERIFY(retry_button->isVisible() && retry_button->hasFocus());
        QTest::keyClick(retry_button, Qt::Key_Return);
        QCOMPARE(retry.count(), 1);
        QTest::mouseClick(c.findChild<QPushButton*>(QStringLiteral("cancel")), Qt::LeftButton);
        QCOMPARE(cancel.count(), 1);
        screenshot(c, QStringLiteral("connecting-error"));

        c.setStage(S::first_picture);
        QVERIFY(!retry_button->isVisible());
        QVERIFY(c.errorMessage().isEmpty());
        c.setFinished();
        QCOMPARE(c.mark(S::first_picture), M::done);
    }

    void session_bar_edge_buttons_and_info() {
        FakeDesktop desktop;
        SessionBar bar(desktop);
        bar.setHideDelay(300);
        show_at_doc_size(desktop);
        QVERIFY(!bar.revealed());
        QVERIFY(bar.geometry().bottom() < 0);  // out of sight

        // the pointer is moved by warping it on the X server: its events arrive a moment later
        QTest::mouseMove(&desktop, QPoint(500, 300));
        QTest::qWait(200);
        QVERIFY(!bar.revealed());
        QTest::mouseMove(&desktop, QPoint(500, 0));
        QTRY_VERIFY_WITH_TIMEOUT(bar.revealed(), 2000);
        QTRY_COMPARE(bar.y(), 0);
        QTest::mouseMove(&desktop, QPoint(500, 400));
        QTRY_VERIFY_WITH_TIMEOUT(!bar.revealed(), 2000);  // hides by itself, the pointer not on it

        QSignalSpy disconnect(&bar, &SessionBar::disconnectRequested);
        QSignalSpy logoff(&bar, &SessionBar::logoffRequested);
        QSignalSpy cad(&bar, &SessionBar::ctrlAltDelRequested);
        QSignalSpy full(&bar, &SessionBar::fullScreenToggled);
        QSignalSpy info(&bar, &SessionBar::connectionInfoRequested);
        bar.setHideDelay(60000);
        bar.reveal();
        QTRY_COMPARE(bar.y(), 0);
        QTest::mouseClick(bar.findChild<QPushButton*>(QStringLiteral("disconnect")), Qt::LeftButton);
        QTest::mouseClick(bar.findChild<QPushButton*>(QStringLiteral("logoff")), Qt::LeftButton);
        QTest::mouseClick(bar.findChild<QPushButton*>(QStringLiteral("ctrlAltDel")), Qt::LeftButton);
        QTest::mouseClick(bar.findChild<QPushButton*>(QStringLiteral("fullScreen")), Qt::LeftButton);
        QCOMPARE(disconnect.count(), 1);
        QCOMPARE(logoff.count(), 1);
        QCOMPARE(cad.count(), 1);
        QCOMPARE(full.count(), 1);
        QCOMPARE(full[0][0].toBool(), true);
        bar.setFullScreen(false);
        QCOMPARE(full.count(), 1);  // the setter does not echo a signal

        bar.setConnectionDetails({QStringLiteral("RDP"), 3.4, 29.5, QStringLiteral("office-07"),
                                  QStringLiteral("10.0.3.17"), 3390});
        QTest::mouseClick(bar.findChild<QPushButton*>(QStringLiteral("connectionInfo")), Qt::LeftButton);
        QCOMPARE(info.count(), 1);
        QVERIFY(bar.detailsShown());
        const QString shown = bar.detailsPopup()->findChild<QLabel*>()->text();
        QVERIFY(shown.contains(QStringLiteral("3.4 ms")));
        QVERIFY(shown.contains(QStringLiteral("29.5")));
        QVERIFY(shown.contains(QStringLiteral("10.0.3.17:3390")));
        screenshot(desktop, QStringLiteral("session-bar"));
        bar.toggle();
        QVERIFY(!bar.revealed());
        QVERIFY(!bar.detailsShown());
    }

    void warning_banner_counts_down() {
        FakeDesktop desktop;
        auto* banner = new WarningBanner(&desktop);
        show_at_doc_size(desktop);
        QSignalSpy expired(banner, &WarningBanner::expired);
        banner->setWarning(QStringLiteral("Your desktop will be refreshed in %1. Save your work."), 2);
        QCOMPARE(banner->text(), QStringLiteral("Your desktop will be refreshed in 0:02. Save your work."));
        QVERIFY(expired.wait(4000));
        QCOMPARE(banner->text(), QStringLiteral("Your desktop will be refreshed in 0:00. Save your work."));
        banner->setWarning(QStringLiteral("You will be logged off"), QDateTime::currentDateTimeUtc().addSecs(90));
        QVERIFY(banner->secondsLeft() == 90 || banner->secondsLeft() == 89);
        QVERIFY(banner->text().startsWith(QStringLiteral("You will be logged off (1:")));

        banner->setWarning(QStringLiteral("Your desktop will be refreshed in %1. Save your work."), 299);
        banner->setGeometry(112, 24, 800, banner->sizeHint().height());
        screenshot(desktop, QStringLiteral("warning"));
        banner->clearWarning();
        QVERIFY(!banner->isVisible());
    }

    void reconnect_overlay_counts_down_and_offers_ways_out() {
        FakeDesktop desktop;
        ReconnectOverlay overlay(desktop);
        show_at_doc_size(desktop);
        QVERIFY(!overlay.isVisible());
        overlay.setTrying(3, 161);
        QVERIFY(overlay.isVisible());
        QCOMPARE(overlay.geometry(), desktop.rect());
        QCOMPARE(overlay.text(), QStringLiteral("Reconnecting… (try 3, 2:41 left)"));
        overlay.setDetail(QStringLiteral("The display server at 10.0.3.17:3390 did not answer."));
        screenshot(desktop, QStringLiteral("reconnecting"));
        QSignalSpy cancel(&overlay, &ReconnectOverlay::cancelRequested);
        QSignalSpy logoff(&overlay, &ReconnectOverlay::logoffRequested);
        QTest::mouseClick(overlay.findChild<QPushButton*>(QStringLiteral("cancel")), Qt::LeftButton);
        QTest::mouseClick(overlay.findChild<QPushButton*>(QStringLiteral("logoff")), Qt::LeftButton);
        QCOMPARE(cancel.count(), 1);
        QCOMPARE(logoff.count(), 1);

        QSignalSpy timed_out(&overlay, &ReconnectOverlay::timedOut);
        overlay.setTrying(4, 1);
        QVERIFY(timed_out.wait(3000));
        desktop.resize(800, 500);
        QTRY_COMPARE(overlay.geometry(), desktop.rect());
        overlay.dismiss();
        QVERIFY(!overlay.isVisible());
    }

    void kiosk_window_refuses_close_admin_keys_get_out() {
        KioskWindow window(KioskWindow::Mode::kiosk, QKeySequence(QStringLiteral("Ctrl+Alt+Shift+F12")));
        auto* login = new LoginScreen;
        window.addScreen(login);
        window.present();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.isFullScreen());
        QVERIFY(window.windowFlags() & Qt::FramelessWindowHint);
        QSignalSpy admin(&window, &KioskWindow::adminExitRequested);
        QSignalSpy close(&window, &KioskWindow::closeRequested);

        QVERIFY(!window.close());
        QVERIFY(window.isVisible());
        QTest::keyClick(login->findChild<QLineEdit*>(QStringLiteral("user")), Qt::Key_F4, Qt::AltModifier);
        QVERIFY(window.isVisible());
        QTest::keyClick(login->findChild<QLineEdit*>(QStringLiteral("user")), Qt::Key_F12,
                        Qt::ControlModifier | Qt::AltModifier);  // not the whole sequence
        QCOMPARE(admin.count(), 0);
        QTest::keyClick(login->findChild<QLineEdit*>(QStringLiteral("user")), Qt::Key_F12,
                        Qt::ControlModifier | Qt::AltModifier | Qt::ShiftModifier);
        QCOMPARE(admin.count(), 1);
        QCOMPARE(close.count(), 0);
    }

    void windowed_close_emits_close_requested() {
        KioskWindow window(KioskWindow::Mode::windowed);
        window.addScreen(new LoginScreen);
        window.present();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(!window.isFullScreen());
        QVERIFY(!(window.windowFlags() & Qt::FramelessWindowHint));
        QSignalSpy close(&window, &KioskWindow::closeRequested);
        QVERIFY(window.close());
        QCOMPARE(close.count(), 1);
    }
};

QTEST_MAIN(ScreensTest)
#include "screens_test.moc"
