// RDP server on FreeRDP's shadow library with a guest-framebuffer subsystem.
#include "vdi/hv/display/rdp_server.h"

#include <arpa/inet.h>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>
#include <freerdp/error.h>
#include <freerdp/freerdp.h>
#include <freerdp/input.h>
#include <freerdp/server/cliprdr.h>
#include <freerdp/server/shadow.h>
#include <winpr/user.h>
#include <winpr/wtsapi.h>
#include <winpr/synch.h>
#include <winpr/wlog.h>

#include "vdi/hv/devices/agent_channel.h"
#include "vdi/hv/devices/ps2_keymap.h"
#include "vdi/hv/display/clipboard_text.h"
#include "vdi/common/tls_certificate.h"
#include "vdi/hv/display/free_port.h"
#include "vdi/hv/display/rsa_check_cache.h"
#include "vdi/common/logging.h"

namespace vdi::hv {
namespace {

// The subsystem the library allocates through our New(); it reaches its RdpServer through this
// process-global (one RDP server per VMM process, as the library's entry point is global).
RdpServer* current_server = nullptr;

static_assert(RdpServer::ticket_refused_error == ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES);

struct GuestSubsystem {
    rdpShadowSubsystem base;  // first: the library casts between the two
};

std::uint32_t monitor_fill(MONITOR_DEF* monitors, std::uint32_t max)
{
    if (max < 1 || current_server == nullptr) {
        return 0;
    }
    const auto& fb = current_server->machine().framebuffer();
    monitors[0].left = 0;
    monitors[0].top = 0;
    monitors[0].right = static_cast<INT32>(fb.width());
    monitors[0].bottom = static_cast<INT32>(fb.height());
    monitors[0].flags = 1;
    return 1;
}

rdpShadowSubsystem* subsystem_new()
{
    auto* subsystem = static_cast<GuestSubsystem*>(std::calloc(1, sizeof(GuestSubsystem)));
    return subsystem != nullptr ? &subsystem->base : nullptr;
}

void subsystem_free(rdpShadowSubsystem* subsystem)
{
    std::free(subsystem);
}

int subsystem_init(rdpShadowSubsystem* subsystem)
{
    subsystem->captureFrameRate = 60;  // the encoders' frame clock: updates as fast as VNC's
    subsystem->numMonitors = static_cast<int>(monitor_fill(subsystem->monitors, 16));
    return subsystem->numMonitors > 0 ? 1 : -1;
}

int subsystem_noop(rdpShadowSubsystem*)
{
    return 1;
}

UINT32 enum_monitors(MONITOR_DEF* monitors, UINT32 max)
{
    return monitor_fill(monitors, max);
}

// The shadow library's own accept (shadow_client_accepted), wrapped so that the accept is timed.
psPeerAccepted library_peer_accepted = nullptr;

BOOL on_peer_accepted(freerdp_listener* listener, freerdp_peer* peer)
{
    if (current_server != nullptr) current_server->peer_accepted(peer);
    return library_peer_accepted(listener, peer);
}

int on_authenticate(rdpShadowSubsystem*, rdpShadowClient* client, const char*, const char*, const char* password)
{
    if (current_server != nullptr && password != nullptr && current_server->authenticate(client, password)) {
        return 1;
    }
    // Refused: say so before the library drops the connection, or a client cannot tell a refused
    // ticket from a network failure (and would retry it in a loop). The library calls us when the
    // client is in its finalization phase, where a Set Error Info PDU is read and kept as the
    // client's error (freerdp_error_info(), and xfreerdp's exit code 9).
    rdpRdp* rdp = client->context.rdp;
    freerdp_set_error_info(rdp, RdpServer::ticket_refused_error);
    freerdp_send_error_info(rdp);
    // Keep the connection open a moment before the library closes it: a client still sending its
    // finalization PDUs (xfreerdp does) would otherwise hit a reset on its next write and report
    // a broken pipe without ever reading the error. This runs on the refused client's own thread
    // and also slows down guessing.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    return -1;
}

BOOL on_keyboard(rdpShadowSubsystem*, rdpShadowClient*, UINT16 flags, UINT16 code)
{
    if (current_server != nullptr) current_server->keyboard(flags, code);
    return TRUE;
}

BOOL on_unicode(rdpShadowSubsystem*, rdpShadowClient*, UINT16, UINT16)
{
    return TRUE;  // unicode input has no PS/2 equivalent; clients fall back to scancodes
}

BOOL on_mouse(rdpShadowSubsystem*, rdpShadowClient*, UINT16 flags, UINT16 x, UINT16 y)
{
    if (current_server != nullptr) current_server->mouse(flags, x, y);
    return TRUE;
}

BOOL on_extended_mouse(rdpShadowSubsystem*, rdpShadowClient*, UINT16, UINT16, UINT16)
{
    return TRUE;
}

BOOL on_synchronize(rdpShadowSubsystem*, rdpShadowClient*, UINT32)
{
    return TRUE;
}

BOOL on_connect(rdpShadowSubsystem*, rdpShadowClient* client)
{
    if (current_server != nullptr) current_server->client_connected(client);
    return TRUE;
}

void on_disconnect(rdpShadowSubsystem*, rdpShadowClient* client)
{
    if (current_server != nullptr) current_server->client_disconnected(client);
}

int entry(RDP_SHADOW_ENTRY_POINTS* points)
{
    points->New = subsystem_new;
    points->Free = subsystem_free;
    points->Init = subsystem_init;
    points->Uninit = subsystem_noop;
    points->Start = subsystem_noop;
    points->Stop = subsystem_noop;
    points->EnumMonitors = enum_monitors;
    return 1;
}

}  // namespace

// One client's clipboard channel: FreeRDP's cliprdr server (its own thread reads the channel and
// calls back). Text only, as CF_UNICODETEXT (CF_TEXT accepted from older clients): the client's
// copied text is asked for when it announces it and goes to the guest agent; the guest's is
// announced to the client, which asks for it when the user pastes.
struct RdpServer::Clipboard {
    RdpServer* server = nullptr;
    CliprdrServerContext* context = nullptr;
    std::atomic<bool> ready{false};            // the client's capabilities arrived: announcements may go
    std::atomic<UINT32> requested_format{0};  // what we last asked the client for

    ~Clipboard()
    {
        if (context != nullptr) {
            context->Stop(context);
            cliprdr_server_context_free(context);
        }
    }

    static Clipboard& of(CliprdrServerContext* context) { return *static_cast<Clipboard*>(context->custom); }

    void announce()
    {
        CLIPRDR_FORMAT format{CF_UNICODETEXT, nullptr};
        CLIPRDR_FORMAT_LIST list{};
        list.msgType = CB_FORMAT_LIST;
        list.numFormats = 1;
        list.formats = &format;
        context->ServerFormatList(context, &list);
    }

    static UINT client_capabilities(CliprdrServerContext* context, const CLIPRDR_CAPABILITIES*)
    {
        Clipboard& self = of(context);
        self.ready = true;
        if (!self.server->guest_clipboard().empty()) self.announce();  // copied before the client came
        return CHANNEL_RC_OK;
    }

    static UINT client_format_list(CliprdrServerContext* context, const CLIPRDR_FORMAT_LIST* list)
    {
        CLIPRDR_FORMAT_LIST_RESPONSE response{};
        response.msgType = CB_FORMAT_LIST_RESPONSE;
        response.msgFlags = CB_RESPONSE_OK;
        context->ServerFormatListResponse(context, &response);
        UINT32 wanted = 0;
        for (UINT32 i = 0; i < list->numFormats; ++i) {
            const UINT32 id = list->formats[i].formatId;
            if (id == CF_UNICODETEXT) wanted = id;
            if (id == CF_TEXT && wanted == 0) wanted = id;
        }
        if (wanted != 0) {
            of(context).requested_format = wanted;
            CLIPRDR_FORMAT_DATA_REQUEST request{};
            request.msgType = CB_FORMAT_DATA_REQUEST;
            request.dataLen = 4;
            request.requestedFormatId = wanted;
            context->ServerFormatDataRequest(context, &request);
        }
        return CHANNEL_RC_OK;
    }

    static UINT client_format_data_response(CliprdrServerContext* context, const CLIPRDR_FORMAT_DATA_RESPONSE* response)
    {
        if (!(response->msgFlags & CB_RESPONSE_OK) || response->requestedFormatData == nullptr) return CHANNEL_RC_OK;
        const std::string_view data(reinterpret_cast<const char*>(response->requestedFormatData), response->dataLen);
        std::string text;
        if (of(context).requested_format == CF_UNICODETEXT) {
            text = utf16le_to_utf8(data);
        } else {
            text = latin1_to_utf8(data.substr(0, data.find('\0')));
        }
        of(context).server->clipboard_from_client(text);
        return CHANNEL_RC_OK;
    }

    static UINT client_format_data_request(CliprdrServerContext* context, const CLIPRDR_FORMAT_DATA_REQUEST* request)
    {
        const std::string text = of(context).server->guest_clipboard();
        std::string data;
        if (request->requestedFormatId == CF_UNICODETEXT) data = utf8_to_utf16le(text);
        if (request->requestedFormatId == CF_TEXT) data = utf8_to_latin1(text) + '\0';
        CLIPRDR_FORMAT_DATA_RESPONSE answer{};
        answer.msgType = CB_FORMAT_DATA_RESPONSE;
        answer.msgFlags = data.empty() ? CB_RESPONSE_FAIL : CB_RESPONSE_OK;
        answer.dataLen = static_cast<UINT32>(data.size());
        answer.requestedFormatData = reinterpret_cast<const BYTE*>(data.data());
        return context->ServerFormatDataResponse(context, &answer);
    }
};

RdpServer::RdpServer(Machine& machine, RdpConfig config) : machine_(machine), config_(std::move(config))
{
    if (current_server != nullptr) {
        throw HvError("only one RDP server per process (FreeRDP's shadow subsystem is process-global)");
    }
    current_server = this;
    WLog_SetLogLevel(WLog_GetRoot(), WLOG_OFF);
    vdi::ensure_certificate(config_.certificate, config_.private_key, "vdi desktop");
    if (config_.key_checked && !remember_checked_rsa_key(config_.private_key)) {
        current_server = nullptr;
        throw HvError("the RDP private key " + config_.private_key.string() + " is not an RSA key in PEM");
    }
    shadow_subsystem_set_entry(entry);
    server_ = shadow_server_new();
    if (server_ == nullptr) {
        current_server = nullptr;
        throw HvError("FreeRDP could not create a shadow server");
    }
    port_ = config_.port != 0 ? config_.port : free_tcp_port(config_.address);
    server_->port = static_cast<DWORD>(port_);
    server_->authentication = TRUE;
    server_->mayView = TRUE;
    server_->mayInteract = TRUE;
    server_->ipcSocket = strdup(("bind-address," + config_.address).c_str());
    // shadow_server_init (FreeRDP 2.11) puts its own certificate in place of any set before it:
    // ConfigPath/shadow/shadow.{crt,key}, made on first use. Its ConfigPath is the directory of
    // ours (not the user's ~/.config), and ours go in after it, below.
    std::free(server_->ConfigPath);
    server_->ConfigPath = strdup(config_.certificate.parent_path().empty() ? "." : config_.certificate.parent_path().c_str());
    freerdp_settings_set_bool(server_->settings, FreeRDP_RdpSecurity, FALSE);
    freerdp_settings_set_bool(server_->settings, FreeRDP_TlsSecurity, TRUE);
    freerdp_settings_set_bool(server_->settings, FreeRDP_NlaSecurity, FALSE);
    if (shadow_server_init(server_) < 0) {
        shadow_server_free(server_);
        current_server = nullptr;
        throw HvError("FreeRDP's shadow server failed to initialise (certificate or subsystem)");
    }
    std::free(server_->CertificateFile);
    std::free(server_->PrivateKeyFile);
    server_->CertificateFile = strdup(config_.certificate.c_str());
    server_->PrivateKeyFile = strdup(config_.private_key.c_str());
    // the library's accept, with ours in front (it set its own in shadow_server_init)
    library_peer_accepted = server_->listener->PeerAccepted;
    server_->listener->PeerAccepted = on_peer_accepted;
    rdpShadowSubsystem* subsystem = server_->subsystem;
    subsystem->Authenticate = on_authenticate;
    subsystem->KeyboardEvent = on_keyboard;
    subsystem->UnicodeKeyboardEvent = on_unicode;
    subsystem->MouseEvent = on_mouse;
    subsystem->ExtendedMouseEvent = on_extended_mouse;
    subsystem->SynchronizeEvent = on_synchronize;
    subsystem->ClientConnect = on_connect;
    subsystem->ClientDisconnect = on_disconnect;
    if (shadow_server_start(server_) < 0) {
        shadow_server_uninit(server_);
        shadow_server_free(server_);
        current_server = nullptr;
        throw HvError(fmt::format("RDP server cannot listen on {}:{}", config_.address, port_));
    }
    damage_consumer_ = machine_.framebuffer().add_damage_consumer();
    pointer_x_ = static_cast<int>(machine_.framebuffer().width()) / 2;
    pointer_y_ = static_cast<int>(machine_.framebuffer().height()) / 2;
    // the guest's clipboard is announced from the capture thread (listeners run on the vCPU's)
    clipboard_listener_ = machine_.agent().add_clipboard_listener([this](const std::string& text) {
        std::lock_guard lock(clipboard_mutex_);
        guest_clipboard_ = text;
        guest_clipboard_new_ = true;
    });
}

RdpServer::~RdpServer()
{
    machine_.agent().remove_clipboard_listener(clipboard_listener_);
    stop_ = true;
    if (capture_.joinable()) {
        capture_.join();
    }
    shadow_server_stop(server_);
    shadow_server_uninit(server_);
    shadow_server_free(server_);
    current_server = nullptr;
}

void RdpServer::start()
{
    if (!capture_.joinable()) {
        capture_ = std::thread([this] { capture_loop(); });
    }
}

void RdpServer::set_ticket(const std::string& ticket, std::chrono::seconds ttl, std::int64_t trace_id)
{
    if (ticket.empty() || ticket.size() > 256) {
        throw HvError("an RDP ticket has 1 to 256 characters");
    }
    ticket_.set(ticket, ttl, trace_id);
}

void RdpServer::peer_accepted(freerdp_peer* peer)
{
    std::lock_guard lock(clients_mutex_);
    // peers the library dropped before they authenticated stay here: forget the old ones
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(accepted_, [&](const auto& entry) { return now - entry.second > std::chrono::minutes(2); });
    accepted_[peer] = now;
}

bool RdpServer::authenticate(rdpShadowClient* client, const char* password)
{
    const auto presented = std::chrono::steady_clock::now();
    auto accepted = presented;
    {
        std::lock_guard lock(clients_mutex_);
        if (const auto it = accepted_.find(client->context.peer); it != accepted_.end()) {
            accepted = it->second;
            accepted_.erase(it);
        }
    }
    const auto ticket = ticket_.take();
    if (!ticket) {
        logger("vmm.rdp")->warn("refused a client: no valid ticket");
        return false;
    }
    const bool ok = same_secret(password, ticket->secret);
    if (!ok) {
        logger("vmm.rdp")->warn("refused a client: wrong ticket");
    } else {
        traces_.authenticated(client, ticket->trace_id, accepted, presented, std::chrono::steady_clock::now());
        std::lock_guard lock(clients_mutex_);
        waiting_.push_back(client);
    }
    return ok;
}

void RdpServer::keyboard(std::uint16_t flags, std::uint16_t code)
{
    if (const auto key = key_for_set1(static_cast<std::uint8_t>(code & 0xff), flags & KBD_FLAGS_EXTENDED)) {
        machine_.input().key(key->code, key->extended, !(flags & KBD_FLAGS_RELEASE));
    }
}

void RdpServer::mouse(std::uint16_t flags, std::uint16_t x, std::uint16_t y)
{
    std::uint8_t buttons = buttons_;
    auto set = [&](std::uint16_t flag, std::uint8_t bit) {
        if (flags & flag) {
            buttons = (flags & PTR_FLAGS_DOWN) ? (buttons | bit) : (buttons & static_cast<std::uint8_t>(~bit));
        }
    };
    set(PTR_FLAGS_BUTTON1, 0x01);  // left
    set(PTR_FLAGS_BUTTON2, 0x02);  // right
    set(PTR_FLAGS_BUTTON3, 0x04);  // middle
    const int dx = (flags & PTR_FLAGS_MOVE) ? x - pointer_x_ : 0;
    const int dy = (flags & PTR_FLAGS_MOVE) ? y - pointer_y_ : 0;
    if (flags & PTR_FLAGS_MOVE) {
        pointer_x_ = x;
        pointer_y_ = y;
    }
    if (dx != 0 || dy != 0 || buttons != buttons_) {
        machine_.input().mouse_motion(dx, dy, buttons);
    }
    buttons_ = buttons;
}

void RdpServer::client_connected(rdp_shadow_client* client)
{
    ++clients_;
    full_refresh_ = true;
    if (!WTSVirtualChannelManagerIsChannelJoined(client->vcm, CLIPRDR_SVC_CHANNEL_NAME)) {
        return;  // a client without a clipboard channel (xfreerdp -clipboard, say)
    }
    auto clipboard = std::make_unique<Clipboard>();
    clipboard->server = this;
    clipboard->context = cliprdr_server_context_new(client->vcm);
    if (clipboard->context == nullptr) {
        logger("vmm.rdp")->warn("no clipboard for an RDP client: its cliprdr channel could not be set up");
        return;
    }
    CliprdrServerContext* c = clipboard->context;
    c->custom = clipboard.get();
    c->rdpcontext = &client->context;
    c->useLongFormatNames = TRUE;
    c->streamFileClipEnabled = FALSE;
    c->fileClipNoFilePaths = TRUE;
    c->canLockClipData = FALSE;
    c->ClientCapabilities = Clipboard::client_capabilities;
    c->ClientFormatList = Clipboard::client_format_list;
    c->ClientFormatDataRequest = Clipboard::client_format_data_request;
    c->ClientFormatDataResponse = Clipboard::client_format_data_response;
    // nothing to do for these: no file lists, no locks, no temporary directory
    c->ClientFormatListResponse = [](CliprdrServerContext*, const CLIPRDR_FORMAT_LIST_RESPONSE*) -> UINT { return CHANNEL_RC_OK; };
    c->TempDirectory = [](CliprdrServerContext*, const CLIPRDR_TEMP_DIRECTORY*) -> UINT { return CHANNEL_RC_OK; };
    c->ClientLockClipboardData = [](CliprdrServerContext*, const CLIPRDR_LOCK_CLIPBOARD_DATA*) -> UINT { return CHANNEL_RC_OK; };
    c->ClientUnlockClipboardData = [](CliprdrServerContext*, const CLIPRDR_UNLOCK_CLIPBOARD_DATA*) -> UINT { return CHANNEL_RC_OK; };
    if (c->Start(c) != CHANNEL_RC_OK) {
        logger("vmm.rdp")->warn("no clipboard for an RDP client: its cliprdr channel did not start");
        return;
    }
    std::lock_guard lock(clipboard_mutex_);
    clipboards_[client] = std::move(clipboard);
}

void RdpServer::client_disconnected(rdp_shadow_client* client)
{
    --clients_;
    {
        std::lock_guard lock(clients_mutex_);
        std::erase(waiting_, client);
        traces_.client_gone(client);
    }
    std::unique_ptr<Clipboard> gone;
    {
        std::lock_guard lock(clipboard_mutex_);
        if (auto it = clipboards_.find(client); it != clipboards_.end()) {
            gone = std::move(it->second);
            clipboards_.erase(it);
        }
    }
    // stopped outside the lock: its thread may be in a callback that takes it
}

void RdpServer::clipboard_from_client(const std::string& utf8)
{
    const std::string text = cut_utf8(utf8, AgentChannel::max_clipboard);
    try {
        machine_.agent().send_clipboard(text);
    } catch (const std::exception& e) {
        logger("vmm.rdp")->warn("the client's clipboard did not reach the desktop error=\"{}\"", e.what());
    }
}

std::string RdpServer::guest_clipboard() const
{
    std::lock_guard lock(clipboard_mutex_);
    return guest_clipboard_;
}

void RdpServer::announce_guest_clipboard()
{
    if (!guest_clipboard_new_.exchange(false)) {
        return;
    }
    std::lock_guard lock(clipboard_mutex_);
    for (auto& [client, clipboard] : clipboards_) {
        if (clipboard->ready) clipboard->announce();
    }
}

std::vector<rdp_shadow_client*> RdpServer::activated_waiting()
{
    std::vector<rdp_shadow_client*> out;
    std::lock_guard lock(clients_mutex_);
    for (rdpShadowClient* client : waiting_) {
        // (written by the client's thread when the client is activated; read atomically here)
        if (__atomic_load_n(&client->activated, __ATOMIC_ACQUIRE)) out.push_back(client);
    }
    return out;
}

void RdpServer::capture_loop()
{
    Framebuffer& fb = machine_.framebuffer();
    rdpShadowSubsystem* subsystem = server_->subsystem;
    while (!stop_) {
        std::this_thread::sleep_for(config_.frame_interval);  // the frame clock, not a wait for an event
        if (clients_.load() == 0) {
            continue;
        }
        announce_guest_clipboard();
        auto rects = fb.damage(machine_.vm(), damage_consumer_);
        if (full_refresh_.exchange(false)) {
            rects = {{0, 0, fb.width(), fb.height()}};
        }
        // A client's activation marks its whole screen to be sent with the next frame, but a frame
        // goes out only when something changed: a client activated since is sent one now (or a
        // still desktop would keep it waiting for its first picture until the guest drew)
        const auto activated = activated_waiting();
        if (rects.empty() && activated.empty()) {
            continue;
        }
        rdpShadowSurface* surface = server_->surface;
        EnterCriticalSection(&surface->lock);
        for (const auto& r : rects) {
            for (std::uint32_t y = r.y; y < r.y + r.height; ++y) {
                std::memcpy(surface->data + static_cast<std::size_t>(y) * surface->scanline + r.x * 4,
                            fb.pixels() + static_cast<std::size_t>(y) * fb.stride() + r.x * 4, r.width * 4);
            }
            RECTANGLE_16 rect{static_cast<UINT16>(r.x), static_cast<UINT16>(r.y), static_cast<UINT16>(r.x + r.width),
                              static_cast<UINT16>(r.y + r.height)};
            region16_union_rect(&surface->invalidRegion, &surface->invalidRegion, &rect);
        }
        LeaveCriticalSection(&surface->lock);
        // returns once every client's thread has handled the frame: sent it, when activated
        shadow_subsystem_frame_update(subsystem);
        // Those activated before the frame went out have had it. One activated while it was on its
        // way may have had it too (its thread may have handled the frame after its activation):
        // its trace is credited now, lest the client paint it and leave before the next frame, and
        // it is sent the next frame anyway.
        const auto sent = std::chrono::steady_clock::now();
        std::lock_guard lock(clients_mutex_);
        for (auto it = waiting_.begin(); it != waiting_.end();) {
            rdpShadowClient* client = *it;
            const bool had_it = std::find(activated.begin(), activated.end(), client) != activated.end();
            if (had_it || __atomic_load_n(&client->activated, __ATOMIC_ACQUIRE)) traces_.first_update_sent(client, sent);
            it = had_it ? waiting_.erase(it) : it + 1;
        }
    }
}

}  // namespace vdi::hv
