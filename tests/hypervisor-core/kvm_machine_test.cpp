// The demo desktop guest on real KVM: it boots, draws its desktop, echoes keys, takes its
// identity; pause/resume; a guest that executes garbage stops only its own VM.
#include <cstring>
#include <elf.h>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "vdi/hv/boot/memory_layout.h"
#include "vdi/hv/devices/ps2_keymap.h"
#include "vdi/hv/kvm/kvm_hypervisor.h"
#include "vdi/hv/machine.h"
#include "vdi/test/demo_screen.h"
#include "vdi/test/guest_images.h"
#include "vdi/test/process.h"

using namespace vdi::hv;
using namespace std::chrono_literals;
using vdi::test::wait_until;

using guest_images::demo_config;

namespace {

void type(I8042& input, const std::string& text)
{
    REQUIRE(guest_images::type(input, text));
}

}  // namespace

TEST_CASE("demo guest on KVM: desktop drawn, keys echoed, identity shown", "[kvm][demo]")
{
    KvmHypervisor hv;
    Machine machine(hv, demo_config());
    machine.start();
    REQUIRE(machine.agent().wait_ready(1, 60s));
    CHECK(machine.agent().agent_version() == 1);
    const auto& fb = machine.framebuffer();
    const demo_screen::Layout layout(fb.width(), fb.height());

    // known regions: the bar, the window title, the empty text area, the border
    CHECK((fb.pixel(fb.width() / 2, 1) & 0xffffff) == demo_screen::bar_color);
    CHECK(demo_screen::text_at(fb, 8, 4, "host", 0x8fb8de, demo_screen::bar_color));
    CHECK(demo_screen::text_at(fb, 8 + 5 * 8, 4, "golden", demo_screen::bar_text, demo_screen::bar_color));
    CHECK(demo_screen::text_at(fb, layout.win_x + 8, layout.win_y + 3, "Notes - type here", demo_screen::bar_text,
                               demo_screen::title_color));
    CHECK((fb.pixel(layout.win_x + layout.win_w - 4, layout.win_y + layout.win_h - 4) & 0xffffff) ==
          demo_screen::window_color);
    CHECK((fb.pixel(layout.win_x - 1, layout.win_y + 100) & 0xffffff) == 0x0b0f19);

    type(machine.input(), "Hi vdi!");
    CHECK(wait_until([&] {
        return demo_screen::text_at(fb, layout.text_x, layout.text_y, "Hi vdi!", demo_screen::text_color,
                                    demo_screen::window_color);
    }, 30s));

    machine.agent().send_identity({"desk-042", "alice", std::string(64, 'c'), 0});
    REQUIRE(machine.agent().wait_ready(2, 30s));
    CHECK(demo_screen::text_at(fb, 8 + 5 * 8, 4, "desk-042", demo_screen::bar_text, demo_screen::bar_color));
    CHECK(demo_screen::text_at(fb, 8 + 5 * 8 + 11 * 8 + 5 * 8, 4, "alice", demo_screen::bar_text,
                               demo_screen::bar_color));

    // paused, the guest does not see input; resumed, it catches up
    machine.pause();
    CHECK(machine.state() == RunState::paused);
    type(machine.input(), "x");
    CHECK_FALSE(wait_until([&] {
        return demo_screen::glyph_at(fb, layout.text_x + 7 * 8, layout.text_y, 'x', demo_screen::text_color,
                                     demo_screen::window_color);
    }, 300ms));
    machine.resume();
    CHECK(wait_until([&] {
        return demo_screen::glyph_at(fb, layout.text_x + 7 * 8, layout.text_y, 'x', demo_screen::text_color,
                                     demo_screen::window_color);
    }, 30s));

    // damage tracking saw the guest's drawing
    CHECK_FALSE(machine.framebuffer().damage(machine.vm()).empty());
    machine.request_stop("test over");
    const auto stopped = machine.wait(10s);
    REQUIRE(stopped);
    CHECK_FALSE(stopped->guest_failure);
}

TEST_CASE("a guest that executes garbage stops its own VM with the reason", "[kvm][failure]")
{
    // an ELF whose entry point holds ud2: no IDT, so the exception escalates to a triple fault
    const auto image = guest_images::make_elf(0x1000000, {0x0f, 0x0b});
    const auto path = std::filesystem::temp_directory_path() / ("vdi-garbage-" + std::to_string(::getpid()));
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(image.data()), static_cast<std::streamsize>(image.size()));

    KvmHypervisor hv;
    MachineConfig config;
    config.kernel = path;
    config.memory_mib = 32;
    Machine machine(hv, config);
    machine.start();
    const auto stopped = machine.wait(60s);
    std::filesystem::remove(path);
    REQUIRE(stopped);
    CHECK(stopped->guest_failure);
    CHECK_THAT(stopped->reason, Catch::Contains("RIP 0x"));
}

TEST_CASE("demo guest on KVM with 4 vCPUs: the application processors wait, pause and stop still work",
          "[kvm][smp]")
{
    KvmHypervisor hv;
    auto config = demo_config();
    config.vcpus = 4;
    Machine machine(hv, config);
    machine.start();
    REQUIRE(machine.agent().wait_ready(1, 60s));
    // the APs sit in KVM_RUN waiting for a SIPI that never comes: pausing must still reach them
    for (int i = 0; i < 3; ++i) {
        machine.pause();
        CHECK(machine.state() == RunState::paused);
        machine.resume();
        CHECK(machine.state() == RunState::running);
    }
    type(machine.input(), "4");
    const demo_screen::Layout layout(machine.framebuffer().width(), machine.framebuffer().height());
    CHECK(wait_until([&] {
        return demo_screen::glyph_at(machine.framebuffer(), layout.text_x, layout.text_y, '4', demo_screen::text_color,
                                     demo_screen::window_color);
    }, 30s));
    machine.request_stop("test over");
    REQUIRE(machine.wait(10s));
}
