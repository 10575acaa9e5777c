// SessionController with a fake broker (the test answers each call) and a fake display session
// (a real RemoteSession worker thread whose protocol is scripted): the choice skipped or asked,
// the protocol picked, reconnect backoff with a fresh ticket each try, giving up, a refused ticket
// never retried, the session ended behind the client's back, unreachable brokers retried.
#include <catch2/catch.hpp>

#include <QCoreApplication>
#include <QSignalSpy>
#include <QTest>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vdi/thin_client/session_controller.h"

using namespace vdi::thin_client;
using Phase = SessionController::Phase;
using vdi::api::ConnectResponse;
using vdi::api::DesktopList;
using vdi::api::EntitledPool;
using vdi::api::UserSession;

namespace {

QCoreApplication& application()
{
    static int argc = 1;
    static char name[] = "session_controller_tests";
    static char* argv[] = {name, nullptr};
    static QCoreApplication app(argc, argv);
    return app;
}

// Records every call; the test answers with the broker's signals.
class FakeBroker final : public BrokerApi {
public:
    void login(const QString& user, const QString&) override { calls.push_back("login " + user); }
    void logout() override { calls.push_back("logout"); }
    void list_desktops() override { calls.push_back("desktops"); }
    void connect_desktop(const QString& pool, const QString& protocol) override
    {
        calls.push_back("connect " + pool + " " + protocol);
    }
    void disconnect_session(vdi::api::Id id) override { calls.push_back(QStringLiteral("disconnect %1").arg(id)); }
    void logoff_session(vdi::api::Id id) override { calls.push_back(QStringLiteral("logoff %1").arg(id)); }
    void report_timing(vdi::api::Id id, const vdi::api::TimingReport& report) override
    {
        calls.push_back(QStringLiteral("timing %1").arg(id));
        reports.push_back(report);
    }
    void forget() override { calls.push_back("forget"); }
    bool signed_in() const override { return true; }
    std::vector<vdi::api::TimingReport> reports;
    QString broker_name() const override { return QStringLiteral("broker.test:8443"); }

    int count(const QString& call) const { return static_cast<int>(std::count(calls.begin(), calls.end(), call)); }
    QStringList calls;
};

// A display session whose protocol is a script: each start() takes the next outcome (connect and
// show a picture, refuse the ticket, or fail as a network would); a connected one stays until
// drop() or stop().
class FakeDisplay final : public view::RemoteSession {
public:
    enum class Outcome { picture, refuse, fail };

    FakeDisplay() : drop_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
    ~FakeDisplay() override
    {
        stop();
        ::close(drop_fd_);
    }
    QString protocol_name() const override { return QStringLiteral("FAKE"); }

    void script(std::initializer_list<Outcome> outcomes)
    {
        std::lock_guard lock(mutex_);
        outcomes_.insert(outcomes_.end(), outcomes);
    }
    void drop()
    {
        const std::uint64_t one = 1;
        (void)!::write(drop_fd_, &one, sizeof one);
    }
    std::vector<view::DisplayTarget> targets() const
    {
        std::lock_guard lock(mutex_);
        return targets_;
    }

protected:
    void run(const view::DisplayTarget& target) override
    {
        Outcome outcome = Outcome::picture;
        {
            std::lock_guard lock(mutex_);
            targets_.push_back(target);
            if (!outcomes_.empty()) {
                outcome = outcomes_.front();
                outcomes_.pop_front();
            }
        }
        if (outcome == Outcome::refuse) return finish(view::DisconnectReason::refused, "The desktop refused the ticket.");
        if (outcome == Outcome::fail) return finish(view::DisconnectReason::network, "Connection refused");
        set_handshake_done();
        set_connected();
        resize_picture(8, 8);
        paint([](QImage& image) { image.fill(Qt::darkCyan); }, QRect(0, 0, 8, 8));
        frame_done();
        pollfd fds[2] = {{wake_fd(), POLLIN, 0}, {drop_fd_, POLLIN, 0}};
        while (!stop_requested()) {
            ::poll(fds, 2, -1);
            if (fds[1].revents & POLLIN) {
                std::uint64_t count = 0;
                (void)!::read(drop_fd_, &count, sizeof count);
                return finish(view::DisconnectReason::network, "Connection reset by peer");
            }
            take_input();
        }
    }

private:
    int drop_fd_;
    mutable std::mutex mutex_;
    std::deque<Outcome> outcomes_;
    std::vector<view::DisplayTarget> targets_;
};

DesktopList one_pool(std::vector<std::string> protocols = {"vnc", "rdp"})
{
    DesktopList list;
    list.pools.push_back(EntitledPool{"demo", "Demo desktops", "floating", std::move(protocols), true, 2});
    return list;
}

UserSession session_in(vdi::api::Id id, const std::string& pool, const std::string& state)
{
    UserSession s;
    s.id = id;
    s.pool = pool;
    s.desktop = pool + "-1";
    s.protocol = "vnc";
    s.state = state;
    return s;
}

ConnectResponse answer(vdi::api::Id session_id, const std::string& ticket, const std::string& protocol = "vnc")
{
    ConnectResponse c;
    c.session_id = session_id;
    c.pool = "demo";
    c.desktop = "demo-1";
    c.host = "127.0.0.1";
    c.port = 5901;
    c.protocol = protocol;
    c.ticket = ticket;
    c.trace_id = 1000 + static_cast<vdi::api::Id>(ticket.size()) + static_cast<vdi::api::Id>(ticket.back());
    return c;
}

BrokerError error_of(BrokerErrorKind kind, std::optional<int> retry_after = std::nullopt)
{
    BrokerError e;
    e.kind = kind;
    e.retry_after_s = retry_after;
    e.broker = QStringLiteral("broker.test:8443");
    return e;
}

struct Rig {
    FakeBroker broker;
    FakeDisplay vnc;
    FakeDisplay rdp;
    SessionController controller;
    QSignalSpy ended{&controller, &SessionController::ended};

    Rig()
        : controller(broker, [this](const QString& p) -> view::RemoteSession& {
              application();
              return p == QStringLiteral("rdp") ? static_cast<view::RemoteSession&>(rdp) : vnc;
          })
    {
        application();
        controller.set_reconnect_policy({50, 200, 30});
    }

    bool wait_phase(Phase phase, int ms = 5000)
    {
        return QTest::qWaitFor([&] { return controller.phase() == phase; }, ms);
    }
    bool wait_call(const QString& call, int times = 1, int ms = 5000)
    {
        return QTest::qWaitFor([&] { return broker.count(call) >= times; }, ms);
    }
    // Signed in and listed with `list`.
    void signed_in(const DesktopList& list)
    {
        controller.sign_in(QStringLiteral("ruth"), QStringLiteral("ruth-secret"));
        REQUIRE(broker.calls.back() == QStringLiteral("login ruth"));
        emit broker.loggedIn({});
        REQUIRE(broker.calls.back() == QStringLiteral("desktops"));
        emit broker.desktopsListed(list);
    }
    // On the desktop of session 7 over VNC.
    void on_desktop()
    {
        signed_in(one_pool());
        REQUIRE(broker.calls.back() == QStringLiteral("connect demo vnc"));
        emit broker.desktopConnected(answer(7, "ticket-1"));
        REQUIRE(wait_phase(Phase::connected));
    }
};

}  // namespace

TEST_CASE("the reconnect delay doubles from the first delay up to the longest")
{
    const ReconnectPolicy policy{250, 8000, 180};
    std::vector<int> delays;
    for (int attempt = 1; attempt <= 8; ++attempt) delays.push_back(policy.delay_ms(attempt));
    CHECK(delays == std::vector<int>{250, 500, 1000, 2000, 4000, 8000, 8000, 8000});
    CHECK(ReconnectPolicy{300, 1000, 10}.delay_ms(3) == 1000);
}

TEST_CASE("with one pool and nothing to resume elsewhere there is no question: the pool's protocol wins")
{
    SECTION("the preferred protocol, offered")
    {
        Rig rig;
        rig.controller.set_preferred_protocol(QStringLiteral("rdp"));
        QSignalSpy choices(&rig.controller, &SessionController::choicesReady);
        rig.signed_in(one_pool());
        CHECK(rig.broker.calls.back() == QStringLiteral("connect demo rdp"));
        CHECK(choices.isEmpty());
        CHECK(rig.controller.phase() == Phase::connecting);
    }
    SECTION("not offered: the pool's own")
    {
        Rig rig;
        rig.controller.set_preferred_protocol(QStringLiteral("rdp"));
        rig.signed_in(one_pool({"vnc"}));
        CHECK(rig.broker.calls.back() == QStringLiteral("connect demo vnc"));
    }
    SECTION("a disconnected session in another pool: the user chooses")
    {
        Rig rig;
        QSignalSpy choices(&rig.controller, &SessionController::choicesReady);
        auto list = one_pool();
        list.sessions.push_back(session_in(3, "lab", "disconnected"));
        rig.signed_in(list);
        CHECK(rig.controller.phase() == Phase::choosing);
        CHECK(choices.size() == 1);
        CHECK(rig.broker.count(QStringLiteral("connect demo vnc")) == 0);
        rig.controller.resume(3, QStringLiteral("lab"));
        CHECK(rig.broker.calls.back() == QStringLiteral("connect lab vnc"));
    }
    SECTION("the user's disconnected desktop in that pool: resumed at once, over its protocol, although the "
            "pool has no other desktop ready")
    {
        Rig rig;
        rig.controller.set_preferred_protocol(QStringLiteral("vnc"));
        auto list = one_pool();
        list.pools.front().available = false;
        auto mine = session_in(5, "demo", "disconnected");
        mine.protocol = "rdp";
        list.sessions.push_back(mine);
        rig.signed_in(list);
        CHECK(rig.controller.phase() == Phase::connecting);
        CHECK(rig.broker.calls.back() == QStringLiteral("connect demo rdp"));
    }
    SECTION("the pool has no ready desktop: the user sees it busy")
    {
        Rig rig;
        auto list = one_pool();
        list.pools.front().available = false;
        rig.signed_in(list);
        CHECK(rig.controller.phase() == Phase::choosing);
    }
}

TEST_CASE("a dropped display is reconnected with a fresh ticket each try, backing off, to the same session")
{
    Rig rig;
    rig.on_desktop();
    QSignalSpy reconnecting(&rig.controller, &SessionController::reconnecting);
    QSignalSpy reconnected(&rig.controller, &SessionController::reconnected);
    rig.vnc.script({FakeDisplay::Outcome::fail, FakeDisplay::Outcome::picture});
    const int listed = rig.broker.count(QStringLiteral("desktops"));  // sign-in, the first warning check
    rig.vnc.drop();
    REQUIRE(rig.wait_phase(Phase::reconnecting));

    // try 1: is the session still ours? yes: a fresh ticket, and the display fails again
    REQUIRE(rig.wait_call(QStringLiteral("desktops"), listed + 1));
    auto list = one_pool();
    list.sessions.push_back(session_in(7, "demo", "active"));
    emit rig.broker.desktopsListed(list);
    REQUIRE(rig.broker.calls.back() == QStringLiteral("connect demo vnc"));
    emit rig.broker.desktopConnected(answer(7, "ticket-2"));
    // try 2, after a longer wait
    REQUIRE(rig.wait_call(QStringLiteral("desktops"), listed + 2));
    emit rig.broker.desktopsListed(list);
    emit rig.broker.desktopConnected(answer(7, "ticket-3"));
    REQUIRE(rig.wait_phase(Phase::connected));

    CHECK(reconnected.size() == 1);
    REQUIRE(reconnecting.size() == 2);
    CHECK(reconnecting.at(0).at(0).toInt() == 1);
    CHECK(reconnecting.at(1).at(0).toInt() == 2);
    CHECK(reconnecting.at(1).at(2).toString() == QStringLiteral("Connection refused"));
    const auto targets = rig.vnc.targets();
    REQUIRE(targets.size() == 3);
    CHECK(targets[1].ticket == QStringLiteral("ticket-2"));
    CHECK(targets[2].ticket == QStringLiteral("ticket-3"));
    CHECK(rig.controller.connection()->session_id == 7);
    CHECK(rig.ended.isEmpty());
}

TEST_CASE("a ticket refused while reconnecting ends the session: it is not retried")
{
    Rig rig;
    rig.on_desktop();
    rig.vnc.script({FakeDisplay::Outcome::refuse});
    const int listed = rig.broker.count(QStringLiteral("desktops"));
    rig.vnc.drop();
    REQUIRE(rig.wait_call(QStringLiteral("desktops"), listed + 1));
    auto list = one_pool();
    list.sessions.push_back(session_in(7, "demo", "active"));
    emit rig.broker.desktopsListed(list);
    emit rig.broker.desktopConnected(answer(7, "ticket-2"));
    REQUIRE(QTest::qWaitFor([&] { return !rig.ended.isEmpty(); }, 5000));
    CHECK(rig.ended.at(0).at(0).toString() == QStringLiteral("The desktop refused the ticket."));
    QTest::qWait(300);  // longer than the next delay would be
    CHECK(rig.broker.count(QStringLiteral("connect demo vnc")) == 2);
    CHECK(rig.controller.phase() == Phase::signed_out);
}

TEST_CASE("a session ended while the client was away is not replaced by a new desktop")
{
    Rig rig;
    rig.on_desktop();
    const int listed = rig.broker.count(QStringLiteral("desktops"));
    rig.vnc.drop();
    REQUIRE(rig.wait_call(QStringLiteral("desktops"), listed + 1));
    SECTION("the list no longer has it (an administrator logged it off)")
    {
        emit rig.broker.desktopsListed(one_pool());
    }
    SECTION("the broker says so itself")
    {
        emit rig.broker.requestFailed(BrokerRequest::desktops, error_of(BrokerErrorKind::session_ended));
    }
    REQUIRE(QTest::qWaitFor([&] { return !rig.ended.isEmpty(); }, 5000));
    CHECK(rig.ended.at(0).at(0).toString().contains(QStringLiteral("Your session has ended")));
    CHECK(rig.broker.count(QStringLiteral("connect demo vnc")) == 1);
    CHECK(rig.controller.phase() == Phase::signed_out);
}

TEST_CASE("the client gives up after the policy's time and says the desktop keeps running")
{
    Rig rig;
    rig.controller.set_reconnect_policy({50, 100, 1});
    rig.on_desktop();
    const int listed = rig.broker.count(QStringLiteral("desktops"));
    rig.vnc.drop();
    QElapsedTimer clock;
    clock.start();
    // every try: the broker is unreachable
    int answered = rig.broker.count(QStringLiteral("desktops"));
    REQUIRE(QTest::qWaitFor(
        [&] {
            while (rig.broker.count(QStringLiteral("desktops")) > answered) {
                ++answered;
                emit rig.broker.requestFailed(BrokerRequest::desktops, error_of(BrokerErrorKind::unreachable));
            }
            return !rig.ended.isEmpty();
        },
        5000));
    CHECK(clock.elapsed() >= 900);
    CHECK(clock.elapsed() < 3000);
    CHECK(answered - listed >= 4);  // 50, 100, 100, ... ms apart
    CHECK(rig.ended.at(0).at(0).toString().contains(QStringLiteral("keeps running")));
    CHECK(rig.controller.phase() == Phase::signed_out);
}

TEST_CASE("sign-in: wrong credentials sign out at once: an unreachable broker is retried by itself")
{
    SECTION("wrong")
    {
        Rig rig;
        QSignalSpy failed(&rig.controller, &SessionController::signInFailed);
        rig.controller.sign_in(QStringLiteral("ruth"), QStringLiteral("nope"));
        emit rig.broker.requestFailed(BrokerRequest::login, error_of(BrokerErrorKind::invalid_credentials));
        CHECK(rig.controller.phase() == Phase::signed_out);
        CHECK(rig.broker.calls.contains(QStringLiteral("forget")));
        REQUIRE(failed.size() == 1);
        QTest::qWait(200);
        CHECK(rig.broker.count(QStringLiteral("login ruth")) == 1);
    }
    SECTION("unreachable")
    {
        Rig rig;
        rig.controller.set_unreachable_retry_s(1);
        QSignalSpy failed(&rig.controller, &SessionController::signInFailed);
        rig.controller.sign_in(QStringLiteral("ruth"), QStringLiteral("ruth-secret"));
        emit rig.broker.requestFailed(BrokerRequest::login, error_of(BrokerErrorKind::unreachable));
        REQUIRE(failed.size() == 1);
        CHECK(failed.at(0).at(1).toInt() == 1);
        CHECK(rig.controller.phase() == Phase::signing_in);
        REQUIRE(rig.wait_call(QStringLiteral("login ruth"), 2, 3000));
        emit rig.broker.loggedIn({});
        CHECK(rig.broker.calls.back() == QStringLiteral("desktops"));
    }
    SECTION("locked: the broker's Retry-After is passed on")
    {
        Rig rig;
        QSignalSpy failed(&rig.controller, &SessionController::signInFailed);
        rig.controller.sign_in(QStringLiteral("ruth"), QStringLiteral("nope"));
        emit rig.broker.requestFailed(BrokerRequest::login, error_of(BrokerErrorKind::locked, 28));
        REQUIRE(failed.size() == 1);
        CHECK(failed.at(0).at(1).toInt() == 28);
        CHECK(rig.controller.phase() == Phase::signed_out);
    }
}

TEST_CASE("the first connection failing is the user's to retry: disconnect and log off tell the broker")
{
    Rig rig;
    QSignalSpy failed(&rig.controller, &SessionController::connectFailed);
    rig.vnc.script({FakeDisplay::Outcome::fail});
    rig.signed_in(one_pool());
    emit rig.broker.desktopConnected(answer(7, "ticket-1"));
    REQUIRE(QTest::qWaitFor([&] { return !failed.isEmpty(); }, 5000));
    QTest::qWait(200);
    CHECK(rig.broker.count(QStringLiteral("connect demo vnc")) == 1);
    rig.controller.retry();
    CHECK(rig.broker.count(QStringLiteral("connect demo vnc")) == 2);
    emit rig.broker.desktopConnected(answer(7, "ticket-2"));
    REQUIRE(rig.wait_phase(Phase::connected));

    SECTION("disconnect")
    {
        rig.controller.disconnect();
        CHECK(rig.broker.calls.back() == QStringLiteral("disconnect 7"));
        emit rig.broker.sessionDisconnected(7);
        CHECK(rig.broker.calls.back() == QStringLiteral("logout"));
        emit rig.broker.loggedOut();
        CHECK(rig.controller.phase() == Phase::signed_out);
        REQUIRE(rig.ended.size() == 1);
        CHECK(rig.ended.at(0).at(0).toString().isEmpty());
    }
    SECTION("log off, with the broker silent: signed out anyway")
    {
        rig.controller.log_off();
        CHECK(rig.broker.calls.back() == QStringLiteral("logoff 7"));
        REQUIRE(rig.wait_phase(Phase::signed_out, 8000));
    }
}

namespace {

// The trace's stage names in order, and its invariants: every stage inside [origin, origin+total],
// non-negative, stages plus unaccounted time equal to the total (they do not overlap here).
std::vector<std::string> checked_stages(const ConnectTrace& trace)
{
    std::vector<std::string> names;
    std::chrono::nanoseconds sum{0};
    TraceClock::time_point previous_end = trace.origin;
    for (const auto& s : trace.stages) {
        names.push_back(s.name);
        CHECK(s.start >= previous_end);
        CHECK(s.end >= s.start);
        previous_end = s.end;
        sum += s.end - s.start;
    }
    CHECK(sum + trace.unaccounted() == trace.total());
    CHECK(trace.total().count() > 0);
    return names;
}

}  // namespace

TEST_CASE("every connect is traced from sign-in to the first picture painted, a reconnect too")
{
    Rig rig;
    QSignalSpy traces(&rig.controller, &SessionController::traceReady);
    rig.on_desktop();
    CHECK(traces.isEmpty());  // connected, but the picture is not painted yet
    rig.vnc.note_painted();
    REQUIRE(traces.size() == 1);
    REQUIRE(rig.controller.last_trace());
    const ConnectTrace first = *rig.controller.last_trace();
    CHECK_FALSE(first.reconnect);
    CHECK(first.protocol == "vnc");
    CHECK(checked_stages(first) == std::vector<std::string>{"sign_in", "desktop_list", "connect_request",
                                                            "display_connection", "display_authentication",
                                                            "first_picture"});
    rig.vnc.note_painted();  // later paints are not the first picture
    CHECK(traces.size() == 1);

    // a drop, one failed try, then back: one reconnect trace, the failed try inside its wait
    rig.vnc.script({FakeDisplay::Outcome::fail, FakeDisplay::Outcome::picture});
    const int listed = rig.broker.count(QStringLiteral("desktops"));
    rig.vnc.drop();
    REQUIRE(rig.wait_phase(Phase::reconnecting));
    auto list = one_pool();
    list.sessions.push_back(session_in(7, "demo", "active"));
    for (int attempt = 1; attempt <= 2; ++attempt) {
        REQUIRE(rig.wait_call(QStringLiteral("desktops"), listed + attempt));
        emit rig.broker.desktopsListed(list);
        emit rig.broker.desktopConnected(answer(7, "ticket-" + std::to_string(attempt + 1)));
    }
    REQUIRE(rig.wait_phase(Phase::connected));
    rig.vnc.note_painted();
    REQUIRE(traces.size() == 2);
    const ConnectTrace back = *rig.controller.last_trace();
    CHECK(back.reconnect);
    CHECK(checked_stages(back) == std::vector<std::string>{"reconnect_wait", "desktop_list", "connect_request",
                                                           "display_connection", "display_authentication",
                                                           "first_picture"});
    CHECK(back.duration("reconnect_wait") >= std::chrono::milliseconds(50));  // the policy's first delay

    // each trace went to the broker once, for its own connect's trace id, in microseconds
    REQUIRE(rig.broker.reports.size() == 2);
    CHECK(rig.broker.count(QStringLiteral("timing 7")) == 2);
    const auto& report = rig.broker.reports[0];
    CHECK(report.trace_id == *answer(7, "ticket-1").trace_id);
    CHECK_FALSE(report.reconnect);
    CHECK(report.total_us == std::chrono::duration_cast<std::chrono::microseconds>(first.total()).count());
    REQUIRE(report.stages.size() == first.stages.size());
    for (std::size_t i = 0; i < report.stages.size(); ++i) {
        CHECK(report.stages[i].stage == first.stages[i].name);
        CHECK(report.stages[i].start_us >= 0);
        CHECK(report.stages[i].start_us + report.stages[i].duration_us <= report.total_us);
    }
    CHECK(rig.broker.reports[1].reconnect);
    CHECK(rig.broker.reports[1].trace_id == *answer(7, "ticket-3").trace_id);
    // a failed report is nobody's business on the screen
    emit rig.broker.requestFailed(BrokerRequest::timing, error_of(BrokerErrorKind::unreachable));
    CHECK(rig.controller.phase() == Phase::connected);
}

TEST_CASE("a trace counts the user's time on the pool screen as a stage of its own")
{
    Rig rig;
    QSignalSpy traces(&rig.controller, &SessionController::traceReady);
    auto list = one_pool();
    list.pools.push_back(EntitledPool{"lab", "Lab", "floating", {"rdp"}, true, 1});
    rig.signed_in(list);
    REQUIRE(rig.controller.phase() == Phase::choosing);
    QTest::qWait(20);
    rig.controller.choose_pool(QStringLiteral("lab"));
    REQUIRE(rig.broker.calls.back() == QStringLiteral("connect lab rdp"));
    emit rig.broker.desktopConnected(answer(8, "ticket-1", "rdp"));
    REQUIRE(rig.wait_phase(Phase::connected));
    rig.rdp.note_painted();
    REQUIRE(traces.size() == 1);
    const ConnectTrace trace = *rig.controller.last_trace();
    CHECK(trace.protocol == "rdp");
    CHECK(checked_stages(trace) == std::vector<std::string>{"sign_in", "desktop_list", "pool_choice",
                                                            "connect_request", "display_connection",
                                                            "display_authentication", "first_picture"});
    CHECK(trace.duration("pool_choice") >= std::chrono::milliseconds(20));
}

TEST_CASE("a trace's unaccounted time is what no stage covers, overlaps counted once")
{
    ConnectTrace trace;
    const auto t0 = TraceClock::now();
    using std::chrono::milliseconds;
    trace.begin(t0, false);
    trace.add("a", t0 + milliseconds(1), t0 + milliseconds(4));
    trace.add("b", t0 + milliseconds(3), t0 + milliseconds(6));   // overlaps a by 1
    trace.add("c", t0 + milliseconds(8), t0 + milliseconds(10));
    trace.add("d", t0 + milliseconds(9), t0 + milliseconds(8));   // ends before it starts: clamped
    CHECK(trace.total() == milliseconds(10));
    CHECK(trace.unaccounted() == milliseconds(3));  // 0-1, 6-8
    CHECK(trace.duration("b") == milliseconds(3));
    CHECK(trace.duration("d") == milliseconds(0));
    CHECK(trace.duration("missing") == milliseconds(0));
    CHECK(trace.has("c"));
    CHECK_FALSE(trace.has("missing"));
}
