// A FreeRDP client (library, software GDI) for tests and benchmarks: connects with TLS and a
// password, pumps server messages, compares its picture with a framebuffer.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <freerdp/freerdp.h>
#include <freerdp/gdi/gdi.h>
#include <freerdp/input.h>
#include <winpr/synch.h>
#include <winpr/wlog.h>

#include "vdi/hv/devices/framebuffer.h"

namespace vdi_test {

inline BOOL rdp_post_connect(freerdp* instance)
{
    return gdi_init(instance, PIXEL_FORMAT_BGRX32);
}

// The fingerprint of the last certificate a server presented ("aa:bb:..", SHA-256 of its DER).
inline std::string rdp_last_fingerprint;

inline DWORD rdp_accept_certificate(freerdp*, const char*, UINT16, const char*, const char*, const char*,
                                    const char* fingerprint, DWORD)
{
    rdp_last_fingerprint = fingerprint != nullptr ? fingerprint : "";
    return 2;  // accept for this session (a test's self-signed host certificate)
}

struct RdpClient {
    freerdp* instance = nullptr;
    bool connected = false;

    // `configure` may change the settings before connecting (codecs, for instance).
    RdpClient(int port, const std::string& password, const std::function<void(rdpSettings*)>& configure = {})
    {
        WLog_SetLogLevel(WLog_GetRoot(), WLOG_OFF);
        instance = freerdp_new();
        instance->PostConnect = rdp_post_connect;
        instance->VerifyCertificateEx = rdp_accept_certificate;
        instance->ContextSize = sizeof(rdpContext);
        if (!freerdp_context_new(instance)) {
            return;
        }
        rdpSettings* s = instance->settings;
        freerdp_settings_set_string(s, FreeRDP_ServerHostname, "127.0.0.1");
        freerdp_settings_set_uint32(s, FreeRDP_ServerPort, static_cast<UINT32>(port));
        freerdp_settings_set_string(s, FreeRDP_Username, "ruth");
        freerdp_settings_set_string(s, FreeRDP_Password, password.c_str());
        freerdp_settings_set_bool(s, FreeRDP_RdpSecurity, FALSE);
        freerdp_settings_set_bool(s, FreeRDP_TlsSecurity, TRUE);
        freerdp_settings_set_bool(s, FreeRDP_NlaSecurity, FALSE);
        freerdp_settings_set_uint32(s, FreeRDP_ColorDepth, 32);
        freerdp_settings_set_bool(s, FreeRDP_SoftwareGdi, TRUE);
        if (configure) configure(s);
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
    RdpClient(const RdpClient&) = delete;
    RdpClient& operator=(const RdpClient&) = delete;

    // Handles server messages for up to `ms`; false once the connection is gone.
    bool pump(int ms)
    {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        do {
            HANDLE handles[64];
            const DWORD count = freerdp_get_event_handles(instance->context, handles, 64);
            if (count == 0) return false;
            WaitForMultipleObjects(count, handles, FALSE, 5);
            if (!freerdp_check_event_handles(instance->context)) return false;
        } while (std::chrono::steady_clock::now() < until);
        return true;
    }
    // Pumps until the server closes the connection (true) or `ms` pass (false).
    bool wait_closed(int ms)
    {
        if (!connected) return true;
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (std::chrono::steady_clock::now() < until) {
            if (!pump(50)) return true;
        }
        return false;
    }
    // The server's Set Error Info code (ERRINFO_*), 0 if it sent none.
    std::uint32_t error_info() const { return freerdp_error_info(instance); }
    std::uint32_t pixel(std::uint32_t x, std::uint32_t y) const
    {
        rdpGdi* gdi = instance->context->gdi;
        return reinterpret_cast<const std::uint32_t*>(gdi->primary_buffer + y * gdi->stride)[x] & 0xffffff;
    }
    bool same_as(const vdi::hv::Framebuffer& fb) const
    {
        rdpGdi* gdi = instance->context->gdi;
        if (gdi == nullptr || gdi->width != static_cast<INT32>(fb.width())) return false;
        for (std::uint32_t y = 0; y < fb.height(); ++y) {
            for (std::uint32_t x = 0; x < fb.width(); ++x) {
                if (pixel(x, y) != (fb.pixel(x, y) & 0xffffff)) return false;
            }
        }
        return true;
    }
};

}  // namespace vdi_test
