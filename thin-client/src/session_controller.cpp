// The session machine (session_controller.h).
#include "vdi/thin_client/session_controller.h"

#include <algorithm>

namespace vdi::thin_client {

namespace {

constexpr int closing_timeout_ms = 5000;  // disconnect/log off: sign out even if the broker is silent

QString q(const std::string& s)
{
    return QString::fromStdString(s);
}

}  // namespace

int ReconnectPolicy::delay_ms(int attempt) const
{
    long long delay = first_delay_ms;
    for (int i = 1; i < attempt && delay < max_delay_ms; ++i) delay *= 2;
    return static_cast<int>(std::min<long long>(delay, max_delay_ms));
}

QString phase_name(SessionController::Phase phase)
{
    switch (phase) {
    case SessionController::Phase::signed_out: return QStringLiteral("signed_out");
    case SessionController::Phase::signing_in: return QStringLiteral("signing_in");
    case SessionController::Phase::choosing: return QStringLiteral("choosing");
    case SessionController::Phase::connecting: return QStringLiteral("connecting");
    case SessionController::Phase::connected: return QStringLiteral("connected");
    case SessionController::Phase::reconnecting: return QStringLiteral("reconnecting");
    case SessionController::Phase::closing: return QStringLiteral("closing");
    }
    return {};
}

SessionController::SessionController(BrokerApi& broker, DisplayFor display_for, QObject* parent)
    : QObject(parent), broker_(broker), display_for_(std::move(display_for))
{
    reconnect_timer_.setSingleShot(true);
    unreachable_timer_.setSingleShot(true);
    closing_timer_.setSingleShot(true);
    warning_poll_.setInterval(30000);
    connect(&reconnect_timer_, &QTimer::timeout, this, &SessionController::reconnect_now);
    connect(&unreachable_timer_, &QTimer::timeout, this, [this] {
        if (phase_ == Phase::signing_in && !password_.isEmpty()) broker_.login(user_, password_);
    });
    connect(&warning_poll_, &QTimer::timeout, this, [this] {
        if (phase_ != Phase::connected || listing_ != Listing::none) return;
        listing_ = Listing::warnings;
        broker_.list_desktops();
    });
    connect(&closing_timer_, &QTimer::timeout, this, [this] { finish({}); });
    connect(&broker_, &BrokerApi::loggedIn, this, [this] { on_logged_in(); });
    connect(&broker_, &BrokerApi::desktopsListed, this, &SessionController::on_listed);
    connect(&broker_, &BrokerApi::desktopConnected, this, &SessionController::on_connected);
    connect(&broker_, &BrokerApi::requestFailed, this, &SessionController::on_failed);
    connect(&broker_, &BrokerApi::sessionDisconnected, this, [this] {
        if (phase_ == Phase::closing) broker_.logout();
    });
    connect(&broker_, &BrokerApi::sessionLoggedOff, this, [this] {
        if (phase_ == Phase::closing) broker_.logout();
    });
    connect(&broker_, &BrokerApi::loggedOut, this, [this] {
        if (phase_ == Phase::closing) finish({});
    });
}

void SessionController::use_display(const QString& protocol)
{
    view::RemoteSession* next = &display_for_(protocol);
    if (next == display_) return;
    stop_display();
    QObject::disconnect(first_frame_link_);
    QObject::disconnect(painted_link_);
    QObject::disconnect(lost_link_);
    display_ = next;
    first_frame_link_ = connect(display_, &view::RemoteSession::firstFrame, this, &SessionController::on_first_frame);
    painted_link_ = connect(display_, &view::RemoteSession::firstPainted, this, &SessionController::on_first_painted);
    lost_link_ = connect(display_, &view::RemoteSession::disconnected, this, &SessionController::on_display_lost);
}

void SessionController::stop_display()
{
    if (display_ != nullptr) display_->stop();
}

SessionController::~SessionController()
{
    password_.fill(QChar(0));
}

void SessionController::set_phase(Phase phase)
{
    if (phase_ == phase) return;
    phase_ = phase;
    emit phaseChanged(phase);
}

// ---- sign-in and the choice

void SessionController::sign_in(const QString& user, const QString& password)
{
    if (phase_ != Phase::signed_out && phase_ != Phase::signing_in) return;
    user_ = user;
    password_ = password;
    unreachable_timer_.stop();
    set_phase(Phase::signing_in);
    trace_.begin(TraceClock::now(), false);
    tracing_ = true;
    stage_start_ = trace_.origin;
    broker_.login(user, password);
}

void SessionController::on_logged_in()
{
    if (phase_ != Phase::signing_in) return;
    password_.fill(QChar(0));
    password_.clear();
    const auto now = TraceClock::now();
    if (tracing_) trace_.add("sign_in", stage_start_, now);
    stage_start_ = now;
    listing_ = Listing::choose;
    broker_.list_desktops();
}

QString SessionController::protocol_for(const api::EntitledPool& pool) const
{
    for (const auto& p : pool.protocols) {
        if (q(p) == preferred_protocol_) return preferred_protocol_;
    }
    return pool.protocols.empty() ? preferred_protocol_ : q(pool.protocols.front());
}

void SessionController::on_listed(const api::DesktopList& list)
{
    const Listing purpose = std::exchange(listing_, Listing::none);
    desktops_ = list;
    if (purpose == Listing::choose && (phase_ == Phase::signing_in || phase_ == Phase::choosing)) {
        const auto now = TraceClock::now();
        if (tracing_) trace_.add("desktop_list", stage_start_, now);
        stage_start_ = now;
        // one way to go (one pool, and no desktop to resume elsewhere): no question to ask
        const bool one_pool = list.pools.size() == 1;
        const bool others = std::any_of(list.sessions.begin(), list.sessions.end(), [&](const api::UserSession& s) {
            return s.state == "disconnected" && (!one_pool || s.pool != list.pools.front().name);
        });
        if (one_pool && !others) {
            const auto& pool = list.pools.front();
            // the user's own desktop in that pool comes first (it counts as in use, not available)
            const auto mine = std::find_if(list.sessions.begin(), list.sessions.end(),
                                           [&](const api::UserSession& s) { return s.pool == pool.name; });
            if (mine != list.sessions.end()) {
                start_connect(q(pool.name), q(mine->protocol));
                return;
            }
            if (pool.available) {
                start_connect(q(pool.name), protocol_for(pool));
                return;
            }
        }
        set_phase(Phase::choosing);
        emit choicesReady(list);
        return;
    }
    if (purpose == Listing::warnings && phase_ == Phase::connected && connection_) {
        for (const auto& s : list.sessions) {
            if (s.id != connection_->session_id) continue;
            if (s.warning && (!warning_ || *warning_ != q(*s.warning))) {
                warning_ = q(*s.warning);
                const QDateTime deadline =
                    s.warning_deadline
                        ? QDateTime::fromMSecsSinceEpoch(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                             s.warning_deadline->time_since_epoch())
                                                             .count())
                        : QDateTime();
                emit warningChanged(*warning_, deadline);
            } else if (!s.warning && warning_) {
                warning_.reset();
                emit warningCleared();
            }
        }
        return;
    }
    if (purpose == Listing::reconnect_check && phase_ == Phase::reconnecting && connection_) {
        const bool live = std::any_of(list.sessions.begin(), list.sessions.end(),
                                      [&](const api::UserSession& s) { return s.id == connection_->session_id; });
        if (!live) {
            stop_display();
            finish(QStringLiteral("Your session has ended. Sign in again to get a desktop."));
            return;
        }
        const auto now = TraceClock::now();
        trace_.add("desktop_list", stage_start_, now);
        stage_start_ = now;
        broker_.connect_desktop(pool_, protocol_);
    }
}

void SessionController::choose_pool(const QString& pool)
{
    if (phase_ != Phase::choosing) return;
    for (const auto& p : desktops_.pools) {
        if (q(p.name) == pool) {
            start_connect(pool, protocol_for(p));
            return;
        }
    }
    start_connect(pool, preferred_protocol_);
}

void SessionController::resume(api::Id session_id, const QString& pool)
{
    if (phase_ != Phase::choosing) return;
    QString protocol = preferred_protocol_;
    for (const auto& s : desktops_.sessions) {
        if (s.id == session_id) protocol = q(s.protocol);
    }
    start_connect(pool, protocol);  // connect reconnects the user's live session in that pool
}

void SessionController::start_connect(const QString& pool, const QString& protocol)
{
    const auto now = TraceClock::now();
    if (phase_ == Phase::choosing) {
        // the user was asked; a retry after a failed connect starts a trace of its own
        if (!tracing_) {
            trace_.begin(now, false);
            tracing_ = true;
        } else {
            trace_.add("pool_choice", stage_start_, now);
        }
    } else if (phase_ == Phase::connecting) {
        trace_.begin(now, false);
        tracing_ = true;
    }
    stage_start_ = now;
    pool_ = pool;
    protocol_ = protocol;
    connection_.reset();
    warning_.reset();
    set_phase(Phase::connecting);
    emit stageChanged(Stage::desktop_assigned);
    broker_.connect_desktop(pool, protocol);
}

void SessionController::retry()
{
    if (phase_ == Phase::connecting && !pool_.isEmpty()) start_connect(pool_, protocol_);
}

void SessionController::cancel()
{
    if (phase_ != Phase::connecting && phase_ != Phase::reconnecting) return;
    reconnect_timer_.stop();
    stop_display();
    tracing_ = false;
    const auto session = connection_;
    connection_.reset();
    if (session) broker_.disconnect_session(session->session_id);
    set_phase(Phase::choosing);
    listing_ = Listing::choose;
    broker_.list_desktops();
}

// ---- the display

void SessionController::on_connected(const api::ConnectResponse& connection)
{
    if (phase_ != Phase::connecting && phase_ != Phase::reconnecting) return;
    connection_ = connection;
    if (tracing_) {
        trace_.add("connect_request", stage_start_, TraceClock::now());
        trace_.protocol = connection.protocol;
    }
    if (phase_ == Phase::connecting) {
        emit desktopAssigned(connection);
        emit stageChanged(Stage::display_connecting);
    }
    view::DisplayTarget target;
    target.host = q(connection.host);
    target.port = connection.port;
    target.ticket = q(connection.ticket);
    target.username = user_;
    use_display(q(connection.protocol));
    display_->start(target);
}

void SessionController::on_first_frame()
{
    if (phase_ == Phase::connecting) {
        emit stageChanged(Stage::first_picture);
        set_phase(Phase::connected);
        warning_poll_.start();
        emit connected();
        // a warning already there (a refresh announced before this connect)
        listing_ = Listing::warnings;
        broker_.list_desktops();
    } else if (phase_ == Phase::reconnecting) {
        reconnect_timer_.stop();
        attempt_ = 0;
        set_phase(Phase::connected);
        warning_poll_.start();
        emit reconnected();
    }
}

void SessionController::on_first_painted()
{
    if (!tracing_ || display_ == nullptr) return;
    const view::DisplayTimes t = display_->display_times();
    if (!t.handshake_done || !t.authenticated || !t.first_painted) return;
    trace_.add("display_connection", t.started, *t.handshake_done);
    trace_.add("display_authentication", *t.handshake_done, *t.authenticated);
    trace_.add("first_picture", *t.authenticated, *t.first_painted);
    tracing_ = false;
    last_trace_ = trace_;
    emit traceReady(trace_);
    if (connection_ && connection_->trace_id) broker_.report_timing(connection_->session_id, timing_report(trace_, *connection_->trace_id));
}

void SessionController::on_display_lost(view::DisconnectReason reason, const QString& message)
{
    using view::DisconnectReason;
    if (reason == DisconnectReason::user || phase_ == Phase::closing || phase_ == Phase::signed_out) return;
    if (phase_ == Phase::connecting) {
        tracing_ = false;
        // the first connection: the user decides (Retry), nothing is retried by itself
        emit connectFailed(message.isEmpty() ? QStringLiteral("The desktop could not be shown.") : message);
        return;
    }
    if (reason == DisconnectReason::refused || reason == DisconnectReason::certificate) {
        if (phase_ == Phase::reconnecting) {
            // a fresh ticket refused: the desktop is not ours any more
            reconnect_timer_.stop();
            finish(message);
        } else {
            emit connectFailed(message);
        }
        return;
    }
    if (phase_ == Phase::connected) {
        begin_reconnect(message);
    } else if (phase_ == Phase::reconnecting) {
        schedule_reconnect(message);
    }
}

void SessionController::begin_reconnect(const QString& detail)
{
    warning_poll_.stop();
    attempt_ = 0;
    since_drop_.start();
    trace_.begin(TraceClock::now(), true);
    tracing_ = true;
    set_phase(Phase::reconnecting);
    schedule_reconnect(detail);
}

void SessionController::schedule_reconnect(const QString& detail)
{
    const qint64 left_ms = policy_.give_up_after_s * 1000LL - since_drop_.elapsed();
    if (left_ms <= 0) {
        stop_display();
        finish(QStringLiteral("The connection to your desktop could not be restored. Your desktop keeps running: "
                              "sign in again to get back to it."));
        return;
    }
    ++attempt_;
    emit reconnecting(attempt_, static_cast<int>((left_ms + 999) / 1000), detail);
    reconnect_timer_.start(static_cast<int>(std::min<qint64>(policy_.delay_ms(attempt_), left_ms)));
}

void SessionController::reconnect_now()
{
    if (phase_ != Phase::reconnecting) return;
    // is the session still ours? (an admin's log off or a refresh ends it: no new desktop behind
    // the user's back)
    const auto now = TraceClock::now();
    trace_.stages.clear();  // an earlier try's stages: all of it is waiting now
    trace_.add("reconnect_wait", trace_.origin, now);
    stage_start_ = now;
    listing_ = Listing::reconnect_check;
    broker_.list_desktops();
}

// ---- errors

void SessionController::on_failed(BrokerRequest request, const BrokerError& error)
{
    if (request == BrokerRequest::timing) return;  // (the user's session does not depend on it)
    if (request == BrokerRequest::desktops) listing_ = Listing::none;
    if (phase_ == Phase::closing) {
        if (request == BrokerRequest::logout) finish({});
        else if (request == BrokerRequest::disconnect || request == BrokerRequest::logoff) broker_.logout();
        return;
    }
    if (error.kind == BrokerErrorKind::unauthenticated && phase_ != Phase::signing_in) {
        stop_display();
        finish(QStringLiteral("Your sign-in has expired. Sign in again; your desktop keeps running."));
        return;
    }
    switch (phase_) {
    case Phase::signing_in:
        if (error.kind == BrokerErrorKind::unreachable || error.kind == BrokerErrorKind::broker_unavailable) {
            const int wait = error.retry_after_s.value_or(unreachable_retry_s_);
            unreachable_timer_.start(wait * 1000);
            emit signInFailed(error, wait);
            return;
        }
        password_.fill(QChar(0));
        password_.clear();
        broker_.forget();
        set_phase(Phase::signed_out);
        emit signInFailed(error, error.retry_after_s.value_or(0));
        return;
    case Phase::connecting:
        if (request == BrokerRequest::connect || request == BrokerRequest::desktops) emit connectFailed(error.sentence());
        return;
    case Phase::reconnecting:
        if (error.kind == BrokerErrorKind::session_ended || error.kind == BrokerErrorKind::not_found) {
            stop_display();
            finish(QStringLiteral("Your session has ended. Sign in again to get a desktop."));
            return;
        }
        schedule_reconnect(error.sentence());
        return;
    case Phase::choosing:
        if (request == BrokerRequest::desktops) emit connectFailed(error.sentence());
        return;
    default:
        return;  // a warning poll that failed: the next one will tell
    }
}

// ---- leaving

void SessionController::disconnect()
{
    if (phase_ == Phase::signed_out || phase_ == Phase::closing) return;
    reconnect_timer_.stop();
    warning_poll_.stop();
    stop_display();
    set_phase(Phase::closing);
    closing_timer_.start(closing_timeout_ms);
    if (connection_) broker_.disconnect_session(connection_->session_id);
    else broker_.logout();
}

void SessionController::log_off()
{
    if (phase_ == Phase::signed_out || phase_ == Phase::closing) return;
    reconnect_timer_.stop();
    warning_poll_.stop();
    stop_display();
    set_phase(Phase::closing);
    closing_timer_.start(closing_timeout_ms);
    if (connection_) broker_.logoff_session(connection_->session_id);
    else broker_.logout();
}

void SessionController::sign_out()
{
    if (phase_ != Phase::choosing && phase_ != Phase::connecting) return;
    stop_display();
    set_phase(Phase::closing);
    closing_timer_.start(closing_timeout_ms);
    broker_.logout();
}

void SessionController::finish(const QString& message)
{
    closing_timer_.stop();
    reconnect_timer_.stop();
    unreachable_timer_.stop();
    warning_poll_.stop();
    broker_.forget();
    connection_.reset();
    warning_.reset();
    desktops_ = {};
    user_.clear();
    password_.fill(QChar(0));
    password_.clear();
    pool_.clear();
    attempt_ = 0;
    tracing_ = false;
    listing_ = Listing::none;
    set_phase(Phase::signed_out);
    emit ended(message);
}

}  // namespace vdi::thin_client
