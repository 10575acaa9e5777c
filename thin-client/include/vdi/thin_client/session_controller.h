// The thin client's session machine: sign-in, the desktop choice, connecting stage by stage, the
// connected desktop with the broker's warnings, reconnecting after a network drop (a fresh ticket
// each try, the same session, backoff for up to 180 s), disconnect (the desktop is kept) and log
// off (it is released). Widget-free: it talks to a BrokerApi and a RemoteSession, and the screens
// follow its signals. GUI thread only (its collaborators' signals arrive there).
#pragma once

#include <QDateTime>
#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QTimer>
#include <functional>
#include <optional>

#include "vdi/common/api/desktop.h"
#include "vdi/thin_client/broker_client.h"
#include "vdi/thin_client/connect_trace.h"
#include "vdi/thin_client/view/remote_session.h"

namespace vdi::thin_client {

// When to try again after a drop: `first_delay_ms`, then doubling up to `max_delay_ms`, until
// `give_up_after_s` have passed since the drop.
struct ReconnectPolicy {
    int first_delay_ms = 250;
    int max_delay_ms = 8000;
    int give_up_after_s = 180;
    int delay_ms(int attempt) const;  // before try `attempt` (1, 2, ...)
};

class SessionController : public QObject {
    Q_OBJECT
public:
    enum class Phase { signed_out, signing_in, choosing, connecting, connected, reconnecting, closing };
    Q_ENUM(Phase)
    enum class Stage { signed_in, desktop_assigned, display_connecting, first_picture };
    Q_ENUM(Stage)

    // The display session for a protocol ("vnc" | "rdp"); the controller drives the one the
    // connect answer names. The sessions outlive the controller.
    using DisplayFor = std::function<view::RemoteSession&(const QString& protocol)>;
    SessionController(BrokerApi& broker, DisplayFor display_for, QObject* parent = nullptr);
    ~SessionController() override;

    void set_preferred_protocol(const QString& protocol) { preferred_protocol_ = protocol; }  // "vnc" | "rdp"
    void set_reconnect_policy(const ReconnectPolicy& policy) { policy_ = policy; }
    void set_unreachable_retry_s(int seconds) { unreachable_retry_s_ = seconds; }
    // How often the broker is asked for warnings while connected (default 30 s).
    void set_warning_poll_ms(int ms) { warning_poll_.setInterval(ms); }

    // ---- what the user does
    void sign_in(const QString& user, const QString& password);
    void choose_pool(const QString& pool);
    void resume(api::Id session_id, const QString& pool);
    void retry();        // after a failed connect: the same choice again
    void cancel();       // stop connecting or reconnecting: the desktop is kept; back to the choice
    void disconnect();   // leave the desktop running and sign out
    void log_off();      // release the desktop and sign out
    void sign_out();     // from the choice screen

    Phase phase() const { return phase_; }
    QString user() const { return user_; }
    const std::optional<api::ConnectResponse>& connection() const { return connection_; }
    view::RemoteSession* display() const { return display_; }  // the one in use, if any
    int reconnect_attempt() const { return attempt_; }
    // The last connect or reconnect that reached its first painted picture (traceReady's).
    const std::optional<ConnectTrace>& last_trace() const { return last_trace_; }

signals:
    void phaseChanged(vdi::thin_client::SessionController::Phase phase);
    // Sign-in did not work; the error's kind says which screen state (wrong, locked, unreachable:
    // the controller retries by itself after set_unreachable_retry_s and says so with retry_in_s).
    void signInFailed(const vdi::thin_client::BrokerError& error, int retry_in_s);
    void choicesReady(const vdi::api::DesktopList& list);
    void stageChanged(vdi::thin_client::SessionController::Stage current);
    void desktopAssigned(const vdi::api::ConnectResponse& connection);
    void connectFailed(const QString& message);
    void connected();  // the first picture is there
    void reconnecting(int attempt, int seconds_left, const QString& detail);
    void reconnected();
    // A connect or reconnect is complete up to the first picture painted: its stages.
    void traceReady(const vdi::thin_client::ConnectTrace& trace);
    void warningChanged(const QString& message, const QDateTime& deadline);  // deadline may be invalid
    void warningCleared();
    // The session is over and the user is signed out; `message` says why when it was not their
    // choice ("Your session was ended by an administrator."), empty otherwise.
    void ended(const QString& message);

private:
    enum class Listing { none, choose, warnings, reconnect_check };

    void set_phase(Phase phase);
    void on_logged_in();
    void on_listed(const api::DesktopList& list);
    void on_connected(const api::ConnectResponse& connection);
    void on_failed(BrokerRequest request, const BrokerError& error);
    void on_display_lost(view::DisconnectReason reason, const QString& message);
    void on_first_frame();
    void on_first_painted();
    void start_connect(const QString& pool, const QString& protocol);
    void begin_reconnect(const QString& detail);
    void schedule_reconnect(const QString& detail);
    void reconnect_now();
    void finish(const QString& message);
    QString protocol_for(const api::EntitledPool& pool) const;

    void use_display(const QString& protocol);
    void stop_display();

    BrokerApi& broker_;
    DisplayFor display_for_;
    view::RemoteSession* display_ = nullptr;
    QMetaObject::Connection first_frame_link_;
    QMetaObject::Connection painted_link_;
    QMetaObject::Connection lost_link_;
    QString preferred_protocol_ = QStringLiteral("vnc");
    ReconnectPolicy policy_;
    int unreachable_retry_s_ = 5;

    Phase phase_ = Phase::signed_out;
    Listing listing_ = Listing::none;
    QString user_;
    QString password_;  // kept only while signing in (the broker may be unreachable and retried)
    api::DesktopList desktops_;
    QString pool_;
    QString protocol_;
    std::optional<api::ConnectResponse> connection_;
    std::optional<QString> warning_;

    // the connect being traced: stages so far, and when the one under way started
    ConnectTrace trace_;
    bool tracing_ = false;
    TraceClock::time_point stage_start_;
    std::optional<ConnectTrace> last_trace_;

    int attempt_ = 0;
    QElapsedTimer since_drop_;
    QTimer reconnect_timer_;
    QTimer unreachable_timer_;
    QTimer warning_poll_;
    QTimer closing_timer_;
};

QString phase_name(SessionController::Phase phase);

}  // namespace vdi::thin_client
