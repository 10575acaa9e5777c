// Port/MMIO dispatch.
#include <catch2/catch.hpp>

#include "vdi/hv/io_bus.h"

using namespace vdi::hv;

namespace {

struct Register : BusDevice {
    std::uint64_t last_offset = 0;
    std::uint8_t value = 0;
    void read(std::uint64_t offset, std::span<std::uint8_t> data) override
    {
        last_offset = offset;
        std::fill(data.begin(), data.end(), value);
    }
    void write(std::uint64_t offset, std::span<const std::uint8_t> data) override
    {
        last_offset = offset;
        value = data[0];
    }
};

}  // namespace

TEST_CASE("io bus: routes by range with offsets, refuses overlaps", "[bus]")
{
    IoBus bus("pio");
    Register a, b;
    bus.insert(0x3f8, 8, a, "com1");
    bus.insert(0x60, 1, b, "kbd");
    CHECK_THROWS_AS(bus.insert(0x3fc, 8, b, "overlap"), std::logic_error);
    CHECK_THROWS_AS(bus.insert(0x3f0, 9, b, "overlap"), std::logic_error);
    const std::uint8_t v = 0x42;
    CHECK(bus.write(0x3fb, std::span(&v, 1)));
    CHECK(a.last_offset == 3);
    CHECK(a.value == 0x42);
    std::uint8_t out = 0;
    CHECK(bus.read(0x60, std::span(&out, 1)));
    CHECK(out == 0);
}

TEST_CASE("io bus: unclaimed reads float high, writes vanish, both are remembered once", "[bus]")
{
    IoBus bus("pio");
    std::uint8_t out[2] = {0, 0};
    CHECK_FALSE(bus.read(0x80, std::span(out, 2)));
    CHECK(out[0] == 0xff);
    CHECK(out[1] == 0xff);
    const std::uint8_t v = 1;
    CHECK_FALSE(bus.write(0x80, std::span(&v, 1)));
    CHECK_FALSE(bus.write(0xcf8, std::span(&v, 1)));
    CHECK(bus.unclaimed() == std::set<std::uint64_t>{0x80, 0xcf8});
}
