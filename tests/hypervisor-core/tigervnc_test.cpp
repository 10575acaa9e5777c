// TigerVNC's viewer (a real desktop VNC client) under Xvfb shows the demo desktop: the viewer
// window's pixels, read back from Xvfb's screen file, equal the guest framebuffer. The
// screenshot is kept as tigervnc-screenshot.png in the working directory for a person to look at.
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <png.h>
extern "C" {
#include <rfb/rfbproto.h>
}

#include "vdi/hv/display/vnc_server.h"
#include "vdi/hv/kvm/kvm_hypervisor.h"
#include "vdi/hv/machine.h"
#include "vdi/test/guest_images.h"
#include "vdi/test/process.h"

using namespace vdi::hv;
using namespace std::chrono_literals;
using vdi::test::ChildProcess;
using vdi::test::wait_until;
namespace fs = std::filesystem;

namespace {

std::uint32_t be32(const std::vector<char>& d, std::size_t at)
{
    return static_cast<std::uint32_t>(static_cast<unsigned char>(d[at])) << 24 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + 1])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + 2])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + 3]));
}

// Xvfb's -fbdir screen file (XWD, 32 bits per pixel): width, height and XRGB pixels.
struct XwdScreen {
    std::uint32_t width = 0, height = 0;
    std::vector<std::uint32_t> pixels;
    bool load(const fs::path& path)
    {
        std::ifstream in(path, std::ios::binary);
        std::vector<char> d((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (d.size() < 100) return false;
        const auto header_size = be32(d, 0), bpp = be32(d, 44), bpl = be32(d, 48), ncolors = be32(d, 76);
        width = be32(d, 16);
        height = be32(d, 20);
        const std::size_t offset = header_size + ncolors * 12ull;
        if (bpp != 32 || d.size() < offset + static_cast<std::size_t>(bpl) * height) return false;
        pixels.resize(static_cast<std::size_t>(width) * height);
        for (std::uint32_t y = 0; y < height; ++y) {
            std::memcpy(&pixels[y * width], d.data() + offset + static_cast<std::size_t>(y) * bpl, width * 4ull);
        }
        return true;
    }
    std::uint32_t at(std::uint32_t x, std::uint32_t y) const { return pixels[y * width + x] & 0xffffff; }
};

// Where the guest's picture sits on the X screen (the viewer window's origin), if it does.
std::optional<std::pair<std::uint32_t, std::uint32_t>> find_desktop(const XwdScreen& screen, const Framebuffer& fb)
{
    for (std::uint32_t oy = 0; oy < 64; ++oy) {
        for (std::uint32_t ox = 0; ox < 64; ++ox) {
            if (ox + fb.width() > screen.width || oy + fb.height() > screen.height) continue;
            bool match = true;
            for (std::uint32_t y = 0; y < fb.height() && match; y += 7) {
                for (std::uint32_t x = 0; x < fb.width() && match; x += 13) {
                    match = screen.at(ox + x, oy + y) == (fb.pixel(x, y) & 0xffffff);
                }
            }
            if (match) return std::make_pair(ox, oy);
        }
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("TigerVNC's viewer under Xvfb shows the demo desktop", "[kvm][vnc][tigervnc]")
{
    if (!fs::exists("/usr/bin/xtigervncviewer") || !fs::exists("/usr/bin/Xvfb")) {
        FAIL("TigerVNC's viewer and Xvfb are needed (./vdi setup installs tigervnc-viewer and xvfb)");
    }
    const fs::path dir = fs::temp_directory_path() / ("vdi-tigervnc-" + std::to_string(::getpid()));
    fs::create_directories(dir / "fb");
    KvmHypervisor hv;
    Machine machine(hv, guest_images::demo_config());
    VncServer vnc(machine, VncConfig{});
    machine.start();
    vnc.start();
    REQUIRE(machine.agent().wait_ready(1, 60s));
    vnc.set_ticket("tiger123", 60s);
    std::string password = "tiger123", password_file = (dir / "passwd").string();
    REQUIRE(rfbEncryptAndStorePasswd(password.data(), password_file.data()) == 0);

    const std::string display = ":" + std::to_string(100 + ::getpid() % 400);
    ChildProcess xvfb({"/usr/bin/Xvfb", display, "-screen", "0", "1280x1024x24", "-fbdir", (dir / "fb").string(),
                       "-nolisten", "tcp"},
                      (dir / "xvfb.log").string());
    REQUIRE(wait_until([&] { return fs::exists(dir / "fb" / "Xvfb_screen0"); }, 30s));
    ChildProcess viewer({"/usr/bin/env", "DISPLAY=" + display, "/usr/bin/xtigervncviewer", "-passwd", password_file,
                         "127.0.0.1::" + std::to_string(vnc.port())},
                        (dir / "viewer.log").string());
    XwdScreen screen;
    std::optional<std::pair<std::uint32_t, std::uint32_t>> origin;
    const bool shown = wait_until([&] {
        return screen.load(dir / "fb" / "Xvfb_screen0") && (origin = find_desktop(screen, machine.framebuffer()));
    }, 60s);
    INFO(vdi::test::read_text_file((dir / "viewer.log").string()));
    REQUIRE(shown);
    // every pixel of the desktop, not just the samples (the guest's clock may tick between the
    // viewer's picture and ours: look again until the viewer has caught up)
    const auto& fb = machine.framebuffer();
    std::size_t different = 0;
    wait_until([&] {
        if (!screen.load(dir / "fb" / "Xvfb_screen0")) return false;
        different = 0;
        for (std::uint32_t y = 0; y < fb.height(); ++y)
            for (std::uint32_t x = 0; x < fb.width(); ++x)
                different += screen.at(origin->first + x, origin->second + y) != (fb.pixel(x, y) & 0xffffff);
        return different == 0;
    }, 10s);
    CHECK(different == 0);

    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    image.width = screen.width;
    image.height = screen.height;
    image.format = PNG_FORMAT_BGRA;
    for (auto& p : screen.pixels) p |= 0xff000000u;
    png_image_write_to_file(&image, "tigervnc-screenshot.png", 0, screen.pixels.data(), 0, nullptr);

    viewer.signal(SIGTERM, true);
    xvfb.signal(SIGTERM, true);
    viewer.wait(10s);
    xvfb.wait(10s);
    machine.request_stop("test over");
    machine.wait(10s);
    fs::remove_all(dir);
}
