// VNC server on libvncserver, driven from one display thread.
#include "vdi/hv/display/vnc_server.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <poll.h>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gcrypt.h>
#include <rfb/rfb.h>

#include "vdi/hv/devices/ps2_keymap.h"
#include "vdi/hv/display/clipboard_text.h"
#include "vdi/hv/display/free_port.h"
#include "vdi/common/logging.h"

// libvncserver 0.9.14 (Debian 12) serves RFB and WebSockets (noVNC) on one port and tells them
// apart in webSocketsCheck: it waits up to 100 ms for the client's first bytes before sending its
// RFB version. An RFB client waits for the server to speak first, so every VNC connect and
// reconnect lost a tenth of a second (docs/display.md). The library calls this public function of
// its own through its PLT; this definition (in the display module, searched before the library,
// or in a test executable) takes its place: a client whose first bytes are there within a few
// milliseconds of the accept (a WebSocket client sends its request, or its TLS hello, as soon as
// it is connected) goes to the library's own check, which then answers at once; any other is a
// plain RFB client and gets the banner now.
namespace {
constexpr int websocket_grace_ms = 5;
}

extern "C" __attribute__((visibility("default"))) rfbBool webSocketsCheck(rfbClientPtr client)
{
    using Check = rfbBool (*)(rfbClientPtr);
    static const auto library_check = reinterpret_cast<Check>(::dlsym(RTLD_NEXT, "webSocketsCheck"));
    pollfd first_bytes{client->sock, POLLIN, 0};
    if (library_check != nullptr && ::poll(&first_bytes, 1, websocket_grace_ms) > 0) {
        return library_check(client);
    }
    return TRUE;
}

namespace vdi::hv {
namespace {

VncServer* server_of(rfbClientPtr client)
{
    return static_cast<VncServer*>(client->screen->screenData);
}

rfbBool on_password(rfbClientPtr client, const char* response, int length)
{
    return server_of(client)->check_password(client, response, length) ? TRUE : FALSE;
}

void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr client)
{
    server_of(client)->key_event(down != 0, keysym);
}

void on_pointer(int buttons, int x, int y, rfbClientPtr client)
{
    server_of(client)->pointer_event(buttons, x, y, client);
}

void on_client_gone(rfbClientPtr client)
{
    server_of(client)->client_gone(client);
}

void on_display_finished(rfbClientPtr client, int result)
{
    server_of(client)->update_sent(client, result != 0);
}

void on_cut_text(char* text, int length, rfbClientPtr client)
{
    server_of(client)->client_cut_text(latin1_to_utf8(std::string_view(text, static_cast<std::size_t>(length))));
}

void on_cut_text_utf8(char* text, int length, rfbClientPtr client)
{
    server_of(client)->client_cut_text(std::string(text, static_cast<std::size_t>(length)));
}

rfbNewClientAction on_new_client(rfbClientPtr client)
{
    client->clientGoneHook = on_client_gone;
    server_of(client)->client_connected(client);
    return RFB_CLIENT_ACCEPT;
}

// libvncserver logs through these; keep them quiet and out of stdout
void quiet_log(const char*, ...) {}

}  // namespace

VncServer::VncServer(Machine& machine, VncConfig config) : machine_(machine), config_(std::move(config))
{
    rfbLog = quiet_log;
    rfbErr = quiet_log;
    // libvncserver's DES (VNC authentication) is libgcrypt's, which, left uninitialised, writes
    // a warning to syslog on first use: a connect() to /dev/log that the sandbox (rightly)
    // kills the VMM for. Initialise it here and use it once, before the sandbox closes.
    if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P) == 0) {
        gcry_check_version(nullptr);
        gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
        gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    }
    unsigned char warm_up[CHALLENGESIZE] = {};
    char warm_up_key[9] = "warm-up";
    rfbEncryptBytes(warm_up, warm_up_key);
    Framebuffer& fb = machine_.framebuffer();
    int argc = 0;
    screen_ = rfbGetScreen(&argc, nullptr, static_cast<int>(fb.width()), static_cast<int>(fb.height()), 8, 3, 4);
    if (screen_ == nullptr) {
        throw HvError("libvncserver could not create a screen");
    }
    screen_->screenData = this;
    screen_->desktopName = "vdi desktop";
    // zero copy: the library reads the guest's framebuffer memory directly (XRGB8888 LE)
    screen_->frameBuffer = reinterpret_cast<char*>(const_cast<std::uint8_t*>(fb.pixels()));
    screen_->paddedWidthInBytes = static_cast<int>(fb.stride());
    screen_->serverFormat.redShift = 16;
    screen_->serverFormat.greenShift = 8;
    screen_->serverFormat.blueShift = 0;
    screen_->alwaysShared = TRUE;
    // the guest draws its own pointer: no server-side cursor painted over the pixels
    screen_->cursor = nullptr;
    screen_->autoPort = FALSE;
    screen_->port = config_.port;
    screen_->ipv6port = 0;
    screen_->httpPort = 0;
    screen_->httpDir = nullptr;
    if (inet_pton(AF_INET, config_.address.c_str(), &screen_->listenInterface) != 1) {
        rfbScreenCleanup(screen_);
        throw HvError("VNC listen address " + config_.address + " is not an IPv4 address");
    }
    // VNC authentication is offered only while authPasswdData is non-NULL; the check is ours
    screen_->authPasswdData = this;
    screen_->passwordCheck = on_password;
    screen_->kbdAddEvent = on_key;
    screen_->ptrAddEvent = on_pointer;
    screen_->newClientHook = on_new_client;
    screen_->displayFinishedHook = on_display_finished;
    screen_->setXCutText = on_cut_text;
    screen_->setXCutTextUTF8 = on_cut_text_utf8;  // clients with the extended clipboard
    // No deferral: the frame clock gathers the damage already, and a client's update request is
    // answered at once. (The previous user's name cannot be on it: the identity command that
    // takes a name away answers once the guest has drawn "nobody", docs/display.md.)
    screen_->deferUpdateTime = 0;
    // libvncserver does not listen on port 0: ask the kernel for a free port, then take it
    // (retrying should another process take it in between)
    for (int attempt = 0; attempt < 5 && port_ == 0; ++attempt) {
        screen_->port = config_.port != 0 ? config_.port : free_tcp_port(config_.address);
        rfbInitServer(screen_);
        if (screen_->listenSock >= 0) {
            port_ = screen_->port;
        } else if (config_.port != 0) {
            break;
        }
    }
    if (port_ == 0) {
        rfbScreenCleanup(screen_);
        throw HvError(fmt::format("VNC server cannot listen on {}:{}", config_.address, config_.port));
    }
    damage_consumer_ = fb.add_damage_consumer();
    pointer_x_ = static_cast<int>(fb.width()) / 2;
    pointer_y_ = static_cast<int>(fb.height()) / 2;
    // the guest's clipboard goes out from the display thread (libvncserver's own)
    clipboard_listener_ = machine_.agent().add_clipboard_listener([this](const std::string& text) {
        std::lock_guard lock(clipboard_mutex_);
        guest_clipboard_ = text;
    });
}

VncServer::~VncServer()
{
    machine_.agent().remove_clipboard_listener(clipboard_listener_);
    stop_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
    rfbShutdownServer(screen_, TRUE);
    rfbScreenCleanup(screen_);
}

void VncServer::start()
{
    if (!thread_.joinable()) {
        thread_ = std::thread([this] { serve(); });
    }
}

void VncServer::set_ticket(const std::string& ticket, std::chrono::seconds ttl, std::int64_t trace_id)
{
    if (ticket.empty() || ticket.size() > 8) {
        throw HvError("a VNC ticket has 1 to 8 characters (VNC authentication uses at most 8)");
    }
    ticket_.set(ticket, ttl, trace_id);
}

bool VncServer::check_password(rfbClientPtr client, const char* response, int length)
{
    const auto presented = std::chrono::steady_clock::now();
    const auto taken = ticket_.take();  // one attempt per ticket, right or wrong
    if (!taken) {
        logger("vmm.vnc")->warn("refused a client: no valid ticket");
        return false;
    }
    const std::string& ticket = taken->secret;
    unsigned char expected[CHALLENGESIZE];
    std::memcpy(expected, client->authChallenge, CHALLENGESIZE);
    char key[9] = {};
    std::memcpy(key, ticket.data(), ticket.size());
    rfbEncryptBytes(expected, key);
    const bool ok = length == CHALLENGESIZE &&
                    same_secret(std::string_view(reinterpret_cast<const char*>(expected), CHALLENGESIZE),
                                std::string_view(response, CHALLENGESIZE));
    if (!ok) {
        logger("vmm.vnc")->warn("refused a client: wrong ticket");
    } else {
        const auto accepted = accepted_.find(client);
        traces_.authenticated(client, taken->trace_id, accepted != accepted_.end() ? accepted->second : presented,
                              presented, std::chrono::steady_clock::now());
    }
    return ok;
}

void VncServer::key_event(bool down, std::uint32_t keysym)
{
    if (const auto key = key_for_keysym(keysym)) {
        machine_.input().key(key->code, key->extended, down);
    }
}

void VncServer::pointer_event(int buttons, int x, int y, rfbClientPtr client)
{
    // RFB buttons: 1 left, 2 middle, 4 right; PS/2: 1 left, 2 right, 4 middle
    const std::uint8_t ps2 = static_cast<std::uint8_t>((buttons & 1) | ((buttons & 4) ? 2 : 0) | ((buttons & 2) ? 4 : 0));
    machine_.input().mouse_motion(x - pointer_x_, y - pointer_y_, ps2);
    pointer_x_ = x;
    pointer_y_ = y;
    rfbDefaultPtrAddEvent(buttons, x, y, client);
}

void VncServer::client_cut_text(const std::string& utf8)
{
    const std::string text = cut_utf8(utf8, AgentChannel::max_clipboard);
    try {
        machine_.agent().send_clipboard(text);
    } catch (const std::exception& e) {
        logger("vmm.vnc")->warn("the client's clipboard did not reach the desktop error=\"{}\"", e.what());
    }
}

void VncServer::send_guest_clipboard()
{
    std::optional<std::string> text;
    {
        std::lock_guard lock(clipboard_mutex_);
        text.swap(guest_clipboard_);
    }
    if (!text || clients_.load() == 0) {
        return;
    }
    std::string utf8 = *text;
    std::string latin1 = utf8_to_latin1(utf8);
    rfbSendServerCutTextUTF8(screen_, utf8.data(), static_cast<int>(utf8.size()), latin1.data(),
                             static_cast<int>(latin1.size()));
}

void VncServer::mark_all_modified()
{
    mark_all_ = true;
}

long VncServer::bytes_sent() const
{
    long total = 0;
    rfbClientIteratorPtr it = rfbGetClientIterator(screen_);
    while (rfbClientPtr client = rfbClientIteratorNext(it)) {
        total += rfbStatGetSentBytes(client);
    }
    rfbReleaseClientIterator(it);
    return total;
}

void VncServer::client_connected(rfbClientPtr client)
{
    ++clients_;
    accepted_[client] = std::chrono::steady_clock::now();
}

void VncServer::client_gone(rfbClientPtr client)
{
    --clients_;
    accepted_.erase(client);
    traces_.client_gone(client);
}

// libvncserver calls this after every update it considered, also when it had nothing to send:
// the trace's first update is the first after which the client has been sent one
void VncServer::update_sent(rfbClientPtr client, bool ok)
{
    if (ok && traces_.waiting(client) && rfbStatGetMessageCountSent(client, rfbFramebufferUpdate) > 0) {
        traces_.first_update_sent(client, std::chrono::steady_clock::now());
    }
}

void VncServer::serve()
{
    Framebuffer& fb = machine_.framebuffer();
    auto next_frame = std::chrono::steady_clock::now();
    while (!stop_) {
        // idle without clients: wake rarely; with clients: often enough for 60 updates a second
        const bool watched = clients_.load() > 0;
        rfbProcessEvents(screen_, watched ? 4000 : 50000);
        send_guest_clipboard();
        const auto now = std::chrono::steady_clock::now();
        if (!watched || now < next_frame) {
            continue;
        }
        next_frame = now + config_.frame_interval;
        auto rects = fb.damage(machine_.vm(), damage_consumer_);
        if (mark_all_.exchange(false)) {
            rects = {{0, 0, fb.width(), fb.height()}};
        }
        for (const auto& r : rects) {
            rfbMarkRectAsModified(screen_, static_cast<int>(r.x), static_cast<int>(r.y), static_cast<int>(r.x + r.width),
                                  static_cast<int>(r.y + r.height));
        }
    }
}

}  // namespace vdi::hv
