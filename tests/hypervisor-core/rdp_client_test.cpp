// The RDP server with the FreeRDP client library in-process (software GDI): the pixels it
// receives equal the guest's, scancodes it sends are typed into the guest, and a refused ticket
// reaches it as an RDP error (Set Error Info), not as a dropped connection.
#include <csignal>
#include <filesystem>
#include <thread>

#include <catch2/catch.hpp>

#include "vdi/hv/display/rdp_server.h"
#include "vdi/hv/kvm/kvm_hypervisor.h"
#include "vdi/hv/machine.h"
#include "vdi/test/demo_screen.h"
#include "vdi/test/guest_images.h"
#include "vdi/test/process.h"
#include "vdi/test/rdp_client.h"

using namespace vdi::hv;
using namespace std::chrono_literals;
using vdi::test::wait_until;
namespace fs = std::filesystem;


TEST_CASE("rdp (FreeRDP library, gdi): refused tickets say so, pixels equal the guest's, scancodes are typed", "[kvm][rdp][rdp-client]")
{
    const fs::path dir = fs::temp_directory_path() / ("vdi-rdpc-" + std::to_string(::getpid()));
    KvmHypervisor hv;
    Machine machine(hv, guest_images::demo_config());
    RdpConfig config;
    config.certificate = dir / "host.crt";
    config.private_key = dir / "host.key";
    auto rdp = std::make_unique<RdpServer>(machine, config);
    machine.start();
    rdp->start();
    REQUIRE(machine.agent().wait_ready(1, 60s));

    // every refusal says "ticket refused" (an RDP error, not a dropped connection)
    auto refused = [&](const std::string& password) {
        vdi_test::RdpClient client(rdp->port(), password);
        INFO("connected=" << client.connected);
        REQUIRE(client.wait_closed(10000));
        CHECK(client.error_info() == RdpServer::ticket_refused_error);
        CHECK(freerdp_get_last_error(client.instance->context) ==
              static_cast<UINT32>(FREERDP_ERROR_SERVER_INSUFFICIENT_PRIVILEGES));
    };
    {
        rdp->set_ticket("a-wrong-guess-burns-it", 60s);
        refused("nope");
        refused("a-wrong-guess-burns-it");  // burnt by the wrong guess
        rdp->set_ticket("expired-ticket", 0s);
        std::this_thread::sleep_for(5ms);  // past its expiry (the ticket's own clock, no event to wait for)
        refused("expired-ticket");
        refused("no-ticket-set");
    }
    rdp->set_ticket("gdi-ticket", 60s);
    vdi_test::RdpClient client(rdp->port(), "gdi-ticket");
    REQUIRE(client.connected);
    {
        // the certificate it presents is the configured one (the host's), not FreeRDP's default
        const auto openssl = vdi::test::run_process(
            {"/usr/bin/openssl", "x509", "-in", config.certificate.string(), "-noout", "-fingerprint", "-sha256"}, "", 30s);
        REQUIRE(openssl.exit_code == 0);
        std::string expected = openssl.output.substr(openssl.output.find('=') + 1);
        expected.erase(expected.find_last_not_of("\r\n") + 1);
        std::string seen = vdi_test::rdp_last_fingerprint;
        for (auto* s : {&expected, &seen}) {
            for (char& c : *s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        CHECK(seen == expected);
    }
    CHECK(wait_until([&] { return client.pump(50) && client.same_as(machine.framebuffer()); }, 30s));
    CHECK(client.error_info() == 0);

    // "rdp" as set-1 scancodes: r=0x13 d=0x20 p=0x19
    for (UINT16 code : {0x13, 0x20, 0x19}) {
        freerdp_input_send_keyboard_event(client.instance->input, KBD_FLAGS_DOWN, code);
        freerdp_input_send_keyboard_event(client.instance->input, KBD_FLAGS_RELEASE, code);
    }
    const auto& fb = machine.framebuffer();
    const demo_screen::Layout layout(fb.width(), fb.height());
    CHECK(wait_until([&] {
        client.pump(20);
        return demo_screen::text_at(fb, layout.text_x, layout.text_y, "rdp", demo_screen::text_color,
                                    demo_screen::window_color);
    }, 30s));
    CHECK(wait_until([&] { return client.pump(50) && client.same_as(fb); }, 30s));

    rdp.reset();
    machine.request_stop("test over");
    machine.wait(10s);
    fs::remove_all(dir);
}
