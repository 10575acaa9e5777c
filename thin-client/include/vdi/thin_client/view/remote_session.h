// One connection to a desktop's display server, protocol-neutral (KRDC's RemoteView split: the
// protocols only translate). A session runs its protocol's I/O on a worker thread of its own, woken
// by an eventfd when input is queued (no polling), and keeps the picture in a QImage that the view
// paints from; changed rectangles are merged and announced to the GUI thread with one queued signal
// per batch.
//
// Life: start() once; the worker connects, authenticates with the ticket, then pumps server
// messages until the server closes, the network fails or stop() is called. disconnected() is
// emitted exactly once per start(), with the reason the session machine acts on (a refused ticket
// is never retried, a network error is).
// Thread affinity: construct, start, stop, send_* and the accessors on the GUI thread; the signals
// are delivered there (queued). with_picture() may be called from any thread.
#pragma once

#include <QByteArray>
#include <QImage>
#include <QObject>
#include <QRect>
#include <QRegion>
#include <QString>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "vdi/thin_client/connect_trace.h"

namespace vdi::thin_client::view {

// Where and how to reach the display: the broker's connect answer.
struct DisplayTarget {
    QString host;
    int port = 0;
    QString ticket;    // the one-time display password
    QString username;  // RDP's user name (the display server ignores it; the ticket authenticates)
    // RDP over TLS: the desktop's certificate is accepted when its SHA-256 (DER) equals this, or
    // when accept_any_certificate is set (the broker handed out the ticket over verified TLS and the
    // ticket is single-use, so a wrong server learns nothing it can replay).
    QByteArray certificate_sha256;
    bool accept_any_certificate = true;
};

enum class SessionState { idle, connecting, connected, disconnected };

enum class DisconnectReason {
    none,
    user,              // stop() was called
    network,           // the connection failed or dropped (retry with a fresh ticket)
    refused,           // the display server refused the ticket (never retried)
    closed_by_server,  // the server ended the session on purpose (log off, refresh)
    certificate,       // the desktop's certificate did not match
    protocol,          // the server spoke something we cannot follow
};
QString reason_name(DisconnectReason reason);

// A key press or release, in both protocols' terms (key_map.h makes them from Qt key events).
struct KeyStroke {
    quint32 keysym = 0;      // X keysym (VNC)
    quint16 scancode = 0;    // set-1 (XT) scancode (RDP); 0: none
    bool extended = false;   // the E0 prefix
    bool down = true;
};

// When one start() went through its steps, on the trace clock (connect_trace.h names them).
struct DisplayTimes {
    TraceClock::time_point started;
    std::optional<TraceClock::time_point> handshake_done;  // the ticket is about to be sent
    std::optional<TraceClock::time_point> authenticated;   // set_connected()
    std::optional<TraceClock::time_point> first_frame;     // the first complete update
    std::optional<TraceClock::time_point> first_painted;   // note_painted() after it
};

class RemoteSession : public QObject {
    Q_OBJECT
public:
    explicit RemoteSession(QObject* parent = nullptr);
    ~RemoteSession() override;  // subclasses call stop() in their destructors

    virtual QString protocol_name() const = 0;  // "VNC", "RDP"

    // Starts connecting on a worker thread. Precondition: state() is idle or disconnected.
    void start(const DisplayTarget& target);
    // Ends the connection (disconnected(user) follows unless the session had already ended) and
    // joins the worker. Safe to call at any time, also twice.
    void stop();

    // Input, queued to the worker; dropped unless connected. Coordinates are framebuffer pixels;
    // `buttons`: 1 left, 2 middle, 4 right (RFB's mask).
    void send_key(const KeyStroke& key);
    void send_pointer(int x, int y, int buttons);
    void send_wheel(int x, int y, int steps);  // > 0 away from the user (up), < 0 towards
    void send_clipboard(const QString& text);
    void send_ctrl_alt_del();

    SessionState state() const { return state_; }
    QSize framebuffer_size() const;
    // Calls `fn` with the picture while no update can change it (the view paints inside).
    void with_picture(const std::function<void(const QImage&)>& fn) const;
    QImage picture() const;  // a copy
    // Round trip of the display connection as the kernel measures it (TCP_INFO), when known.
    std::optional<double> round_trip_ms() const;
    double frames_per_second() const;  // completed updates over the last two seconds
    DisplayTimes display_times() const;
    // The picture was painted on the screen (the view calls this from its paint event): the first
    // time after the first frame, that moment is recorded and firstPainted() emitted.
    void note_painted();

signals:
    void stateChanged(vdi::thin_client::view::SessionState state);
    void framebufferResized(QSize size);
    void framebufferUpdated(const QRegion& region);  // merged since the last one
    void firstFrame();                               // the first complete update arrived
    void firstPainted();                             // ... and was painted (note_painted)
    void disconnected(vdi::thin_client::view::DisconnectReason reason, const QString& message);
    void clipboardReceived(const QString& text);

protected:
    // ---- for the protocol, on the worker thread

    // Runs the whole connection; returns when it is over with the reason and a sentence.
    virtual void run(const DisplayTarget& target) = 0;

    struct Input {
        enum class Kind { key, pointer, wheel, clipboard, ctrl_alt_del } kind = Kind::key;
        KeyStroke key;
        int x = 0, y = 0, buttons = 0, steps = 0;
        QString text;
    };
    // The eventfd the worker waits on beside its socket; readable when input is queued or stop()
    // was called.
    int wake_fd() const { return wake_fd_; }
    // Clears the eventfd and hands over the queued input.
    std::deque<Input> take_input();
    bool stop_requested() const { return stop_.load(); }

    void set_handshake_done();                  // the ticket goes out next (for the trace)
    void set_connected();                       // authenticated: input flows
    void resize_picture(int width, int height);  // a new (black) picture
    // Writes into the picture under its lock; `damage` is announced with the next frame_done().
    void paint(const std::function<void(QImage&)>& fn, const QRect& damage);
    // One update from the server is complete: announce the damage gathered since the last one.
    void frame_done();
    void clipboard_from_server(const QString& text);
    // The socket, once known: keepalive set so that a dead peer is noticed within ~5 s, and the
    // round trip read from it.
    void adopt_socket(int fd);
    // The worker's exit: records the reason for the signal emitted on the GUI thread.
    void finish(DisconnectReason reason, const QString& message);

private:
    void worker_main(DisplayTarget target);
    void set_state(SessionState state);

    std::thread worker_;
    int wake_fd_ = -1;
    std::atomic<bool> stop_{false};
    std::atomic<int> socket_fd_{-1};
    SessionState state_ = SessionState::idle;  // GUI thread
    std::atomic<bool> connected_{false};

    mutable std::mutex input_mutex_;  // guards input_
    std::deque<Input> input_;

    mutable std::mutex picture_mutex_;  // guards picture_, damage_, update_pending_, frames_
    QImage picture_;
    QRegion damage_;
    bool update_pending_ = false;
    bool first_frame_seen_ = false;
    std::deque<std::chrono::steady_clock::time_point> frames_;
    DisplayTimes times_;  // guarded by picture_mutex_
    bool first_frame_announced_ = false;  // GUI thread: firstFrame() emitted in this start()

    std::atomic<bool> finished_{false};
    std::atomic<unsigned> generation_{0};  // of start(); queued signals of an older run are dropped
};

}  // namespace vdi::thin_client::view

Q_DECLARE_METATYPE(vdi::thin_client::view::DisconnectReason)
Q_DECLARE_METATYPE(vdi::thin_client::view::SessionState)
