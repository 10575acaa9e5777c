// The PS/2 controller, keyboard and mouse.
#include <catch2/catch.hpp>

#include "recording_line.h"
#include "vdi/hv/devices/i8042.h"

using vdi::hv::I8042;

namespace {

struct Rig {
    RecordingLine kbd, mouse;
    int resets = 0;
    I8042 dev{kbd, mouse, [this] { ++resets; }};

    void command(std::uint8_t v) { dev.command_device().write(0, std::span<const std::uint8_t>(&v, 1)); }
    void data(std::uint8_t v) { dev.data_device().write(0, std::span<const std::uint8_t>(&v, 1)); }
    std::uint8_t status()
    {
        std::uint8_t v = 0;
        dev.command_device().read(0, std::span(&v, 1));
        return v;
    }
    std::vector<std::uint8_t> drain()
    {
        std::vector<std::uint8_t> out;
        while (status() & 0x01) {
            std::uint8_t v = 0;
            dev.data_device().read(0, std::span(&v, 1));
            out.push_back(v);
        }
        return out;
    }
};

using Bytes = std::vector<std::uint8_t>;

}  // namespace

TEST_CASE("i8042: controller self-tests and the command byte", "[devices][i8042]")
{
    Rig r;
    r.command(0xaa);
    CHECK(r.drain() == Bytes{0x55});
    r.command(0xab);
    r.command(0xa9);
    CHECK(r.drain() == Bytes{0x00, 0x00});
    r.command(0x20);
    const auto ctr = r.drain();
    REQUIRE(ctr.size() == 1);
    CHECK((ctr[0] & 0x40) == 0);  // no set-1 translation
    r.command(0x60);
    r.data(0x47);
    r.command(0x20);
    CHECK(r.drain() == Bytes{0x47});
    CHECK((r.status() & 0x08) == 0x08);  // the last write went to the command port
}

TEST_CASE("i8042: keyboard reset, identify and key events in set 2", "[devices][i8042]")
{
    Rig r;
    r.data(0xff);
    CHECK(r.drain() == Bytes{0xfa, 0xaa});
    r.data(0xf2);
    CHECK(r.drain() == Bytes{0xfa, 0xab, 0x83});
    r.data(0xf0);
    r.data(0x00);
    CHECK(r.drain() == Bytes{0xfa, 0xfa, 0x02});  // current scancode set: 2
    r.data(0xed);
    r.data(0x07);
    CHECK(r.drain() == Bytes{0xfa, 0xfa});

    r.dev.key(0x1c, false, true);  // 'a' down
    CHECK(r.kbd.level);            // IRQ 1 raised
    r.dev.key(0x1c, false, false);
    r.dev.key(0x75, true, true);   // up arrow (E0 75)
    r.dev.key(0x75, true, false);
    CHECK(r.drain() == Bytes{0x1c, 0xf0, 0x1c, 0xe0, 0x75, 0xe0, 0xf0, 0x75});
    CHECK_FALSE(r.kbd.level);
    CHECK(r.kbd.edges() >= 1);

    r.data(0xf5);  // scanning off: keys are dropped
    r.drain();
    r.dev.key(0x1c, false, true);
    CHECK(r.drain().empty());
}

TEST_CASE("i8042: the mouse reports motion packets on IRQ 12 once enabled", "[devices][i8042]")
{
    Rig r;
    r.dev.mouse_motion(5, 5, 0);
    CHECK(r.drain().empty());  // reporting is off after power-on
    r.command(0xa8);
    r.command(0xd4);
    r.data(0xff);
    CHECK(r.drain() == Bytes{0xfa, 0xaa, 0x00});
    r.command(0xd4);
    r.data(0xf4);
    CHECK(r.drain() == Bytes{0xfa});
    r.dev.mouse_motion(10, 20, 0x01);  // right 10, down 20, left button
    CHECK(r.mouse.level);
    CHECK((r.status() & 0x20) == 0x20);  // the byte waiting is the mouse's
    // byte 0: always-one bit, left button, Y negative (PS/2 counts up)
    CHECK(r.drain() == Bytes{0x29, 10, static_cast<std::uint8_t>(-20)});
    r.dev.mouse_motion(-300, 0, 0);  // split into packets of at most 255
    const auto packets = r.drain();
    REQUIRE(packets.size() == 6);
    CHECK(packets[0] == 0x18);
    CHECK(packets[1] == static_cast<std::uint8_t>(-255));
    CHECK(packets[4] == static_cast<std::uint8_t>(-45));
    r.command(0xd4);
    r.data(0xe9);  // status request
    CHECK(r.drain().size() == 4);
}

TEST_CASE("i8042: the loopback commands and the reset line", "[devices][i8042]")
{
    Rig r;
    r.command(0xd3);
    r.data(0x5a);
    CHECK((r.status() & 0x21) == 0x21);
    CHECK(r.drain() == Bytes{0x5a});
    r.command(0xfe);
    CHECK(r.resets == 1);
}

TEST_CASE("i8042: state survives save -> restore, pending bytes included", "[devices][i8042][state]")
{
    Rig r;
    r.command(0xd4);
    r.data(0xf4);
    r.drain();
    r.command(0x60);
    r.data(0x03);
    r.dev.key(0x29, false, true);
    r.dev.mouse_motion(1, 1, 0x02);
    const auto state = r.dev.save();

    Rig copy;
    copy.dev.restore(state);
    CHECK(copy.kbd.level);  // the keyboard byte at the head raises IRQ 1 again
    CHECK(copy.drain() == Bytes{0x29, 0x2a, 1, static_cast<std::uint8_t>(-1)});
    copy.command(0x20);
    CHECK(copy.drain() == Bytes{0x03});
    CHECK(copy.dev.save().mouse_reporting);
}
