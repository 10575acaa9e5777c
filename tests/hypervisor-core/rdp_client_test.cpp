// The RDP server with the FreeRDP client library in-process (software GDI): the pixels it
// receives equal the guest's, and scancodes it sends are typed into the guest.
#include <csignal>
#include <filesystem>

#include <catch2/catch.hpp>
#include <freerdp/freerdp.h>
#include <freerdp/gdi/gdi.h>
#include <freerdp/input.h>
#include <winpr/synch.h>
#include <winpr/wlog.h>

#include "demo_screen.h"
#include "guest_images.h"
#include "vdi/hv/display/rdp_server.h"
#include "vdi/hv/kvm/kvm_hypervisor.h"
#include "vdi/hv/machine.h"
#include "vdi/test/process.h"

using namespace vdi::hv;
using namespace std::chrono_literals;
using vdi::test::wait_until;
namespace fs = std::filesystem;

namespace {

BOOL post_connect(freerdp* instance)
{
    return gdi_init(instance, PIXEL_FORMAT_BGRX32);
}

DWORD accept_certificate(freerdp*, const char*, UINT16, const char*, const char*, const char*, const char*, DWORD)
{
    return 2;  // accept for this session (the test's self-signed host certificate)
}

struct RdpClient {
    freerdp* instance = nullptr;
    bool connected = false;

    RdpClient(int port, const std::string& password)
    {
        WLog_SetLogLevel(WLog_GetRoot(), WLOG_OFF);
        instance = freerdp_new();
        instance->PostConnect = post_connect;
        instance->VerifyCertificateEx = accept_certificate;
        instance->ContextSize = sizeof(rdpContext);
        REQUIRE(freerdp_context_new(instance));
        rdpSettings* s = instance->settings;
        freerdp_settings_set_string(s, FreeRDP_ServerHostname, "127.0.0.1");
        freerdp_settings_set_uint32(s, FreeRDP_ServerPort, static_cast<UINT32>(port));
        freerdp_settings_set_string(s, FreeRDP_Username, "ruth");
        freerdp_settings_set_string(s, FreeRDP_Password, password.c_str());
        freerdp_settings_set_bool(s, FreeRDP_RdpSecurity, FALSE);
        freerdp_settings_set_bool(s, FreeRDP_TlsSecurity, TRUE);
        freerdp_settings_set_bool(s, FreeRDP_NlaSecurity, FALSE);
        freerdp_settings_set_bool(s, FreeRDP_IgnoreCertificate, TRUE);
        freerdp_settings_set_uint32(s, FreeRDP_ColorDepth, 32);
        freerdp_settings_set_bool(s, FreeRDP_SoftwareGdi, TRUE);
        connected = freerdp_connect(instance);
    }
    ~RdpClient()
    {
        if (connected) {
            freerdp_disconnect(instance);
            gdi_free(instance);
        }
        freerdp_context_free(instance);
        freerdp_free(instance);
    }
    // Handles server messages for up to `ms`; false once the connection is gone.
    bool pump(int ms)
    {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (std::chrono::steady_clock::now() < until) {
            HANDLE handles[64];
            const DWORD count = freerdp_get_event_handles(instance->context, handles, 64);
            if (count == 0) return false;
            WaitForMultipleObjects(count, handles, FALSE, 20);
            if (!freerdp_check_event_handles(instance->context)) return false;
        }
        return true;
    }
    bool same_as(const Framebuffer& fb) const
    {
        rdpGdi* gdi = instance->context->gdi;
        if (gdi == nullptr || gdi->width != static_cast<INT32>(fb.width())) return false;
        for (std::uint32_t y = 0; y < fb.height(); ++y) {
            const auto* row = reinterpret_cast<const std::uint32_t*>(gdi->primary_buffer + y * gdi->stride);
            for (std::uint32_t x = 0; x < fb.width(); ++x) {
                if ((row[x] & 0xffffff) != (fb.pixel(x, y) & 0xffffff)) return false;
            }
        }
        return true;
    }
};

}  // namespace

TEST_CASE("rdp (FreeRDP library, gdi): pixels equal the guest's, scancodes are typed", "[kvm][rdp][rdp-client]")
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

    {
        rdp->set_ticket("a-wrong-guess-burns-it", 60s);
        RdpClient wrong(rdp->port(), "nope");
        CHECK((!wrong.connected || !wrong.pump(3000)));
    }
    rdp->set_ticket("gdi-ticket", 60s);
    RdpClient client(rdp->port(), "gdi-ticket");
    REQUIRE(client.connected);
    CHECK(wait_until([&] { return client.pump(50) && client.same_as(machine.framebuffer()); }, 30s));

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
