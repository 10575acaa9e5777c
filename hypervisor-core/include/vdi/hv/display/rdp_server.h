// The RDP server of a VM, on FreeRDP 2's shadow-server library with a subsystem of our own whose
// only monitor is the guest framebuffer. Damaged rows are copied into the shadow surface under
// its lock and announced with shadow_subsystem_frame_update (the library then encodes with
// RemoteFX, NSCodec, planar or interleaved, or GFX, as the client negotiates). TLS security with
// a per-host certificate, NLA off, and the one-time ticket checked in Authenticate. RDP
// scancodes (set 1) become PS/2 set-2 keys; mouse positions become relative packets. Clipboard
// text goes both ways over each client's cliprdr channel (CF_UNICODETEXT) to and from the guest
// agent, as VNC's cut text does.
// One RDP server per process: the library's subsystem entry point is process-global, which one
// VMM process per desktop fits.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "vdi/hv/display/display_server.h"
#include "vdi/hv/display/one_time_ticket.h"
#include "vdi/hv/machine.h"

struct rdp_shadow_server;
struct rdp_shadow_client;
struct rdp_freerdp_peer;

namespace vdi::hv {

struct RdpConfig {
    std::string address = "127.0.0.1";
    int port = 0;  // 0: any free port
    std::filesystem::path certificate;  // PEM; created (self-signed) with its key if missing
    std::filesystem::path private_key;
    // The key was checked by whoever gave it (the host agent): FreeRDP's per-connection check of
    // it is skipped (rsa_check_cache.h).
    bool key_checked = false;
    std::chrono::milliseconds frame_interval{16};
};

class RdpServer : public DisplayServer {
public:
    // The Set Error Info code a client refused for its ticket (wrong, expired, used or none set)
    // receives before the connection closes: ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES. FreeRDP
    // clients read it as freerdp_error_info() == 9 (last error 0x00010009); xfreerdp exits 9.
    static constexpr std::uint32_t ticket_refused_error = 0x00000009;

    RdpServer(Machine& machine, RdpConfig config);
    ~RdpServer() override;
    RdpServer(const RdpServer&) = delete;
    RdpServer& operator=(const RdpServer&) = delete;

    std::string protocol() const override { return "rdp"; }
    int port() const override { return port_; }
    using DisplayServer::set_ticket;
    void set_ticket(const std::string& ticket, std::chrono::seconds ttl, std::int64_t trace_id) override;
    std::vector<DisplayTrace> take_traces() override { return traces_.take(); }
    int clients() const override { return clients_.load(); }
    void start() override;
    // Sends the whole screen again, as a full-screen repaint would (benchmarks). Any thread.
    void mark_all_modified() { full_refresh_ = true; }

    // subsystem callbacks (and the listener's, for the accept)
    void peer_accepted(rdp_freerdp_peer* peer);
    bool authenticate(rdp_shadow_client* client, const char* password);
    void keyboard(std::uint16_t flags, std::uint16_t code);
    void mouse(std::uint16_t flags, std::uint16_t x, std::uint16_t y);
    void client_connected(rdp_shadow_client* client);
    void client_disconnected(rdp_shadow_client* client);
    Machine& machine() { return machine_; }

    // cliprdr, from a client's clipboard thread
    void clipboard_from_client(const std::string& utf8);
    std::string guest_clipboard() const;

private:
    struct Clipboard;  // one client's cliprdr channel (rdp_server.cpp)

    void capture_loop();
    void announce_guest_clipboard();
    // clients authenticated and now activated, which the next frame reaches (capture thread)
    std::vector<rdp_shadow_client*> activated_waiting();

    Machine& machine_;
    RdpConfig config_;
    rdp_shadow_server* server_ = nullptr;
    int port_ = 0;
    std::thread capture_;
    std::atomic<bool> stop_{false};
    std::atomic<int> clients_{0};
    std::atomic<bool> full_refresh_{true};
    OneTimeTicket ticket_;
    DisplayTraceLog traces_{"rdp"};
    std::mutex clients_mutex_;  // guards accepted_ and waiting_
    std::map<const rdp_freerdp_peer*, std::chrono::steady_clock::time_point> accepted_;  // until authenticated
    std::vector<rdp_shadow_client*> waiting_;  // authenticated, not yet sent a frame since activated
    int damage_consumer_ = 0;
    int pointer_x_ = 0, pointer_y_ = 0;
    std::uint8_t buttons_ = 0;

    mutable std::mutex clipboard_mutex_;  // guards clipboards_, guest_clipboard_
    std::map<rdp_shadow_client*, std::unique_ptr<Clipboard>> clipboards_;
    std::string guest_clipboard_;             // the desktop's last clipboard text
    std::atomic<bool> guest_clipboard_new_{false};
    int clipboard_listener_ = 0;
};

}  // namespace vdi::hv
