// Golden images and instant clones of the demo guest on real KVM.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "vdi/hv/kvm/kvm_hypervisor.h"
#include "vdi/hv/machine.h"
#include "vdi/test/demo_screen.h"
#include "vdi/test/guest_images.h"
#include "vdi/test/process.h"

using namespace vdi::hv;
using namespace std::chrono_literals;
using vdi::test::wait_until;
namespace fs = std::filesystem;

namespace {

struct GoldenImage {
    fs::path dir;
    std::vector<std::uint8_t> screen;  // the framebuffer when the snapshot was taken
    GoldenImage() : dir(fs::temp_directory_path() / ("vdi-golden-" + std::to_string(::getpid()) + "-" +
                                                     std::to_string(std::rand())))
    {
        KvmHypervisor hv;
        Machine machine(hv, guest_images::demo_config());
        machine.start();
        REQUIRE(machine.agent().wait_ready(1, 60s));
        REQUIRE(guest_images::type(machine.input(), "golden text"));
        const demo_screen::Layout layout(machine.framebuffer().width(), machine.framebuffer().height());
        REQUIRE(wait_until([&] {
            return demo_screen::text_at(machine.framebuffer(), layout.text_x, layout.text_y, "golden text",
                                        demo_screen::text_color, demo_screen::window_color);
        }, 30s));
        machine.pause();
        const auto& fb = machine.framebuffer();
        screen.assign(fb.pixels(), fb.pixels() + fb.size());
        machine.snapshot(dir);
        machine.request_stop("golden image written");
        REQUIRE(machine.wait(10s));
    }
    ~GoldenImage() { fs::remove_all(dir); }
};

std::uint64_t file_hash(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::uint64_t hash = 1469598103934665603ull;
    char buffer[1 << 16];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        for (std::streamsize i = 0; i < in.gcount(); ++i) {
            hash = (hash ^ static_cast<std::uint8_t>(buffer[i])) * 1099511628211ull;
        }
    }
    return hash;
}

std::vector<std::uint32_t> region(const Framebuffer& fb, std::uint32_t x, std::uint32_t y, std::uint32_t w,
                                  std::uint32_t h)
{
    std::vector<std::uint32_t> out;
    for (std::uint32_t row = y; row < y + h; ++row) {
        for (std::uint32_t col = x; col < x + w; ++col) {
            out.push_back(fb.pixel(col, row));
        }
    }
    return out;
}

}  // namespace

TEST_CASE("clone on KVM: the first frame is there at once, then the guest resumes exactly", "[kvm][clone]")
{
    GoldenImage golden;
    KvmHypervisor hv;
    Machine clone(hv, golden.dir, nullptr);
    const auto& fb = clone.framebuffer();
    // before a single guest instruction: the snapshot's picture
    CHECK(std::equal(golden.screen.begin(), golden.screen.end(), fb.pixels()));

    const auto ready_before = clone.agent().ready_count();
    clone.agent().send_identity({"clone-a", "carol", std::string(64, '1'), 0});
    clone.start();
    REQUIRE(clone.agent().wait_ready(ready_before + 1, 30s));
    const demo_screen::Layout layout(fb.width(), fb.height());
    CHECK(demo_screen::text_at(fb, 8 + 5 * 8, 4, "clone-a", demo_screen::bar_text, demo_screen::bar_color));
    CHECK(demo_screen::text_at(fb, layout.text_x, layout.text_y, "golden text", demo_screen::text_color,
                               demo_screen::window_color));
    // typed text echoes after the snapshot's text: the guest's own state carried over
    REQUIRE(guest_images::type(clone.input(), "+1"));
    CHECK(wait_until([&] {
        return demo_screen::text_at(fb, layout.text_x + 11 * 8, layout.text_y, "+1", demo_screen::text_color,
                                    demo_screen::window_color);
    }, 30s));
    // the clock keeps ticking: its text changes within a few seconds
    const auto clock = region(fb, fb.width() - 8 * 13, 4, 8 * 8, 16);
    CHECK(wait_until([&] { return region(fb, fb.width() - 8 * 13, 4, 8 * 8, 16) != clock; }, 10s));
    clone.request_stop("test over");
    REQUIRE(clone.wait(10s));
}

TEST_CASE("clones of one image: own identities and RNG seeds, memory isolated from each other and the image",
          "[kvm][clone]")
{
    GoldenImage golden;
    const auto image_hash = file_hash(golden.dir / "memory");
    KvmHypervisor hv;
    Machine a(hv, golden.dir, nullptr);
    Machine b(hv, golden.dir, nullptr);
    Machine c(hv, golden.dir, nullptr);
    const auto ready = a.agent().ready_count();
    a.agent().send_identity({"desk-a", "alice", std::string(64, 'a'), 0});
    b.agent().send_identity({"desk-b", "brian", std::string(64, 'b'), 0});
    c.agent().send_identity({"desk-c", "alice", std::string(64, 'a'), 0});  // a's seed again
    a.start();
    b.start();
    c.start();
    REQUIRE(a.agent().wait_ready(ready + 1, 30s));
    REQUIRE(b.agent().wait_ready(ready + 1, 30s));
    REQUIRE(c.agent().wait_ready(ready + 1, 30s));
    const auto& fa = a.framebuffer();
    const auto& fbb = b.framebuffer();
    CHECK(demo_screen::text_at(fa, 48, 4, "desk-a", demo_screen::bar_text, demo_screen::bar_color));
    CHECK(demo_screen::text_at(fbb, 48, 4, "desk-b", demo_screen::bar_text, demo_screen::bar_color));
    // the session tag comes from each guest's RNG, reseeded from the identity: different seeds
    // give different tags, the same seed the same tag (user names of equal length keep the
    // tag at the same place: after "host desk-x   user alice   session ")
    const std::uint32_t tag_x = 48 + 9 * 8 + 5 * 8 + 8 * 8 + 8 * 8;
    const auto tag_a = region(fa, tag_x, 4, 16 * 8, 16);
    const auto tag_b = region(fbb, tag_x, 4, 16 * 8, 16);
    const auto tag_c = region(c.framebuffer(), tag_x, 4, 16 * 8, 16);
    CHECK(tag_a != tag_b);
    CHECK(tag_a == tag_c);
    CHECK(demo_screen::text_at(fa, tag_x - 8 * 8, 4, "session", 0x8fb8de, demo_screen::bar_color));

    const demo_screen::Layout layout(fa.width(), fa.height());
    REQUIRE(guest_images::type(a.input(), "only-in-a"));
    REQUIRE(wait_until([&] {
        return demo_screen::text_at(fa, layout.text_x + 11 * 8, layout.text_y, "only-in-a", demo_screen::text_color,
                                    demo_screen::window_color);
    }, 30s));
    CHECK_FALSE(demo_screen::text_at(fbb, layout.text_x + 11 * 8, layout.text_y, "only-in-a", demo_screen::text_color,
                                     demo_screen::window_color));
    a.request_stop("done");
    b.request_stop("done");
    c.request_stop("done");
    REQUIRE(a.wait(10s));
    REQUIRE(b.wait(10s));
    REQUIRE(c.wait(10s));
    CHECK(file_hash(golden.dir / "memory") == image_hash);  // the image was never written
}
