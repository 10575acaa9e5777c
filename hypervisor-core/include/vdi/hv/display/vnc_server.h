// The VNC (RFB) server of a VM, on libvncserver: zero-copy on the guest framebuffer (the
// library reads guest memory directly), damage from the framebuffer's dirty log at up to 60
// updates per second while a client is connected, VNC authentication against a one-time ticket
// (8 characters at most, a limit of the protocol), websockets on the same port (noVNC), no httpd.
// Keysyms become PS/2 set-2 key events; pointer positions become relative mouse packets.
// Clipboard text both ways: client cut text goes to the guest agent ("clipboard"), the guest's
// clipboard lines go to every client as server cut text (UTF-8 to clients with the extended
// clipboard, Latin-1 to the others).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "vdi/hv/display/display_server.h"
#include "vdi/hv/display/one_time_ticket.h"
#include "vdi/hv/machine.h"

struct _rfbScreenInfo;
struct _rfbClientRec;

namespace vdi::hv {

struct VncConfig {
    std::string address = "127.0.0.1";
    int port = 0;  // 0: any free port (see port())
    std::chrono::milliseconds frame_interval{16};
};

class VncServer : public DisplayServer {
public:
    // Binds the listening socket (so a sandbox entered afterwards needs no bind). HvError.
    VncServer(Machine& machine, VncConfig config);
    ~VncServer() override;
    VncServer(const VncServer&) = delete;
    VncServer& operator=(const VncServer&) = delete;

    std::string protocol() const override { return "vnc"; }
    int port() const override { return port_; }
    using DisplayServer::set_ticket;
    void set_ticket(const std::string& ticket, std::chrono::seconds ttl, std::int64_t trace_id) override;
    std::vector<DisplayTrace> take_traces() override { return traces_.take(); }
    int clients() const override { return clients_.load(); }
    void start() override;
    // Bytes sent to the connected clients so far (libvncserver's statistics); for benchmarks.
    long bytes_sent() const;
    // Marks the whole screen changed, as a full-screen repaint would (benchmarks). Any thread.
    void mark_all_modified();

    // libvncserver callbacks (C linkage trampolines call these)
    bool check_password(_rfbClientRec* client, const char* response, int length);
    void key_event(bool down, std::uint32_t keysym);
    void pointer_event(int buttons, int x, int y, _rfbClientRec* client);
    void client_gone(_rfbClientRec* client);
    void client_connected(_rfbClientRec* client);
    void update_sent(_rfbClientRec* client, bool ok);
    // A client's clipboard (UTF-8), passed to the guest agent (cut to its limit). Display thread.
    void client_cut_text(const std::string& utf8);

private:
    void serve();
    void send_guest_clipboard();  // the guest's latest clipboard text to every client

    Machine& machine_;
    VncConfig config_;
    _rfbScreenInfo* screen_ = nullptr;
    int port_ = 0;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<int> clients_{0};
    std::atomic<bool> mark_all_{false};
    OneTimeTicket ticket_;
    DisplayTraceLog traces_{"vnc"};
    std::map<const _rfbClientRec*, std::chrono::steady_clock::time_point> accepted_;  // display thread
    int damage_consumer_ = 0;
    int pointer_x_ = 0, pointer_y_ = 0;  // where the guest's pointer should be (display thread)
    int clipboard_listener_ = 0;
    std::mutex clipboard_mutex_;  // guards guest_clipboard_ (set on the vCPU thread)
    std::optional<std::string> guest_clipboard_;  // not yet sent to the clients
};

}  // namespace vdi::hv
