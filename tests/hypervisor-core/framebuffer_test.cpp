// The framebuffer: geometry checks, damage from the dirty log, PNG output.
#include <cstring>

#include <catch2/catch.hpp>

#include "vdi/hv/devices/framebuffer.h"
#include "vdi/test/fake_hypervisor.h"

using namespace vdi::hv;

TEST_CASE("framebuffer: unusable geometry is refused with the reason", "[devices][framebuffer]")
{
    CHECK_THROWS_WITH(Framebuffer({0, 768, 0xe0000000}), Catch::Contains("0x768 is not usable"));
    CHECK_THROWS_AS(Framebuffer({1024, 768, 0xe0000001}), HvError);
    CHECK_NOTHROW(Framebuffer({1920, 1080, 0xe0000000}));
}

TEST_CASE("framebuffer: dirty pages become full-width row rectangles, merged", "[devices][framebuffer]")
{
    FakeVm vm;
    GuestMemory memory;
    Framebuffer fb({1024, 768, 0xe0000000});
    fb.attach(memory);
    memory.register_with(vm);
    CHECK(fb.size() == 1024 * 768 * 4);
    CHECK(fb.damage(vm).empty());
    // 1024 px * 4 B = one 4 KiB page per row
    vm.mark_dirty(fb.slot(), 10);
    vm.mark_dirty(fb.slot(), 11);
    vm.mark_dirty(fb.slot(), 500);
    const auto rects = fb.damage(vm);
    REQUIRE(rects.size() == 2);
    CHECK(rects[0].y == 10);
    CHECK(rects[0].height == 2);
    CHECK(rects[0].width == 1024);
    CHECK(rects[1].y == 500);
    CHECK(rects[1].height == 1);
    CHECK(fb.damage(vm).empty());  // the log was cleared
}

TEST_CASE("framebuffer: PNG of the pixels", "[devices][framebuffer]")
{
    GuestMemory memory;
    Framebuffer fb({64, 64, 0xe0000000});
    fb.attach(memory);
    auto* pixels = memory.host_pointer(0xe0000000, fb.size());
    const std::uint32_t red = 0x00ff0000;
    std::memcpy(pixels + (5 * 64 + 7) * 4, &red, 4);
    CHECK(fb.pixel(7, 5) == red);
    const auto png = fb.to_png();
    REQUIRE(png.size() > 8);
    CHECK(std::memcmp(png.data(), "\x89PNG\r\n\x1a\n", 8) == 0);
}
