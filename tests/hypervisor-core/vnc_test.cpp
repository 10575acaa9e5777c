// The VNC server with a real client (libvncclient, in-process) against the demo guest on KVM.
#include <arpa/inet.h>
#include <cstring>
#include <filesystem>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <rfb/rfbclient.h>

#include "vdi/common/unique_fd.h"
#include "vdi/hv/display/vnc_server.h"
#include "vdi/hv/kvm/kvm_hypervisor.h"
#include "vdi/hv/machine.h"
#include "vdi/test/demo_screen.h"
#include "vdi/test/guest_images.h"
#include "vdi/test/process.h"
#include "vdi/test/vnc_viewer.h"

using namespace vdi::hv;
using namespace std::chrono_literals;
using vdi::test::wait_until;
using vnc_viewer::Viewer;

namespace {

struct Desktop {
    std::filesystem::path image = std::filesystem::temp_directory_path() / ("vdi-vnc-" + std::to_string(::getpid()));
    KvmHypervisor hv;
    std::unique_ptr<Machine> machine;
    std::unique_ptr<VncServer> vnc;
    Desktop()
    {
        machine = std::make_unique<Machine>(hv, guest_images::demo_config());
        vnc = std::make_unique<VncServer>(*machine, VncConfig{});
        machine->start();
        vnc->start();
        REQUIRE(machine->agent().wait_ready(1, 60s));
    }
    ~Desktop()
    {
        vnc.reset();
        machine->request_stop("test over");
        machine->wait(10s);
    }
};

// A plain TCP connection to the VNC server on loopback (no RFB spoken yet).
vdi::UniqueFd connect_loopback(int port)
{
    vdi::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(fd);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    return fd;
}

}  // namespace

TEST_CASE("vnc: a client with the ticket sees the guest frame and types into it, and tickets are one-time",
          "[kvm][vnc]")
{
    Desktop desktop;
    const auto& fb = desktop.machine->framebuffer();
    REQUIRE(desktop.vnc->port() > 0);

    CHECK_FALSE(Viewer::connect(desktop.vnc->port(), "tk123456"));  // no ticket set yet
    desktop.vnc->set_ticket("tk123456", 60s);
    CHECK_FALSE(Viewer::connect(desktop.vnc->port(), "wrong123"));  // a wrong guess burns it
    CHECK_FALSE(Viewer::connect(desktop.vnc->port(), "tk123456"));
    CHECK_THROWS_AS(desktop.vnc->set_ticket("far-too-long", 60s), HvError);

    desktop.vnc->set_ticket("tk654321", 60s, 77);  // traced (logon timing)
    auto viewer = Viewer::connect(desktop.vnc->port(), "tk654321");
    REQUIRE(viewer);
    CHECK(viewer->client->width == static_cast<int>(fb.width()));
    CHECK(wait_until([&] { viewer->pump(50); return viewer->same_as(fb); }, 20s));
    // what the server saw of the traced client, once: accepted, ticket checked, first update
    // sent; the refused and untraced clients before it left no trace
    const auto traces = desktop.vnc->take_traces();
    REQUIRE(traces.size() == 1);
    CHECK(traces[0].trace_id == 77);
    CHECK(traces[0].protocol == "vnc");
    REQUIRE(traces[0].stages.size() == 3);
    std::int64_t end = 0;
    for (const auto& [name, start_us, duration_us] : traces[0].stages) {
        INFO(name);
        CHECK(start_us >= end);
        CHECK(duration_us >= 0);
        CHECK(duration_us < 10'000'000);
        end = start_us + duration_us;
    }
    CHECK(traces[0].stages[0].name == "handshake");
    CHECK(traces[0].stages[2].name == "first_update");
    CHECK(desktop.vnc->take_traces().empty());
    CHECK(desktop.vnc->clients() == 1);
    CHECK_FALSE(Viewer::connect(desktop.vnc->port(), "tk654321"));  // burnt

    // keys through VNC reach the guest, and its drawing reaches the client
    const demo_screen::Layout layout(fb.width(), fb.height());
    for (char c : std::string("vnc")) {
        SendKeyEvent(viewer->client, static_cast<std::uint32_t>(c), TRUE);
        SendKeyEvent(viewer->client, static_cast<std::uint32_t>(c), FALSE);
    }
    SendKeyEvent(viewer->client, 0xffe1, TRUE);  // Shift + 1 = '!'
    SendKeyEvent(viewer->client, '!', TRUE);
    SendKeyEvent(viewer->client, '!', FALSE);
    SendKeyEvent(viewer->client, 0xffe1, FALSE);
    CHECK(wait_until([&] {
        viewer->pump(20);
        return demo_screen::text_at(fb, layout.text_x, layout.text_y, "vnc!", demo_screen::text_color,
                                    demo_screen::window_color);
    }, 30s));
    CHECK(wait_until([&] { viewer->pump(50); return viewer->same_as(fb); }, 10s));

    // the pointer follows the client's
    SendPointerEvent(viewer->client, 100, 100, 0);
    CHECK(wait_until([&] { viewer->pump(20); return (fb.pixel(101, 102) & 0xffffff) == 0xffffff; }, 30s));
}

TEST_CASE("vnc: garbage and 100 clients connecting and dropping do not hurt the VMM or the guest",
          "[kvm][vnc][robustness]")
{
    Desktop desktop;
    const int port = desktop.vnc->port();
    for (int i = 0; i < 100; ++i) {
        const auto fd = connect_loopback(port);  // closed at the end of each round
        if (i % 3 == 1) {
            const char junk[] = "RFB 999.999\n\x01\x02garbage-garbage-garbage";
            [[maybe_unused]] auto n = ::write(fd.get(), junk, sizeof junk);
        } else if (i % 3 == 2) {
            const char truncated[] = "RFB 003.0";
            [[maybe_unused]] auto n = ::write(fd.get(), truncated, sizeof truncated - 1);
        }
    }
    CHECK(desktop.machine->state() == RunState::running);
    desktop.vnc->set_ticket("after100", 60s);
    auto viewer = Viewer::connect(port, "after100");
    REQUIRE(viewer);
    CHECK(wait_until([&] { viewer->pump(50); return viewer->same_as(desktop.machine->framebuffer()); }, 20s));
    REQUIRE(guest_images::type(desktop.machine->input(), "ok"));
    const demo_screen::Layout layout(desktop.machine->framebuffer().width(), desktop.machine->framebuffer().height());
    CHECK(wait_until([&] {
        return demo_screen::text_at(desktop.machine->framebuffer(), layout.text_x, layout.text_y, "ok",
                                    demo_screen::text_color, demo_screen::window_color);
    }, 30s));
}

TEST_CASE("vnc: a browser client (noVNC) upgrades to websockets on the same port", "[kvm][vnc][websocket]")
{
    Desktop desktop;
    auto socket = connect_loopback(desktop.vnc->port());
    const int fd = socket.get();
    const std::string upgrade = "GET /websockify HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                                "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n"
                                "Origin: http://127.0.0.1\r\n\r\n";
    REQUIRE(::write(fd, upgrade.data(), upgrade.size()) == static_cast<ssize_t>(upgrade.size()));
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string response;
    char buffer[1024];
    while (response.find("RFB 003.008") == std::string::npos) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        response.append(buffer, static_cast<std::size_t>(n));
    }
    socket.reset();
    CHECK_THAT(response, Catch::StartsWith("HTTP/1.1 101 Switching Protocols"));
    // RFC 6455's example key and accept value
    CHECK_THAT(response, Catch::Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    CHECK_THAT(response, Catch::Contains("RFB 003.008"));  // the RFB banner, in a websocket frame
}

TEST_CASE("vnc: clipboard text both ways (client cut text -> guest Ctrl+V, guest Ctrl+C -> server cut text)",
          "[kvm][vnc][clipboard]")
{
    Desktop desktop;
    const auto& fb = desktop.machine->framebuffer();
    const demo_screen::Layout layout(fb.width(), fb.height());
    desktop.vnc->set_ticket("clip1234", 60s);
    auto viewer = Viewer::connect(desktop.vnc->port(), "clip1234");
    REQUIRE(viewer);
    const auto ctrl = [&](char key) {
        SendKeyEvent(viewer->client, 0xffe3, TRUE);  // Control_L
        SendKeyEvent(viewer->client, static_cast<std::uint32_t>(key), TRUE);
        SendKeyEvent(viewer->client, static_cast<std::uint32_t>(key), FALSE);
        SendKeyEvent(viewer->client, 0xffe3, FALSE);
    };

    // an oversized clipboard is cut to the channel's limit, not refused or allowed to break it
    viewer->send_cut_text(std::string(100000, 'x'));
    viewer->send_cut_text("Paste=100% ok");
    viewer->pump(200);
    ctrl('v');
    CHECK(wait_until([&] {
        viewer->pump(20);
        return demo_screen::text_at(fb, layout.text_x, layout.text_y, "Paste=100% ok", demo_screen::text_color,
                                    demo_screen::window_color);
    }, 30s));

    // the guest's Ctrl+C reaches the client as server cut text (the text typed on right after the
    // paste also shows that Ctrl+V typed no 'v')
    viewer->type(" and more");
    CHECK(wait_until([&] {
        viewer->pump(20);
        return demo_screen::text_at(fb, layout.text_x, layout.text_y, "Paste=100% ok and more",
                                    demo_screen::text_color, demo_screen::window_color);
    }, 30s));
    ctrl('c');
    CHECK(wait_until([&] {
        viewer->pump(20);
        return viewer->server_cut_text == std::optional<std::string>("Paste=100% ok and more");
    }, 30s));
    CHECK(desktop.machine->state() == RunState::running);
}
