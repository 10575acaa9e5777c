// display_bench: the VNC server against the demo guest, and QEMU's VNC server side by side.
//
//   vnc_update_p50_ms / _p99_ms   key typed into the guest -> the glyph it draws is in the
//                                 VNC client's framebuffer (guest drawing time included)
//   bytes_per_full_frame.raw / zrle / tight     the first full frame of the demo desktop (VNC)
//   bytes_per_full_frame.rdp_planar / rdp_remotefx / rdp_nscodec
//                                 a full-screen RDP update, bytes on the wire (TLS included)
//   idle_cpu_pct_per_client       VMM CPU with one idle client minus without, over 10 s
//   qemu_idle_cpu_pct_per_client  the same for qemu-system-x86_64 -vnc (64 MiB; its guest a boot
//                                 sector echoing keys through the BIOS)
//   qemu_update_p50_ms            key -> that guest's echo -> the VNC client has it (QEMU's server)
//   rdp_update_p50_ms             the same through RDP (FreeRDP client library, software GDI)
//   full_frame_fps                full-screen VNC (tight) updates per second, forced server-side
//                                 (encode, transfer, decode; the guest does not redraw)
// Ends with: RESULT {json}
#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <arpa/inet.h>
#include <atomic>
#include <functional>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <thread>

#include <nlohmann/json.hpp>
#include <rfb/rfbclient.h>

#include "vdi/common/unique_fd.h"
#include "vdi/hv/display/rdp_server.h"
#include "vdi/hv/display/vnc_server.h"
#include "vdi/test/rdp_client.h"
#include "bench_support.h"
#include "vdi/hv/kvm/kvm_hypervisor.h"
#include "vdi/hv/machine.h"
#include "vdi/test/process.h"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

const char* password = "bench123";

char* give_password(rfbClient*)
{
    return strdup(password);
}

void quiet(const char*, ...) {}

rfbClient* connect_viewer(int port, const char* encodings, bool with_password)
{
    rfbClientLog = quiet;
    rfbClientErr = quiet;
    rfbClient* c = rfbGetClient(8, 3, 4);
    c->format.redShift = 16;
    c->format.greenShift = 8;
    c->format.blueShift = 0;
    c->appData.encodingsString = encodings;
    c->readTimeout = 5;  // seconds: a server that stops mid-message cannot hang the bench
    c->serverHost = strdup("127.0.0.1");
    c->serverPort = port;
    if (with_password) c->GetPassword = give_password;
    return rfbInitClient(c, nullptr, nullptr) ? c : nullptr;
}

void pump(rfbClient* c, int ms)
{
    const auto until = Clock::now() + std::chrono::milliseconds(ms);
    while (Clock::now() < until) {
        if (WaitForMessage(c, 1000) > 0 && !HandleRFBServerMessage(c)) return;
    }
}

bool same_as(rfbClient* c, const vdi::hv::Framebuffer& fb)
{
    for (std::uint32_t y = 0; y < fb.height(); ++y) {
        const auto* row = reinterpret_cast<const std::uint32_t*>(c->frameBuffer) + y * fb.width();
        for (std::uint32_t x = 0; x < fb.width(); ++x) {
            if ((row[x] & 0xffffff) != (fb.pixel(x, y) & 0xffffff)) return false;
        }
    }
    return true;
}

// CPU seconds of a process, or of one of its threads (`tid`).
double cpu_seconds(int pid, int tid = 0)
{
    std::ifstream stat(tid == 0 ? "/proc/" + std::to_string(pid) + "/stat"
                                : "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/stat");
    std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = content.rfind(')');
    std::istringstream fields(content.substr(close + 2));
    std::string field;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) utime = std::stol(field);
        if (i == 15) stime = std::stol(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Keys for 'a'..'z' in set 2 (the demo guest echoes them).
constexpr std::uint8_t letters[] = {0x1c, 0x32, 0x21, 0x23, 0x24, 0x2b, 0x34, 0x33, 0x43, 0x3b, 0x42, 0x4b, 0x3a,
                                    0x31, 0x44, 0x4d, 0x15, 0x2d, 0x1b, 0x2c, 0x3c, 0x2a, 0x1d, 0x22, 0x35, 0x1a};

// A TCP relay on 127.0.0.1 that counts the bytes a server sends to its one client: what an RDP
// session costs on the wire, TLS included, whatever the codec.
class CountingRelay {
public:
    explicit CountingRelay(int target_port) : target_port_(target_port)
    {
        listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
        ::listen(listener_.get(), 1);
        socklen_t length = sizeof address;
        ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~CountingRelay()
    {
        stop_ = true;
        ::shutdown(listener_.get(), SHUT_RDWR);  // ends the accept() in run()
        thread_.join();
    }
    int port() const { return port_; }
    long to_client() const { return to_client_.load(); }

private:
    void run()
    {
        const vdi::UniqueFd client_fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!client_fd) return;
        const vdi::UniqueFd server_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        const int client = client_fd.get();
        const int server = server_fd.get();
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = htons(static_cast<std::uint16_t>(target_port_));
        if (::connect(server, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            return;
        }
        char buffer[65536];
        while (!stop_) {
            pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
            if (::poll(fds, 2, 100) <= 0) continue;
            bool closed = false;
            for (int i = 0; i < 2 && !closed; ++i) {
                if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
                if (n <= 0) {
                    closed = true;
                    break;
                }
                const int to = i == 0 ? server : client;
                for (ssize_t done = 0; done < n;) {
                    const ssize_t w = ::write(to, buffer + done, static_cast<std::size_t>(n - done));
                    if (w <= 0) {
                        closed = true;
                        break;
                    }
                    done += w;
                }
                if (i == 1) to_client_ += n;
            }
            if (closed) break;
        }
    }

    int target_port_;
    vdi::UniqueFd listener_;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<long> to_client_{0};
    std::thread thread_;
};

// Waits until `count` has not moved for `quiet` (or `limit` passed); returns its value.
long settled(const std::function<long()>& count, const std::function<void()>& pump, std::chrono::milliseconds quiet,
             std::chrono::seconds limit)
{
    const auto end = Clock::now() + limit;
    long last = count();
    auto still_since = Clock::now();
    while (Clock::now() < end) {
        pump();
        const long now = count();
        if (now != last) {
            last = now;
            still_since = Clock::now();
        } else if (Clock::now() - still_since >= quiet) {
            break;
        }
    }
    return last;
}

}  // namespace

int main()
{
    nlohmann::json notes = nlohmann::json::array();
    vdi::hv::KvmHypervisor hv;
    vdi::hv::MachineConfig config;
    config.kernel = VDI_DEMO_GUEST;
    config.memory_mib = 64;
    vdi::hv::Machine machine(hv, config);
    vdi::hv::VncServer vnc(machine, vdi::hv::VncConfig{});
    machine.start();
    vnc.start();
    if (!machine.agent().wait_ready(1, 60s)) {
        std::cerr << "display_bench: the demo guest did not become ready\n";
        return 1;
    }
    const auto& fb = machine.framebuffer();

    // bytes of the first full frame per encoding
    nlohmann::json bytes_per_frame = nlohmann::json::object();
    for (const char* encoding : {"raw", "zrle", "tight"}) {
        vnc.set_ticket(password, 60s);
        const long before = vnc.bytes_sent();
        rfbClient* viewer = connect_viewer(vnc.port(), encoding, true);
        if (viewer == nullptr) {
            std::cerr << "display_bench: could not connect with " << encoding << "\n";
            return 1;
        }
        vdi::test::wait_until([&] { pump(viewer, 20); return same_as(viewer, fb); }, 30s);
        const long bytes = vnc.bytes_sent() - before;
        bytes_per_frame[encoding] = bytes;
        std::printf("full %ux%u frame, %-5s: %ld bytes (%.1f%% of raw pixels)\n", fb.width(), fb.height(), encoding,
                    bytes, 100.0 * double(bytes) / (double(fb.width()) * fb.height() * 4));
        rfbClientCleanup(viewer);
        vdi::test::wait_until([&] { return vnc.clients() == 0; }, 10s);
    }

    // idle CPU without and with one connected client
    const int self = static_cast<int>(::getpid());
    double t0 = cpu_seconds(self);
    std::this_thread::sleep_for(10s);  // the measurement window itself
    const double idle_alone = (cpu_seconds(self) - t0) / 10.0 * 100.0;
    vnc.set_ticket(password, 60s);
    rfbClient* viewer = connect_viewer(vnc.port(), "tight", true);
    vdi::test::wait_until([&] { pump(viewer, 20); return same_as(viewer, fb); }, 30s);
    t0 = cpu_seconds(self);
    const double client0 = cpu_seconds(self, self);  // the client runs on the main thread
    pump(viewer, 10000);  // the client stays responsive, the desktop stays idle
    const double idle_with_client = (cpu_seconds(self) - t0) / 10.0 * 100.0;
    const double client_cpu = (cpu_seconds(self, self) - client0) / 10.0 * 100.0;
    // the VMM's side only: every thread but the client's (vCPU, display server, ...)
    const double idle_watched = idle_with_client - client_cpu;
    std::printf("idle CPU: %.2f%% without a client, %.2f%% with one (VMM threads; the client itself used %.2f%%)\n",
                idle_alone, idle_watched, client_cpu);

    // update latency: a typed key until the client shows the guest's glyph
    std::vector<double> latency;
    const std::uint32_t text_x = (fb.width() - fb.width() * 3 / 5) / 2 + 8;
    const std::uint32_t text_y = (fb.height() - fb.height() / 2) / 2 + 30;
    for (int i = 0; i < 40; ++i) {
        const std::uint32_t cell_x = text_x + static_cast<std::uint32_t>(i) * 8;
        auto cell = [&] {
            std::vector<std::uint32_t> px;
            for (std::uint32_t y = text_y; y < text_y + 16; ++y)
                for (std::uint32_t x = cell_x; x < cell_x + 8; ++x)
                    px.push_back(reinterpret_cast<const std::uint32_t*>(viewer->frameBuffer)[y * fb.width() + x] & 0xffffff);
            return px;
        };
        const auto before = cell();
        const auto start = Clock::now();
        machine.input().key(letters[i % 26], false, true);
        machine.input().key(letters[i % 26], false, false);
        // (a tight loop: wait_until's 20 ms polling would add up to 20 ms to every figure)
        bool arrived = false;
        while (!arrived && Clock::now() - start < 10s) {
            pump(viewer, 1);
            arrived = cell() != before;
        }
        if (!arrived) {
            notes.push_back("a typed key did not reach the client within 10 s");
            break;
        }
        latency.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    std::printf("VNC update latency (key -> guest draws -> client has it): p50 %.1f ms, p99 %.1f ms over %zu\n",
                bench::percentile(latency, 50), bench::percentile(latency, 99), latency.size());
    // full-screen updates per second: the server marks the whole screen changed each time the
    // client has finished the previous update (encode, transfer, decode; no guest drawing)
    static int frames_done = 0;
    viewer->FinishedFrameBufferUpdate = [](rfbClient*) { ++frames_done; };
    pump(viewer, 200);
    frames_done = 0;
    const auto fps_start = Clock::now();
    while (Clock::now() - fps_start < 5s) {
        const int before = frames_done;
        vnc.mark_all_modified();
        vdi::test::wait_until([&] { pump(viewer, 1); return frames_done > before; }, 5s);
    }
    const double full_frame_fps = frames_done / std::chrono::duration<double>(Clock::now() - fps_start).count();
    std::printf("full-screen VNC updates (tight, 1024x768): %.1f per second\n", full_frame_fps);
    rfbClientCleanup(viewer);

    // the same through RDP (FreeRDP client library, software GDI), continuing on the same row
    std::vector<double> rdp_latency;
    nlohmann::json rdp_bytes = nlohmann::json::object();
    {
        const fs::path tls = fs::temp_directory_path() / ("display-bench-tls-" + std::to_string(::getpid()));
        vdi::hv::RdpConfig rdp_config;
        rdp_config.certificate = tls / "host.crt";
        rdp_config.private_key = tls / "host.key";
        vdi::hv::RdpServer rdp(machine, rdp_config);
        rdp.start();
        rdp.set_ticket("bench-rdp", 60s);
        vdi_test::RdpClient client(rdp.port(), "bench-rdp");
        if (!client.connected || !vdi::test::wait_until([&] { return client.pump(20) && client.same_as(fb); }, 30s)) {
            notes.push_back("the RDP client did not get the desktop");
        } else {
            static constexpr std::uint16_t set1_letters[] = {0x1e, 0x30, 0x2e, 0x20, 0x12, 0x21, 0x22, 0x23, 0x17,
                                                             0x24, 0x25, 0x26, 0x32, 0x31, 0x18, 0x19, 0x10, 0x13,
                                                             0x1f, 0x14, 0x16, 0x2f, 0x11, 0x2d, 0x15, 0x2c};
            for (int i = 0; i < 30; ++i) {
                const std::uint32_t cell_x = text_x + static_cast<std::uint32_t>(40 + i) * 8;
                auto cell = [&] {
                    std::vector<std::uint32_t> px;
                    for (std::uint32_t y = text_y; y < text_y + 16; ++y)
                        for (std::uint32_t x = cell_x; x < cell_x + 8; ++x) px.push_back(client.pixel(x, y));
                    return px;
                };
                const auto before = cell();
                const auto start = Clock::now();
                freerdp_input_send_keyboard_event(client.instance->input, KBD_FLAGS_DOWN, set1_letters[i % 26]);
                freerdp_input_send_keyboard_event(client.instance->input, KBD_FLAGS_RELEASE, set1_letters[i % 26]);
                bool arrived = false;
                while (!arrived && Clock::now() - start < 10s) {
                    client.pump(1);
                    arrived = cell() != before;
                }
                if (!arrived) {
                    notes.push_back("an RDP key did not come back within 10 s");
                    break;
                }
                rdp_latency.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
            }
            std::printf("RDP update latency (scancode -> guest draws -> client has it): p50 %.1f ms, p99 %.1f ms over %zu\n",
                        bench::percentile(rdp_latency, 50), bench::percentile(rdp_latency, 99), rdp_latency.size());
        }
        // bytes on the wire per full screen, per codec the client negotiates
        const std::vector<std::pair<const char*, std::function<void(rdpSettings*)>>> codecs = {
            {"planar", [](rdpSettings* st) {
                 freerdp_settings_set_bool(st, FreeRDP_RemoteFxCodec, FALSE);
                 freerdp_settings_set_bool(st, FreeRDP_NSCodec, FALSE);
             }},
            {"remotefx", [](rdpSettings* st) {
                 freerdp_settings_set_bool(st, FreeRDP_RemoteFxCodec, TRUE);
                 freerdp_settings_set_bool(st, FreeRDP_NSCodec, FALSE);
             }},
            {"nscodec", [](rdpSettings* st) {
                 freerdp_settings_set_bool(st, FreeRDP_RemoteFxCodec, FALSE);
                 freerdp_settings_set_bool(st, FreeRDP_NSCodec, TRUE);
             }},
        };
        for (const auto& [codec, configure] : codecs) {
            CountingRelay relay(rdp.port());
            rdp.set_ticket("bench-rdp", 60s);
            vdi_test::RdpClient codec_client(relay.port(), "bench-rdp", configure);
            // (RemoteFX is lossy: its picture is close to the guest's, not equal)
            const auto close_to_guest = [&] {
                rdpGdi* gdi = codec_client.instance->context->gdi;
                if (gdi == nullptr || gdi->width != static_cast<INT32>(fb.width())) return false;
                std::size_t off = 0;
                for (std::uint32_t y = 0; y < fb.height(); y += 4) {
                    for (std::uint32_t x = 0; x < fb.width(); x += 4) {
                        const std::uint32_t a = codec_client.pixel(x, y), b = fb.pixel(x, y);
                        for (int shift : {0, 8, 16}) {
                            if (std::abs(int((a >> shift) & 0xff) - int((b >> shift) & 0xff)) > 24) {
                                ++off;
                                break;
                            }
                        }
                    }
                }
                return off * 100 < (fb.width() / 4) * (fb.height() / 4);  // under 1% of sampled pixels off
            };
            if (!codec_client.connected ||
                !vdi::test::wait_until([&] { return codec_client.pump(20) && close_to_guest(); }, 30s)) {
                notes.push_back(std::string("RDP with ") + codec + ": no picture");
                continue;
            }
            const auto pump_client = [&] { codec_client.pump(5); };
            const long base = settled([&] { return relay.to_client(); }, pump_client, 500ms, 10s);
            rdp.mark_all_modified();
            const long after = settled([&] { return relay.to_client(); }, pump_client, 500ms, 10s);
            rdp_bytes[codec] = after - base;
            std::printf("RDP full 1024x768 screen, %-8s: %ld bytes on the wire (first picture incl. TLS handshake: %ld)\n",
                        codec, after - base, base);
        }
        fs::remove_all(tls);
    }

    // QEMU's VNC server, same guest memory size. Its guest is a boot sector that echoes every key
    // through the BIOS (int 16h waits with hlt, int 10h prints): idle like the demo guest, and
    // drawing a typed key like it, so the update latency compares too.
    nlohmann::json qemu_idle = nullptr;
    std::vector<double> qemu_latency;
    if (fs::exists("/usr/bin/qemu-system-x86_64")) {
        const fs::path boot = fs::temp_directory_path() / ("display-bench-echo-" + std::to_string(::getpid()) + ".img");
        {
            // start: mov ah,0 / int 16h / mov ah,0eh / mov bx,7 / int 10h / jmp start
            std::vector<unsigned char> sector = {0xb4, 0x00, 0xcd, 0x16, 0xb4, 0x0e, 0xbb, 0x07, 0x00, 0xcd, 0x10, 0xeb, 0xf3};
            sector.resize(510, 0);
            sector.push_back(0x55);
            sector.push_back(0xaa);
            std::ofstream(boot, std::ios::binary).write(reinterpret_cast<const char*>(sector.data()),
                                                        static_cast<std::streamsize>(sector.size()));
        }
        const int display = 40 + static_cast<int>(::getpid() % 40);
        const fs::path monitor = fs::temp_directory_path() / ("display-bench-qemu-" + std::to_string(::getpid()) + ".sock");
        vdi::test::ChildProcess qemu({"/usr/bin/qemu-system-x86_64", "-enable-kvm", "-cpu", "host,-arch-capabilities",
                                      "-m", "64", "-nodefaults", "-vga", "std", "-display", "none", "-drive",
                                      "file=" + boot.string() + ",format=raw,if=ide", "-boot", "c", "-monitor",
                                      "unix:" + monitor.string() + ",server=on,wait=off", "-vnc",
                                      "127.0.0.1:" + std::to_string(display)},
                                     "/dev/null");
        // connect once SeaBIOS has handed over to the boot sector (its text screen, 720x400)
        std::this_thread::sleep_for(4s);  // (QEMU gives no signal for the hand-over; a benchmark's set-up)
        rfbClient* q = nullptr;
        vdi::test::wait_until([&] { return (q = connect_viewer(5900 + display, "tight", false)) != nullptr; }, 30s);
        if (q != nullptr) {
            pump(q, 1000);
            const double q0 = cpu_seconds(qemu.pid());
            pump(q, 10000);
            const double with_client = (cpu_seconds(qemu.pid()) - q0) / 10.0 * 100.0;
            // update latency: a key until the echoed character is in the client's copy. Lit pixels
            // are counted above the bottom scan lines of each 16-line text cell, where the blinking
            // cursor is, so only a new character moves the count.
            const auto screen = [&] {
                const auto* px = reinterpret_cast<const std::uint32_t*>(q->frameBuffer);
                long lit = 0;
                for (int y = 0; y < q->height; ++y) {
                    if (y % 16 >= 12) continue;
                    for (int x = 0; x < q->width; ++x) lit += (px[y * q->width + x] & 0xffffff) != 0;
                }
                return lit;
            };
            // keys go in through QEMU's monitor, as ours go straight into the i8042 above
            vdi::UniqueFd hmp_fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
            const int hmp = hmp_fd.get();
            sockaddr_un hmp_address{};
            hmp_address.sun_family = AF_UNIX;
            std::strncpy(hmp_address.sun_path, monitor.c_str(), sizeof hmp_address.sun_path - 1);
            const bool monitor_ok = ::connect(hmp, reinterpret_cast<sockaddr*>(&hmp_address), sizeof hmp_address) == 0;
            if (!monitor_ok) notes.push_back("could not reach QEMU's monitor");
            for (int i = 0; monitor_ok && i < 30; ++i) {
                pump(q, 100);
                const auto before = screen();
                const auto start = Clock::now();
                const std::string command = std::string("sendkey ") + static_cast<char>('a' + i % 26) + "\n";
                if (::write(hmp, command.data(), command.size()) != static_cast<ssize_t>(command.size())) break;
                bool arrived = false;
                while (!arrived && Clock::now() - start < 10s) {
                    pump(q, 1);
                    arrived = screen() > before;
                }
                if (!arrived) {
                    notes.push_back("QEMU: a typed key did not show within 10 s");
                    break;
                }
                qemu_latency.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
            }
            hmp_fd.reset();
            if (!qemu_latency.empty()) {
                std::printf("QEMU -vnc update latency (key -> BIOS echo -> client has it): p50 %.1f ms, p99 %.1f ms over %zu\n",
                            bench::percentile(qemu_latency, 50), bench::percentile(qemu_latency, 99), qemu_latency.size());
            }
            rfbClientCleanup(q);
            std::this_thread::sleep_for(2s);  // measurement set-up: the viewer's departure settles
            const double q1 = cpu_seconds(qemu.pid());
            std::this_thread::sleep_for(10s);  // the measurement window itself
            const double alone = (cpu_seconds(qemu.pid()) - q1) / 10.0 * 100.0;
            qemu_idle = with_client - alone;
            std::printf("QEMU -vnc idle CPU: %.2f%% with a client, %.2f%% without\n", with_client, alone);
        } else {
            notes.push_back("could not connect to QEMU's VNC server");
        }
        fs::remove(boot);
        fs::remove(monitor);
    } else {
        notes.push_back("qemu-system-x86_64 not installed");
    }
    notes.push_back("full_frame_fps: VNC (tight) full-screen updates forced by the server, without guest drawing");
    notes.push_back("idle CPU per client: the VMM's threads only (the in-process client's thread is subtracted), as "
                    "QEMU's figure is its process only");
    machine.request_stop("bench over");
    machine.wait(10s);

    for (const auto& [codec, bytes] : rdp_bytes.items()) bytes_per_frame["rdp_" + codec] = bytes;
    nlohmann::json result = {{"vnc_update_p50_ms", bench::percentile(latency, 50)},
                             {"vnc_update_p99_ms", bench::percentile(latency, 99)},
                             {"rdp_update_p50_ms", rdp_latency.empty() ? nlohmann::json(nullptr)
                                                                       : nlohmann::json(bench::percentile(rdp_latency, 50))},
                             {"rdp_update_p99_ms", rdp_latency.empty() ? nlohmann::json(nullptr)
                                                                       : nlohmann::json(bench::percentile(rdp_latency, 99))},
                             {"full_frame_fps", full_frame_fps},
                             {"bytes_per_full_frame", bytes_per_frame},
                             {"idle_cpu_pct_per_client", idle_watched - idle_alone},
                             {"qemu_idle_cpu_pct_per_client", qemu_idle},
                             {"qemu_update_p50_ms", qemu_latency.empty() ? nlohmann::json(nullptr)
                                                                         : nlohmann::json(bench::percentile(qemu_latency, 50))},
                             {"update_latency_ratio_qemu_over_vdi",
                              qemu_latency.empty() ? nlohmann::json(nullptr)
                                                   : nlohmann::json(bench::percentile(qemu_latency, 50) /
                                                                    bench::percentile(latency, 50))},
                             {"idle_cpu_ratio_qemu_over_vdi",
                              qemu_idle.is_number() && idle_watched - idle_alone > 0
                                  ? nlohmann::json(qemu_idle.get<double>() / (idle_watched - idle_alone))
                                  : nlohmann::json(nullptr)},
                             {"notes", notes}};
    std::cout << "RESULT " << result.dump() << std::endl;
    return 0;
}
