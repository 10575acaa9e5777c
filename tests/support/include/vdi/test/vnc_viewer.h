// A libvncclient viewer for tests: connect with a (ticket) password, pump server messages, read
// the client's copy of the screen (XRGB8888, as the guest draws), type keys.
#pragma once

#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include <rfb/rfbclient.h>

#include "vdi/hv/devices/framebuffer.h"

namespace vnc_viewer {

inline char* give_password(rfbClient* client)
{
    return strdup(static_cast<const char*>(rfbClientGetClientData(client, reinterpret_cast<void*>(&give_password))));
}

inline void quiet(const char*, ...) {}

struct Viewer;
inline void got_cut_text(rfbClient* client, const char* text, int length);

// A libvncclient connection; nullptr from connect() when the server refused it.
struct Viewer {
    rfbClient* client = nullptr;
    std::string password;
    std::optional<std::string> server_cut_text;  // the last clipboard text the server sent (Latin-1)

    static std::unique_ptr<Viewer> connect(int port, const std::string& password)
    {
        rfbClientLog = quiet;
        rfbClientErr = quiet;
        auto viewer = std::make_unique<Viewer>();
        viewer->password = password;
        rfbClient* c = rfbGetClient(8, 3, 4);
        c->format.redShift = 16;  // XRGB8888, as the guest draws
        c->format.greenShift = 8;
        c->format.blueShift = 0;
        c->serverHost = strdup("127.0.0.1");
        c->serverPort = port;
        c->GetPassword = give_password;
        rfbClientSetClientData(c, reinterpret_cast<void*>(&give_password), viewer->password.data());
        c->GotXCutText = got_cut_text;
        rfbClientSetClientData(c, reinterpret_cast<void*>(&got_cut_text), viewer.get());
        if (!rfbInitClient(c, nullptr, nullptr)) {
            return nullptr;  // rfbInitClient frees the client on failure
        }
        viewer->client = c;
        return viewer;
    }
    ~Viewer()
    {
        if (client != nullptr) rfbClientCleanup(client);
    }
    // Sends the client's clipboard (Latin-1 cut text).
    void send_cut_text(const std::string& text)
    {
        SendClientCutText(client, const_cast<char*>(text.data()), static_cast<int>(text.size()));
    }
    // Processes server messages for up to `ms`.
    void pump(int ms)
    {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (std::chrono::steady_clock::now() < until) {
            const int n = WaitForMessage(client, 10000);
            if (n > 0 && !HandleRFBServerMessage(client)) return;
        }
    }
    bool same_as(const vdi::hv::Framebuffer& fb) const
    {
        for (std::uint32_t y = 0; y < fb.height(); ++y) {
            const auto* theirs = reinterpret_cast<const std::uint32_t*>(client->frameBuffer) + y * fb.width();
            for (std::uint32_t x = 0; x < fb.width(); ++x) {
                if ((theirs[x] & 0xffffff) != (fb.pixel(x, y) & 0xffffff)) return false;
            }
        }
        return true;
    }
    std::uint32_t pixel(std::uint32_t x, std::uint32_t y) const
    {
        return reinterpret_cast<const std::uint32_t*>(client->frameBuffer)[y * client->width + x] & 0xffffff;
    }
    std::uint32_t width() const { return static_cast<std::uint32_t>(client->width); }
    std::uint32_t height() const { return static_cast<std::uint32_t>(client->height); }
    // Types printable ASCII (keysyms equal the characters), key down and up each.
    void type(const std::string& text)
    {
        for (const char ch : text) {
            SendKeyEvent(client, static_cast<std::uint32_t>(ch), TRUE);
            SendKeyEvent(client, static_cast<std::uint32_t>(ch), FALSE);
            pump(30);
        }
    }
};

inline void got_cut_text(rfbClient* client, const char* text, int length)
{
    auto* viewer = static_cast<Viewer*>(rfbClientGetClientData(client, reinterpret_cast<void*>(&got_cut_text)));
    viewer->server_cut_text = std::string(text, static_cast<std::size_t>(length));
}

}  // namespace vnc_viewer
