// The protocol-neutral half of a display session: worker thread, eventfd wakeup, input queue,
// picture and merged damage (remote_session.h).
#include "vdi/thin_client/view/remote_session.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QMetaObject>
#include <QPainter>

namespace vdi::thin_client::view {

namespace {

// Keepalive: idle 2 s, then 3 probes 1 s apart: a dead peer is noticed after about 5 s. Unsent
// or unacknowledged data gives up after 5 s too (TCP_USER_TIMEOUT), which covers a cable pulled
// while the desktop is drawing.
constexpr int keepalive_idle_s = 2;
constexpr int keepalive_interval_s = 1;
constexpr int keepalive_count = 3;
constexpr unsigned user_timeout_ms = 5000;

}  // namespace

QString reason_name(DisconnectReason reason)
{
    switch (reason) {
    case DisconnectReason::none: return QStringLiteral("none");
    case DisconnectReason::user: return QStringLiteral("user");
    case DisconnectReason::network: return QStringLiteral("network");
    case DisconnectReason::refused: return QStringLiteral("refused");
    case DisconnectReason::closed_by_server: return QStringLiteral("closed_by_server");
    case DisconnectReason::certificate: return QStringLiteral("certificate");
    case DisconnectReason::protocol: return QStringLiteral("protocol");
    }
    return QStringLiteral("unknown");
}

RemoteSession::RemoteSession(QObject* parent) : QObject(parent)
{
    qRegisterMetaType<DisconnectReason>();
    qRegisterMetaType<SessionState>();
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

RemoteSession::~RemoteSession()
{
    // the subclass has stopped the worker (its run() uses the subclass's members)
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

void RemoteSession::start(const DisplayTarget& target)
{
    if (worker_.joinable()) worker_.join();
    // the last stop()'s wake-up may still be pending: the new worker starts with none
    std::uint64_t pending = 0;
    (void)!::read(wake_fd_, &pending, sizeof pending);
    stop_ = false;
    finished_ = false;
    connected_ = false;
    socket_fd_ = -1;
    {
        std::lock_guard lock(input_mutex_);
        input_.clear();
    }
    {
        std::lock_guard lock(picture_mutex_);
        damage_ = {};
        update_pending_ = false;
        first_frame_seen_ = false;
        frames_.clear();
        times_ = {};
        times_.started = TraceClock::now();
    }
    first_frame_announced_ = false;
    ++generation_;
    set_state(SessionState::connecting);
    worker_ = std::thread([this, target] { worker_main(target); });
}

void RemoteSession::stop()
{
    stop_ = true;
    const std::uint64_t one = 1;
    if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
    if (worker_.joinable()) worker_.join();
}

void RemoteSession::worker_main(DisplayTarget target)
{
    run(target);
    if (!finished_) finish(stop_requested() ? DisconnectReason::user : DisconnectReason::closed_by_server, {});
}

void RemoteSession::set_state(SessionState state)
{
    if (state_ == state) return;
    state_ = state;
    emit stateChanged(state);
}

namespace {
template <typename Queue, typename Mutex>
void queue_input(Queue& queue, Mutex& mutex, int fd, typename Queue::value_type input)
{
    {
        std::lock_guard lock(mutex);
        // pointer moves between two reads of the queue are merged: only the last position matters
        if (input.kind == Queue::value_type::Kind::pointer && !queue.empty() &&
            queue.back().kind == Queue::value_type::Kind::pointer && queue.back().buttons == input.buttons) {
            queue.back() = std::move(input);
        } else {
            queue.push_back(std::move(input));
        }
    }
    const std::uint64_t one = 1;
    (void)!::write(fd, &one, sizeof one);
}
}  // namespace

void RemoteSession::send_key(const KeyStroke& key)
{
    if (!connected_) return;
    Input input;
    input.kind = Input::Kind::key;
    input.key = key;
    queue_input(input_, input_mutex_, wake_fd_, std::move(input));
}

void RemoteSession::send_pointer(int x, int y, int buttons)
{
    if (!connected_) return;
    Input input;
    input.kind = Input::Kind::pointer;
    input.x = x;
    input.y = y;
    input.buttons = buttons;
    queue_input(input_, input_mutex_, wake_fd_, std::move(input));
}

void RemoteSession::send_wheel(int x, int y, int steps)
{
    if (!connected_ || steps == 0) return;
    Input input;
    input.kind = Input::Kind::wheel;
    input.x = x;
    input.y = y;
    input.steps = steps;
    queue_input(input_, input_mutex_, wake_fd_, std::move(input));
}

void RemoteSession::send_clipboard(const QString& text)
{
    if (!connected_) return;
    Input input;
    input.kind = Input::Kind::clipboard;
    input.text = text;
    queue_input(input_, input_mutex_, wake_fd_, std::move(input));
}

void RemoteSession::send_ctrl_alt_del()
{
    if (!connected_) return;
    Input input;
    input.kind = Input::Kind::ctrl_alt_del;
    queue_input(input_, input_mutex_, wake_fd_, std::move(input));
}

std::deque<RemoteSession::Input> RemoteSession::take_input()
{
    std::uint64_t count = 0;
    (void)!::read(wake_fd_, &count, sizeof count);
    std::lock_guard lock(input_mutex_);
    return std::exchange(input_, {});
}

QSize RemoteSession::framebuffer_size() const
{
    std::lock_guard lock(picture_mutex_);
    return picture_.size();
}

void RemoteSession::with_picture(const std::function<void(const QImage&)>& fn) const
{
    std::lock_guard lock(picture_mutex_);
    fn(picture_);
}

QImage RemoteSession::picture() const
{
    std::lock_guard lock(picture_mutex_);
    return picture_.copy();
}

std::optional<double> RemoteSession::round_trip_ms() const
{
    const int fd = socket_fd_;
    if (fd < 0 || !connected_) return std::nullopt;
    tcp_info info{};
    socklen_t size = sizeof info;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0 || info.tcpi_rtt == 0) return std::nullopt;
    return info.tcpi_rtt / 1000.0;
}

double RemoteSession::frames_per_second() const
{
    std::lock_guard lock(picture_mutex_);
    const auto now = std::chrono::steady_clock::now();
    int count = 0;
    for (const auto& t : frames_) count += now - t <= std::chrono::seconds(2) ? 1 : 0;
    return count / 2.0;
}

DisplayTimes RemoteSession::display_times() const
{
    std::lock_guard lock(picture_mutex_);
    return times_;
}

void RemoteSession::note_painted()
{
    if (!first_frame_announced_) return;
    {
        std::lock_guard lock(picture_mutex_);
        if (times_.first_painted) return;
        times_.first_painted = TraceClock::now();
    }
    emit firstPainted();
}

void RemoteSession::set_handshake_done()
{
    std::lock_guard lock(picture_mutex_);
    if (!times_.handshake_done) times_.handshake_done = TraceClock::now();
}

void RemoteSession::set_connected()
{
    {
        std::lock_guard lock(picture_mutex_);
        times_.authenticated = TraceClock::now();
        if (!times_.handshake_done) times_.handshake_done = times_.authenticated;
    }
    connected_ = true;
    const unsigned generation = generation_;
    QMetaObject::invokeMethod(
        this, [this, generation] { if (generation == generation_) set_state(SessionState::connected); },
        Qt::QueuedConnection);
}

void RemoteSession::resize_picture(int width, int height)
{
    {
        std::lock_guard lock(picture_mutex_);
        picture_ = QImage(width, height, QImage::Format_RGB32);
        picture_.fill(Qt::black);
        damage_ = QRegion(0, 0, width, height);
    }
    const unsigned generation = generation_;
    QMetaObject::invokeMethod(
        this, [this, generation, size = QSize(width, height)] {
            if (generation == generation_) emit framebufferResized(size);
        },
        Qt::QueuedConnection);
}

void RemoteSession::paint(const std::function<void(QImage&)>& fn, const QRect& damage)
{
    std::lock_guard lock(picture_mutex_);
    fn(picture_);
    damage_ += damage.intersected(picture_.rect());
}

void RemoteSession::frame_done()
{
    bool first = false;
    {
        std::lock_guard lock(picture_mutex_);
        const auto now = std::chrono::steady_clock::now();
        frames_.push_back(now);
        while (!frames_.empty() && now - frames_.front() > std::chrono::seconds(2)) frames_.pop_front();
        if (!first_frame_seen_) {
            first = first_frame_seen_ = true;
            times_.first_frame = now;
        }
        if (update_pending_ || (damage_.isEmpty() && !first)) return;
        update_pending_ = true;
    }
    const unsigned generation = generation_;
    QMetaObject::invokeMethod(
        this, [this, generation, first] {
            if (generation != generation_) return;
            QRegion region;
            {
                std::lock_guard lock(picture_mutex_);
                region = std::exchange(damage_, {});
                update_pending_ = false;
            }
            if (!region.isEmpty()) emit framebufferUpdated(region);
            if (first) {
                first_frame_announced_ = true;  // the view has been asked to paint all of it
                emit firstFrame();
            }
        },
        Qt::QueuedConnection);
}

void RemoteSession::clipboard_from_server(const QString& text)
{
    const unsigned generation = generation_;
    QMetaObject::invokeMethod(
        this, [this, generation, text] { if (generation == generation_) emit clipboardReceived(text); },
        Qt::QueuedConnection);
}

void RemoteSession::adopt_socket(int fd)
{
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &keepalive_idle_s, sizeof keepalive_idle_s);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &keepalive_interval_s, sizeof keepalive_interval_s);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &keepalive_count, sizeof keepalive_count);
    ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    socket_fd_ = fd;
}

void RemoteSession::finish(DisconnectReason reason, const QString& message)
{
    if (finished_.exchange(true)) return;
    connected_ = false;
    socket_fd_ = -1;
    const unsigned generation = generation_;
    QMetaObject::invokeMethod(
        this, [this, generation, reason, message] {
            if (generation != generation_) return;
            set_state(SessionState::disconnected);
            emit disconnected(reason, message);
        },
        Qt::QueuedConnection);
}

}  // namespace vdi::thin_client::view
