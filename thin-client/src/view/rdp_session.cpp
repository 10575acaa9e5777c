// RDP through FreeRDP 2: connect, then wait on FreeRDP's event handles plus the session's eventfd
// (wrapped as a WinPR handle); EndPaint copies the GDI's invalid rectangles into the picture.
#include "vdi/thin_client/view/rdp_session.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include <QCryptographicHash>
#include <QSslCertificate>

#include <freerdp/addin.h>
#include <freerdp/client/channels.h>
#include <freerdp/client/cliprdr.h>
#include <freerdp/client/cmdline.h>
#include <freerdp/error.h>
#include <freerdp/event.h>
#include <freerdp/freerdp.h>
#include <freerdp/gdi/gdi.h>
#include <freerdp/input.h>
#include <freerdp/scancode.h>
#include <winpr/handle.h>
#include <winpr/synch.h>
#include <winpr/user.h>
#include <winpr/wlog.h>

namespace vdi::thin_client::view {

namespace {

constexpr unsigned connect_timeout_ms = 5000;
// The whole connection sequence, TCP to an active session: beyond this it is a failure.
constexpr auto activation_deadline = std::chrono::seconds(15);

// The RdpSession worker inside freerdp_connect on this thread, if any (Sleep below).
struct ConnectWait {
    rdpContext* context = nullptr;
    int wake_fd = -1;
    const std::function<bool()>* stop_requested = nullptr;
    std::chrono::steady_clock::time_point deadline;
};
thread_local ConnectWait* connect_wait = nullptr;

// The transport's descriptors: its "data already read and waiting" event and its socket, the first
// two of FreeRDP's event handles (the channels' events follow; they are not the connection's).
std::vector<pollfd> transport_fds(rdpContext* context)
{
    HANDLE handles[MAXIMUM_WAIT_OBJECTS];
    const DWORD count = std::min<DWORD>(freerdp_get_event_handles(context, handles, MAXIMUM_WAIT_OBJECTS), 2);
    std::vector<pollfd> fds;
    for (DWORD i = 0; i < count; ++i) {
        if (const int fd = GetEventFileDescriptor(handles[i]); fd >= 0) fds.push_back({fd, POLLIN, 0});
    }
    return fds;
}

struct Context {
    rdpContext base;  // first: FreeRDP allocates ContextSize bytes and hands out rdpContext*
    RdpSession* session;
};

// The TCP socket this process has open to `port` (FreeRDP does not expose its own): for the
// round trip figure and keepalive. -1 when none is found.
int find_socket_to(int port)
{
    int found = -1;
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) return -1;
    while (const dirent* entry = ::readdir(dir)) {
        const int fd = std::atoi(entry->d_name);
        if (fd <= 2) continue;
        sockaddr_storage peer{};
        socklen_t size = sizeof peer;
        if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &size) != 0) continue;
        int peer_port = 0;
        if (peer.ss_family == AF_INET) peer_port = ntohs(reinterpret_cast<sockaddr_in*>(&peer)->sin_port);
        if (peer.ss_family == AF_INET6) peer_port = ntohs(reinterpret_cast<sockaddr_in6*>(&peer)->sin6_port);
        if (peer_port == port) found = std::max(found, fd);
    }
    ::closedir(dir);
    return found;
}


}  // namespace

}  // namespace vdi::thin_client::view

// FreeRDP 2's connection sequence (rdp_client_connect in libfreerdp2 2.11) is a polling loop:
// check the socket, Sleep(100), check again, until the session is active. Every answer of the
// server (MCS connect, attach user, each channel join, licensing, finalization) therefore waits
// out the rest of a 100 ms nap: about 600 ms per connect and reconnect (docs/thin-client.md).
// libfreerdp2 calls WinPR's Sleep through its PLT, so this definition in the program takes its
// place. On an RdpSession worker inside freerdp_connect it returns as soon as the transport has
// data (never later than asked), and ends the connection at once when stop() is called or the
// activation deadline passes; on any other thread, and outside the connect, it is WinPR's Sleep.
VOID Sleep(DWORD dwMilliseconds)
{
    using namespace vdi::thin_client::view;
    ConnectWait* wait = connect_wait;
    if (wait == nullptr) {
        ::usleep(static_cast<useconds_t>(dwMilliseconds) * 1000);
        return;
    }
    std::vector<pollfd> fds = transport_fds(wait->context);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(wait->deadline - std::chrono::steady_clock::now());
    const bool give_up = (*wait->stop_requested)() || left.count() <= 0;
    if (give_up || fds.empty()) {
        if (give_up) {
            for (const auto& p : fds) ::shutdown(p.fd, SHUT_RDWR);  // the loop's next check fails
        } else {
            ::usleep(static_cast<useconds_t>(dwMilliseconds) * 1000);
        }
        return;
    }
    fds.push_back({wait->wake_fd, POLLIN, 0});
    const auto timeout = std::min<long long>(dwMilliseconds, left.count());
    (void)::poll(fds.data(), fds.size(), static_cast<int>(timeout));
    if ((*wait->stop_requested)()) {
        for (std::size_t i = 0; i + 1 < fds.size(); ++i) ::shutdown(fds[i].fd, SHUT_RDWR);
    } else if (fds.back().revents & POLLIN) {
        // not a stop: nothing else is queued before the session is up (input is dropped until
        // then), so clear it rather than wake at once on every nap
        std::uint64_t pending = 0;
        (void)!::read(wait->wake_fd, &pending, sizeof pending);
    }
}

namespace vdi::thin_client::view {

struct RdpCallbacks {
    static RdpSession* session_of(rdpContext* context) { return reinterpret_cast<Context*>(context)->session; }

    static BOOL pre_connect(freerdp* instance)
    {
        // the clipboard channel (cliprdr, built into libfreerdp-client2), and nothing else
        PubSub_SubscribeChannelConnected(instance->context->pubSub, channel_connected);
        PubSub_SubscribeChannelDisconnected(instance->context->pubSub, channel_disconnected);
        return freerdp_client_load_addins(instance->context->channels, instance->settings);
    }

    static void channel_connected(void* context, ChannelConnectedEventArgs* e)
    {
        if (std::strcmp(e->name, CLIPRDR_SVC_CHANNEL_NAME) != 0) return;
        RdpSession* self = session_of(static_cast<rdpContext*>(context));
        auto* clipboard = static_cast<CliprdrClientContext*>(e->pInterface);
        clipboard->custom = self;
        clipboard->MonitorReady = monitor_ready;
        clipboard->ServerCapabilities = [](CliprdrClientContext*, const CLIPRDR_CAPABILITIES*) -> UINT { return CHANNEL_RC_OK; };
        clipboard->ServerFormatList = server_format_list;
        clipboard->ServerFormatListResponse = [](CliprdrClientContext*, const CLIPRDR_FORMAT_LIST_RESPONSE*) -> UINT {
            return CHANNEL_RC_OK;
        };
        clipboard->ServerFormatDataRequest = server_format_data_request;
        clipboard->ServerFormatDataResponse = server_format_data_response;
        self->clipboard_ = clipboard;
        self->clipboard_ready_ = false;
    }

    static void channel_disconnected(void* context, ChannelDisconnectedEventArgs* e)
    {
        if (std::strcmp(e->name, CLIPRDR_SVC_CHANNEL_NAME) != 0) return;
        RdpSession* self = session_of(static_cast<rdpContext*>(context));
        self->clipboard_ = nullptr;
        self->clipboard_ready_ = false;
    }

    static RdpSession& of(CliprdrClientContext* clipboard) { return *static_cast<RdpSession*>(clipboard->custom); }

    // Our clipboard's formats: CF_UNICODETEXT when the terminal has text, none otherwise.
    static void announce(CliprdrClientContext* clipboard)
    {
        CLIPRDR_FORMAT format{CF_UNICODETEXT, nullptr};
        CLIPRDR_FORMAT_LIST list{};
        list.msgType = CB_FORMAT_LIST;
        list.numFormats = of(clipboard).local_clipboard_.isEmpty() ? 0 : 1;
        list.formats = list.numFormats > 0 ? &format : nullptr;
        clipboard->ClientFormatList(clipboard, &list);
    }

    static UINT monitor_ready(CliprdrClientContext* clipboard, const CLIPRDR_MONITOR_READY*)
    {
        CLIPRDR_GENERAL_CAPABILITY_SET general{};
        general.capabilitySetType = CB_CAPSTYPE_GENERAL;
        general.capabilitySetLength = CB_CAPSTYPE_GENERAL_LEN;
        general.version = CB_CAPS_VERSION_2;
        general.generalFlags = CB_USE_LONG_FORMAT_NAMES;
        CLIPRDR_CAPABILITIES capabilities{};
        capabilities.cCapabilitiesSets = 1;
        capabilities.capabilitySets = reinterpret_cast<CLIPRDR_CAPABILITY_SET*>(&general);
        clipboard->ClientCapabilities(clipboard, &capabilities);
        announce(clipboard);
        of(clipboard).clipboard_ready_ = true;
        return CHANNEL_RC_OK;
    }

    // The desktop copied something: fetch its text at once (the terminal's clipboard follows).
    static UINT server_format_list(CliprdrClientContext* clipboard, const CLIPRDR_FORMAT_LIST* list)
    {
        CLIPRDR_FORMAT_LIST_RESPONSE response{};
        response.msgType = CB_FORMAT_LIST_RESPONSE;
        response.msgFlags = CB_RESPONSE_OK;
        clipboard->ClientFormatListResponse(clipboard, &response);
        for (UINT32 i = 0; i < list->numFormats; ++i) {
            if (list->formats[i].formatId != CF_UNICODETEXT) continue;
            CLIPRDR_FORMAT_DATA_REQUEST request{};
            request.msgType = CB_FORMAT_DATA_REQUEST;
            request.dataLen = 4;
            request.requestedFormatId = CF_UNICODETEXT;
            return clipboard->ClientFormatDataRequest(clipboard, &request);
        }
        return CHANNEL_RC_OK;
    }

    static UINT server_format_data_response(CliprdrClientContext* clipboard, const CLIPRDR_FORMAT_DATA_RESPONSE* response)
    {
        if (!(response->msgFlags & CB_RESPONSE_OK) || response->requestedFormatData == nullptr) return CHANNEL_RC_OK;
        const auto* units = reinterpret_cast<const char16_t*>(response->requestedFormatData);
        qsizetype count = static_cast<qsizetype>(response->dataLen / 2);
        for (qsizetype i = 0; i < count; ++i) {
            if (units[i] == 0) {
                count = i;
                break;
            }
        }
        of(clipboard).clipboard_from_server(QString::fromUtf16(units, count));
        return CHANNEL_RC_OK;
    }

    // The desktop pastes: our text, as UTF-16 with its NUL.
    static UINT server_format_data_request(CliprdrClientContext* clipboard, const CLIPRDR_FORMAT_DATA_REQUEST* request)
    {
        const QString& text = of(clipboard).local_clipboard_;
        CLIPRDR_FORMAT_DATA_RESPONSE answer{};
        answer.msgType = CB_FORMAT_DATA_RESPONSE;
        const bool have = request->requestedFormatId == CF_UNICODETEXT && !text.isEmpty();
        answer.msgFlags = have ? CB_RESPONSE_OK : CB_RESPONSE_FAIL;
        answer.dataLen = have ? static_cast<UINT32>((text.size() + 1) * 2) : 0;
        answer.requestedFormatData = have ? reinterpret_cast<const BYTE*>(text.utf16()) : nullptr;
        return clipboard->ClientFormatDataResponse(clipboard, &answer);
    }

    static BOOL post_connect(freerdp* instance)
    {
        if (!gdi_init(instance, PIXEL_FORMAT_BGRX32)) return FALSE;
        instance->update->EndPaint = end_paint;
        instance->update->DesktopResize = desktop_resize;
        rdpGdi* gdi = instance->context->gdi;
        session_of(instance->context)->resize_picture(static_cast<int>(gdi->width), static_cast<int>(gdi->height));
        return TRUE;
    }

    static BOOL desktop_resize(rdpContext* context)
    {
        rdpSettings* settings = context->settings;
        if (!gdi_resize(context->gdi, freerdp_settings_get_uint32(settings, FreeRDP_DesktopWidth),
                        freerdp_settings_get_uint32(settings, FreeRDP_DesktopHeight))) {
            return FALSE;
        }
        session_of(context)->resize_picture(static_cast<int>(context->gdi->width),
                                            static_cast<int>(context->gdi->height));
        return TRUE;
    }

    static BOOL end_paint(rdpContext* context)
    {
        rdpGdi* gdi = context->gdi;
        HGDI_WND hwnd = gdi->primary->hdc->hwnd;
        RdpSession* self = session_of(context);
        for (INT32 i = 0; i < hwnd->ninvalid; ++i) {
            const GDI_RGN& r = hwnd->cinvalid[i];
            const QRect rect(r.x, r.y, r.w, r.h);
            self->paint(
                [&](QImage& picture) {
                    const QRect clipped = rect.intersected(picture.rect())
                                              .intersected(QRect(0, 0, static_cast<int>(gdi->width),
                                                                 static_cast<int>(gdi->height)));
                    for (int row = clipped.top(); row <= clipped.bottom(); ++row) {
                        std::memcpy(picture.scanLine(row) + clipped.left() * 4,
                                    gdi->primary_buffer + row * gdi->stride + clipped.left() * 4,
                                    static_cast<std::size_t>(clipped.width()) * 4);
                    }
                },
                rect);
        }
        hwnd->invalid->null = TRUE;
        hwnd->ninvalid = 0;
        self->frame_done();
        return TRUE;
    }

    // The desktop's certificate, as PEM: this program decides (ExternalCertificateManagement), so
    // FreeRDP neither loads the system's CA store nor reads or writes ~/.config/freerdp/known_hosts2
    // for it (about 60 ms of every connect). Accepted when its SHA-256 (DER) is the one announced,
    // or, with none announced, when any is accepted (remote_session.h says why that is safe).
    static int verify_certificate(freerdp* instance, const BYTE* pem, size_t length, const char*, UINT16, DWORD)
    {
        RdpSession* self = session_of(instance->context);
        self->set_handshake_done();  // TLS is up; the ticket goes out in the client info next
        if (self->expected_sha256_.isEmpty() && self->accept_any_) return 1;
        const QSslCertificate certificate(QByteArray(reinterpret_cast<const char*>(pem), static_cast<qsizetype>(length)),
                                          QSsl::Pem);
        if (!self->expected_sha256_.isEmpty() && !certificate.isNull() &&
            certificate.digest(QCryptographicHash::Sha256) == self->expected_sha256_) {
            return 1;
        }
        self->certificate_rejected_ = true;
        return 0;
    }

    static void deliver(RdpSession& self, freerdp* instance, const RemoteSession::Input& input)
    {
        rdpInput* in = instance->input;
        using Kind = RemoteSession::Input::Kind;
        switch (input.kind) {
        case Kind::key:
            if (input.key.scancode != 0) {
                freerdp_input_send_keyboard_event_ex(in, input.key.down ? TRUE : FALSE,
                                                     MAKE_RDP_SCANCODE(input.key.scancode, input.key.extended));
            }
            break;
        case Kind::pointer: {
            const auto x = static_cast<UINT16>(std::max(input.x, 0));
            const auto y = static_cast<UINT16>(std::max(input.y, 0));
            freerdp_input_send_mouse_event(in, PTR_FLAGS_MOVE, x, y);
            // RFB mask (1 left, 2 middle, 4 right) to RDP's buttons, one event per change
            const std::pair<int, UINT16> buttons[] = {{1, PTR_FLAGS_BUTTON1}, {2, PTR_FLAGS_BUTTON3},
                                                      {4, PTR_FLAGS_BUTTON2}};
            for (const auto& [mask, flag] : buttons) {
                const bool was = self.buttons_ & mask, is = input.buttons & mask;
                if (was != is) freerdp_input_send_mouse_event(in, static_cast<UINT16>(flag | (is ? PTR_FLAGS_DOWN : 0)), x, y);
            }
            self.buttons_ = input.buttons;
            break;
        }
        case Kind::wheel: {
            const auto x = static_cast<UINT16>(std::max(input.x, 0));
            const auto y = static_cast<UINT16>(std::max(input.y, 0));
            for (int i = 0; i < std::abs(input.steps); ++i) {
                const UINT16 flags = input.steps > 0 ? static_cast<UINT16>(PTR_FLAGS_WHEEL | 0x0078)
                                                     : static_cast<UINT16>(PTR_FLAGS_WHEEL | PTR_FLAGS_WHEEL_NEGATIVE | 0x0088);
                freerdp_input_send_mouse_event(in, flags, x, y);
            }
            break;
        }
        case Kind::clipboard:
            self.local_clipboard_ = input.text;
            if (self.clipboard_ != nullptr && self.clipboard_ready_) {
                announce(static_cast<CliprdrClientContext*>(self.clipboard_));
            }
            break;
        case Kind::ctrl_alt_del:
            freerdp_input_send_keyboard_event_ex(in, TRUE, RDP_SCANCODE_LCONTROL);
            freerdp_input_send_keyboard_event_ex(in, TRUE, RDP_SCANCODE_LMENU);
            freerdp_input_send_keyboard_event_ex(in, TRUE, RDP_SCANCODE_DELETE);
            freerdp_input_send_keyboard_event_ex(in, FALSE, RDP_SCANCODE_DELETE);
            freerdp_input_send_keyboard_event_ex(in, FALSE, RDP_SCANCODE_LMENU);
            freerdp_input_send_keyboard_event_ex(in, FALSE, RDP_SCANCODE_LCONTROL);
            break;
        }
    }
};

RdpSession::RdpSession(QObject* parent) : RemoteSession(parent) {}

RdpSession::~RdpSession()
{
    stop();
}

namespace {

// What an ended connection was, from FreeRDP's last error and the server's error info.
DisconnectReason classify(freerdp* instance, bool certificate_rejected, QString* message)
{
    const UINT32 info = freerdp_error_info(instance);
    const UINT32 error = freerdp_get_last_error(instance->context);
    if (certificate_rejected) {
        *message = QStringLiteral("The desktop's certificate is not the one the broker announced.");
        return DisconnectReason::certificate;
    }
    if (info == ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES || error == FREERDP_ERROR_AUTHENTICATION_FAILED ||
        error == FREERDP_ERROR_CONNECT_LOGON_FAILURE) {
        *message = QStringLiteral("The desktop refused the connection ticket.");
        return DisconnectReason::refused;
    }
    if (info == ERRINFO_LOGOFF_BY_USER || info == ERRINFO_RPC_INITIATED_DISCONNECT ||
        info == ERRINFO_RPC_INITIATED_LOGOFF || info == ERRINFO_RPC_INITIATED_DISCONNECT_BY_USER) {
        *message = QStringLiteral("The desktop ended the session.");
        return DisconnectReason::closed_by_server;
    }
    const char* text = freerdp_get_last_error_string(error);
    *message = QStringLiteral("The connection to the desktop was lost (%1).")
                   .arg(text != nullptr ? QString::fromUtf8(text) : QStringLiteral("no answer"));
    return DisconnectReason::network;
}

}  // namespace

void RdpSession::run(const DisplayTarget& target)
{
    WLog_SetLogLevel(WLog_GetRoot(), WLOG_OFF);
    // the built-in channels (cliprdr) come from libfreerdp-client2 itself
    static const bool addins = freerdp_register_addin_provider(freerdp_channels_load_static_addin_entry, 0) == 0;
    (void)addins;
    clipboard_ = nullptr;
    clipboard_ready_ = false;
    certificate_rejected_ = false;
    expected_sha256_ = target.certificate_sha256;
    accept_any_ = target.accept_any_certificate;
    buttons_ = 0;

    freerdp* instance = freerdp_new();
    if (instance == nullptr) return finish(DisconnectReason::protocol, QStringLiteral("Out of memory."));
    instance->ContextSize = sizeof(Context);
    instance->PreConnect = RdpCallbacks::pre_connect;
    instance->PostConnect = RdpCallbacks::post_connect;
    instance->VerifyX509Certificate = RdpCallbacks::verify_certificate;
    if (!freerdp_context_new(instance)) {
        freerdp_free(instance);
        return finish(DisconnectReason::protocol, QStringLiteral("The RDP client could not start."));
    }
    reinterpret_cast<Context*>(instance->context)->session = this;
    rdpSettings* s = instance->settings;
    QByteArray ticket = target.ticket.toUtf8();
    freerdp_settings_set_string(s, FreeRDP_ServerHostname, target.host.toUtf8().constData());
    freerdp_settings_set_uint32(s, FreeRDP_ServerPort, static_cast<UINT32>(target.port));
    freerdp_settings_set_string(s, FreeRDP_Username,
                                (target.username.isEmpty() ? QStringLiteral("user") : target.username).toUtf8().constData());
    freerdp_settings_set_string(s, FreeRDP_Password, ticket.constData());
    ticket.fill('\0');
    freerdp_settings_set_bool(s, FreeRDP_RdpSecurity, FALSE);
    freerdp_settings_set_bool(s, FreeRDP_TlsSecurity, TRUE);
    freerdp_settings_set_bool(s, FreeRDP_NlaSecurity, FALSE);
    freerdp_settings_set_bool(s, FreeRDP_ExternalCertificateManagement, TRUE);
    freerdp_settings_set_bool(s, FreeRDP_RedirectClipboard, TRUE);
    freerdp_settings_set_bool(s, FreeRDP_ExtSecurity, FALSE);
    freerdp_settings_set_uint32(s, FreeRDP_ColorDepth, 32);
    freerdp_settings_set_bool(s, FreeRDP_SoftwareGdi, TRUE);
    freerdp_settings_set_uint32(s, FreeRDP_DesktopWidth, 1024);
    freerdp_settings_set_uint32(s, FreeRDP_DesktopHeight, 768);
    freerdp_settings_set_bool(s, FreeRDP_AutoReconnectionEnabled, FALSE);  // the session machine reconnects
    freerdp_settings_set_bool(s, FreeRDP_TcpKeepAlive, TRUE);
    freerdp_settings_set_uint32(s, FreeRDP_TcpKeepAliveDelay, 2);
    freerdp_settings_set_uint32(s, FreeRDP_TcpKeepAliveInterval, 1);
    freerdp_settings_set_uint32(s, FreeRDP_TcpKeepAliveRetries, 3);
    // also FreeRDP's activation loop's limit, counted in 100 ms naps that Sleep above cuts short:
    // room for many more wake-ups than a connect needs (the deadline is activation_deadline), and
    // adopt_socket sets the 5 s user timeout on the socket once connected
    freerdp_settings_set_uint32(s, FreeRDP_TcpAckTimeout, 60000);
    freerdp_settings_set_uint32(s, FreeRDP_TcpConnectTimeout, connect_timeout_ms);

    HANDLE wake = CreateFileDescriptorEventA(nullptr, FALSE, FALSE, wake_fd(), WINPR_FD_READ);
    const std::function<bool()> stopping = [this] { return stop_requested(); };
    ConnectWait wait{instance->context, wake_fd(), &stopping, std::chrono::steady_clock::now() + activation_deadline};
    connect_wait = &wait;
    const bool connected = freerdp_connect(instance) == TRUE;
    connect_wait = nullptr;
    DisconnectReason reason = DisconnectReason::none;
    QString message;
    if (!connected) {
        reason = stop_requested() ? DisconnectReason::user : classify(instance, certificate_rejected_, &message);
    } else {
        if (const int fd = find_socket_to(target.port); fd >= 0) adopt_socket(fd);
        set_connected();
    }
    while (reason == DisconnectReason::none) {
        HANDLE handles[MAXIMUM_WAIT_OBJECTS];
        DWORD count = freerdp_get_event_handles(instance->context, handles, MAXIMUM_WAIT_OBJECTS - 1);
        if (count == 0) {
            reason = DisconnectReason::protocol;
            break;
        }
        handles[count++] = wake;
        if (WaitForMultipleObjects(count, handles, FALSE, INFINITE) == WAIT_FAILED) {
            reason = DisconnectReason::protocol;
            message = QStringLiteral("Waiting for the desktop failed.");
            break;
        }
        if (WaitForSingleObject(wake, 0) == WAIT_OBJECT_0) {
            if (stop_requested()) {
                reason = DisconnectReason::user;
                break;
            }
            for (const auto& input : take_input()) RdpCallbacks::deliver(*this, instance, input);
        }
        if (!freerdp_check_event_handles(instance->context)) {
            reason = stop_requested() ? DisconnectReason::user : classify(instance, false, &message);
        }
    }
    if (connected) {
        freerdp_disconnect(instance);
        gdi_free(instance);
    }
    CloseHandle(wake);
    freerdp_context_free(instance);
    freerdp_free(instance);
    finish(reason, message);
}

}  // namespace vdi::thin_client::view
