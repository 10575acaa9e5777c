// vdi-thin-client's wiring (thin_client_app.h): screens follow the session machine's signals.
#include "vdi/thin_client/app/thin_client_app.h"

#include <QClipboard>
#include <QGuiApplication>
#include <QHostInfo>

#include "vdi/thin_client/app/desktop_page.h"
#include "vdi/thin_client/screens/connecting_screen.h"
#include "vdi/thin_client/screens/kiosk_window.h"
#include "vdi/thin_client/screens/login_screen.h"
#include "vdi/thin_client/screens/pool_screen.h"
#include "vdi/thin_client/screens/reconnect_overlay.h"
#include "vdi/thin_client/screens/session_bar.h"
#include "vdi/thin_client/screens/warning_banner.h"

namespace vdi::thin_client::app {

using screens::ConnectingScreen;
using Phase = SessionController::Phase;
using Stage = SessionController::Stage;

ThinClientApp::ThinClientApp(const ClientConfig& config, std::unique_ptr<BrokerApi> broker, QObject* parent)
    : QObject(parent), config_(config), broker_(std::move(broker))
{
    const QString terminal = config_.terminal_name.isEmpty() ? QHostInfo::localHostName() : config_.terminal_name;
    window_ = std::make_unique<screens::KioskWindow>(
        config_.kiosk ? screens::KioskWindow::Mode::kiosk : screens::KioskWindow::Mode::windowed,
        QKeySequence(config_.admin_keys));
    window_->setWindowTitle(QStringLiteral("Virtual desktop"));
    login_ = new screens::LoginScreen;
    pools_ = new screens::PoolScreen;
    connecting_ = new screens::ConnectingScreen;
    desktop_ = new DesktopPage;
    for (auto* screen : std::initializer_list<QWidget*>{login_, pools_, connecting_, desktop_}) window_->addScreen(screen);
    login_->setTerminalName(terminal);
    pools_->setTerminalName(terminal);
    connecting_->setTerminalName(terminal);

    // the chords that stay with the thin client while the desktop has the keyboard
    QList<QKeyCombination> reserved;
    const QKeySequence hot = desktop_->bar().hotKey();
    if (!hot.isEmpty()) reserved.push_back(hot[0]);
    const QKeySequence admin(config_.admin_keys);
    if (config_.kiosk && !admin.isEmpty()) reserved.push_back(admin[0]);
    desktop_->vnc().set_reserved_keys(reserved);
    desktop_->rdp().set_reserved_keys(reserved);

    controller_ = std::make_unique<SessionController>(
        *broker_, [this](const QString& protocol) -> view::RemoteSession& {
            desktop_->show_protocol(protocol);
            return desktop_->view_for(protocol).session();
        });
    controller_->set_preferred_protocol(protocol_name(config_.protocol));
    wire();
    window_->showScreen(login_);
    login_->setIdle();
}

ThinClientApp::~ThinClientApp()
{
    controller_.reset();
}

void ThinClientApp::present()
{
    window_->present();
    login_->setIdle();
}

void ThinClientApp::wire()
{
    SessionController& c = *controller_;
    // sign-in
    connect(login_, &screens::LoginScreen::signInRequested, this, [this](const QString& user, const QString& password) {
        login_->setSigningIn();
        controller_->sign_in(user, password);
    });
    connect(&c, &SessionController::signInFailed, this, [this](const BrokerError& error, int retry_in_s) {
        window_->showScreen(login_);
        switch (error.kind) {
        case BrokerErrorKind::locked: login_->setLocked(std::max(retry_in_s, 1)); break;
        case BrokerErrorKind::unreachable:
        case BrokerErrorKind::broker_unavailable: login_->setUnreachable(broker_->broker_name(), retry_in_s); break;
        default: login_->setError(error.sentence()); break;
        }
    });
    connect(login_, &screens::LoginScreen::retryDue, this, [this] {
        if (controller_->phase() == Phase::signing_in) login_->setSigningIn();
    });

    // the choice
    connect(&c, &SessionController::choicesReady, this, [this](const api::DesktopList& list) {
        pools_->setUserName(controller_->user());
        pools_->setDesktops(list);
        window_->showScreen(pools_);
    });
    connect(pools_, &screens::PoolScreen::poolChosen, &c, &SessionController::choose_pool);
    connect(pools_, &screens::PoolScreen::resumeChosen, &c, [this](qint64 id, const QString& pool) {
        controller_->resume(id, pool);
    });
    connect(pools_, &screens::PoolScreen::signOutRequested, &c, &SessionController::sign_out);

    // connecting, stage by stage
    connect(&c, &SessionController::phaseChanged, this, [this](Phase phase) {
        if (phase == Phase::connecting) {
            connecting_->setDesktopName({});
            window_->showScreen(connecting_);
        }
    });
    connect(&c, &SessionController::stageChanged, this, [this](Stage stage) {
        if (stage == Stage::first_picture) {
            connecting_->setFinished();
            return;
        }
        connecting_->setStage(static_cast<ConnectingScreen::Stage>(static_cast<int>(stage)));
    });
    connect(&c, &SessionController::desktopAssigned, this, [this](const api::ConnectResponse& connection) {
        connecting_->setDesktopName(QString::fromStdString(connection.desktop));
    });
    connect(&c, &SessionController::connectFailed, this, [this](const QString& message) {
        window_->showScreen(connecting_);
        connecting_->setError(message);
    });
    connect(connecting_, &ConnectingScreen::retryRequested, &c, &SessionController::retry);
    connect(connecting_, &ConnectingScreen::cancelRequested, &c, &SessionController::cancel);

    // the desktop
    connect(&c, &SessionController::connected, this, [this] {
        window_->showScreen(desktop_);
        desktop_->current().setFocus(Qt::OtherFocusReason);
        refresh_details();
    });
    connect(&c, &SessionController::reconnecting, this, [this](int attempt, int left, const QString& detail) {
        desktop_->overlay().setTrying(attempt, left);
        desktop_->overlay().setDetail(detail);
    });
    connect(&c, &SessionController::reconnected, this, [this] {
        desktop_->overlay().dismiss();
        desktop_->current().setFocus(Qt::OtherFocusReason);
    });
    connect(&desktop_->overlay(), &screens::ReconnectOverlay::cancelRequested, &c, &SessionController::disconnect);
    connect(&desktop_->overlay(), &screens::ReconnectOverlay::logoffRequested, &c, &SessionController::log_off);
    connect(&c, &SessionController::warningChanged, this, [this](const QString& message, const QDateTime& deadline) {
        if (deadline.isValid()) desktop_->banner().setWarning(message, deadline);
        else desktop_->banner().setWarning(message, 0);
    });
    connect(&c, &SessionController::warningCleared, this, [this] { desktop_->banner().clearWarning(); });

    auto& bar = desktop_->bar();
    connect(&bar, &screens::SessionBar::disconnectRequested, &c, &SessionController::disconnect);
    connect(&bar, &screens::SessionBar::logoffRequested, &c, &SessionController::log_off);
    connect(&bar, &screens::SessionBar::ctrlAltDelRequested, this, [this] { desktop_->current().send_ctrl_alt_del(); });
    connect(&bar, &screens::SessionBar::connectionInfoRequested, this, &ThinClientApp::refresh_details);
    connect(&bar, &screens::SessionBar::fullScreenToggled, this, [this](bool on) {
        if (window_->mode() == screens::KioskWindow::Mode::kiosk) return;
        if (on) window_->showFullScreen();
        else window_->showNormal();
    });

    // the end
    connect(&c, &SessionController::ended, this, &ThinClientApp::show_ended);
    connect(window_.get(), &screens::KioskWindow::closeRequested, &c, &SessionController::disconnect);
    connect(window_.get(), &screens::KioskWindow::adminExitRequested, this, &ThinClientApp::quitRequested);
}

void ThinClientApp::refresh_details()
{
    if (!controller_->connection()) return;
    const auto& connection = *controller_->connection();
    const auto info = desktop_->current().connection_info();
    screens::ConnectionDetails details;
    details.protocol = info.protocol;
    details.round_trip_ms = info.round_trip_ms;
    details.frames_per_second = info.frames_per_second;
    details.desktop = QString::fromStdString(connection.desktop);
    details.host = QString::fromStdString(connection.host);
    details.port = connection.port;
    desktop_->bar().setConnectionDetails(details);
}

void ThinClientApp::show_ended(const QString& message)
{
    // nothing of this user stays on the terminal: fields, banner, overlay, clipboard
    desktop_->overlay().dismiss();
    desktop_->banner().clearWarning();
    desktop_->bar().conceal();
    if (config_.kiosk) QGuiApplication::clipboard()->clear();
    login_->clear();
    window_->showScreen(login_);
    if (message.isEmpty()) login_->setIdle();
    else login_->setError(message);
}

}  // namespace vdi::thin_client::app
