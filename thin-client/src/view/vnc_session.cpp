// VNC through libvncclient: handshake with a timeout, then poll() on the RFB socket and the
// session's eventfd; server messages already read into libvncclient's buffer are handled before
// waiting again (poll cannot see them).
#include "vdi/thin_client/view/vnc_session.h"

#include <poll.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>

#include <rfb/keysym.h>
#include <rfb/rfbclient.h>

namespace vdi::thin_client::view {

namespace {

constexpr unsigned connect_timeout_s = 5;
constexpr unsigned read_timeout_s = 10;  // a handshake that stalls

// libvncclient reports through two global printf-like hooks; the worker thread's last error line
// tells a refused ticket from a network failure.
thread_local std::string last_error;

void log_nothing(const char*, ...) {}

void log_error(const char* format, ...)
{
    char line[512];
    va_list args;
    va_start(args, format);
    std::vsnprintf(line, sizeof line, format, args);
    va_end(args);
    last_error = line;
    while (!last_error.empty() && (last_error.back() == '\n' || last_error.back() == '\r')) last_error.pop_back();
}

int tag_session;   // rfbClientSetClientData tags
int tag_password;

VncSession* session_of(rfbClient* client)
{
    return static_cast<VncSession*>(rfbClientGetClientData(client, &tag_session));
}

}  // namespace

// The callbacks need the protected painting helpers: a friend-like bridge through a local class.
struct VncCallbacks {
    static char* password(rfbClient* client)
    {
        session_of(client)->set_handshake_done();
        return ::strdup(static_cast<const char*>(rfbClientGetClientData(client, &tag_password)));
    }
    static rfbBool resize(rfbClient* client)
    {
        auto* self = session_of(client);
        const std::size_t bytes = static_cast<std::size_t>(client->width) * client->height * 4;
        std::free(client->frameBuffer);
        client->frameBuffer = static_cast<uint8_t*>(std::calloc(bytes, 1));
        if (client->frameBuffer == nullptr) return FALSE;
        self->resize_picture(client->width, client->height);
        return TRUE;
    }
    static void update(rfbClient* client, int x, int y, int w, int h)
    {
        auto* self = session_of(client);
        const QRect rect(x, y, w, h);
        self->paint(
            [&](QImage& picture) {
                const QRect r = rect.intersected(picture.rect());
                const auto* source = reinterpret_cast<const uint32_t*>(client->frameBuffer);
                for (int row = r.top(); row <= r.bottom(); ++row) {
                    std::memcpy(picture.scanLine(row) + r.left() * 4, source + row * client->width + r.left(),
                                static_cast<std::size_t>(r.width()) * 4);
                }
            },
            rect);
    }
    static void finished(rfbClient* client) { session_of(client)->frame_done(); }
    static void cut_text(rfbClient* client, const char* text, int length)
    {
        session_of(client)->clipboard_from_server(QString::fromLatin1(text, length));
    }
    static void deliver(VncSession& self, rfbClient* client, const RemoteSession::Input& input);
};

void VncCallbacks::deliver(VncSession& self, rfbClient* client, const RemoteSession::Input& input)
{
    (void)self;
    using Kind = RemoteSession::Input::Kind;
    switch (input.kind) {
    case Kind::key: SendKeyEvent(client, input.key.keysym, input.key.down ? TRUE : FALSE); break;
    case Kind::pointer: SendPointerEvent(client, input.x, input.y, input.buttons); break;
    case Kind::wheel: {
        const int button = input.steps > 0 ? 8 : 16;  // RFB buttons 4 and 5
        for (int i = 0; i < std::abs(input.steps); ++i) {
            SendPointerEvent(client, input.x, input.y, input.buttons | button);
            SendPointerEvent(client, input.x, input.y, input.buttons);
        }
        break;
    }
    case Kind::clipboard: {
        QByteArray latin1 = input.text.toLatin1();
        SendClientCutText(client, latin1.data(), static_cast<int>(latin1.size()));
        break;
    }
    case Kind::ctrl_alt_del:
        for (const uint32_t key : {XK_Control_L, XK_Alt_L, XK_Delete}) SendKeyEvent(client, key, TRUE);
        for (const uint32_t key : {XK_Delete, XK_Alt_L, XK_Control_L}) SendKeyEvent(client, key, FALSE);
        break;
    }
}

VncSession::VncSession(QObject* parent) : RemoteSession(parent) {}

VncSession::~VncSession()
{
    stop();
}

void VncSession::run(const DisplayTarget& target)
{
    rfbClientLog = log_nothing;
    rfbClientErr = log_error;
    last_error.clear();

    rfbClient* client = rfbGetClient(8, 3, 4);
    client->format.redShift = 16;  // 0x00RRGGBB in host order: QImage::Format_RGB32
    client->format.greenShift = 8;
    client->format.blueShift = 0;
    client->format.redMax = client->format.greenMax = client->format.blueMax = 255;
    client->serverHost = ::strdup(target.host.toUtf8().constData());
    client->serverPort = target.port;
    client->connectTimeout = connect_timeout_s;
    client->readTimeout = read_timeout_s;
    client->appData.shareDesktop = TRUE;
    client->appData.encodingsString = "copyrect zrle zlib hextile raw";
    client->canHandleNewFBSize = TRUE;
    client->MallocFrameBuffer = VncCallbacks::resize;
    client->GotFrameBufferUpdate = VncCallbacks::update;
    client->FinishedFrameBufferUpdate = VncCallbacks::finished;
    client->GotXCutText = VncCallbacks::cut_text;
    client->GetPassword = VncCallbacks::password;
    QByteArray ticket = target.ticket.toUtf8();
    rfbClientSetClientData(client, &tag_session, this);
    rfbClientSetClientData(client, &tag_password, ticket.data());

    if (!rfbInitClient(client, nullptr, nullptr)) {  // frees the client on failure
        ticket.fill('\0');
        const QString detail = QString::fromStdString(last_error);
        if (stop_requested()) return finish(DisconnectReason::user, {});
        if (detail.contains(QLatin1String("authentication failed"), Qt::CaseInsensitive) ||
            detail.contains(QLatin1String("Authentication failure"), Qt::CaseInsensitive)) {
            return finish(DisconnectReason::refused, QStringLiteral("The desktop refused the connection ticket."));
        }
        return finish(DisconnectReason::network,
                      QStringLiteral("Cannot connect to the desktop at %1:%2 (%3).")
                          .arg(target.host)
                          .arg(target.port)
                          .arg(detail.isEmpty() ? QStringLiteral("no answer") : detail));
    }
    ticket.fill('\0');
    adopt_socket(client->sock);
    set_connected();

    DisconnectReason reason = DisconnectReason::none;
    QString message;
    while (reason == DisconnectReason::none) {
        pollfd fds[2] = {{client->sock, POLLIN, 0}, {wake_fd(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            reason = DisconnectReason::protocol;
            message = QString::fromLocal8Bit(std::strerror(errno));
            break;
        }
        if (fds[1].revents & POLLIN) {
            if (stop_requested()) {
                reason = DisconnectReason::user;
                break;
            }
            for (const auto& input : take_input()) VncCallbacks::deliver(*this, client, input);
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            // one read may bring several messages: handle what libvncclient has buffered too
            do {
                if (!HandleRFBServerMessage(client)) {
                    reason = DisconnectReason::network;
                    message = QStringLiteral("The connection to the desktop was lost.");
                    break;
                }
            } while (client->buffered > 0);
        }
    }
    std::free(client->frameBuffer);  // ours (VncCallbacks::resize); rfbClientCleanup leaves it
    client->frameBuffer = nullptr;
    rfbClientCleanup(client);
    finish(reason, message);
}

}  // namespace vdi::thin_client::view
