// The CMOS real-time clock.
#include <catch2/catch.hpp>

#include "vdi/hv/devices/cmos_rtc.h"

using vdi::hv::CmosRtc;

namespace {

std::uint8_t reg(CmosRtc& rtc, std::uint8_t index)
{
    rtc.write(0, std::span<const std::uint8_t>(&index, 1));
    std::uint8_t v = 0;
    rtc.read(1, std::span(&v, 1));
    return v;
}

void set(CmosRtc& rtc, std::uint8_t index, std::uint8_t value)
{
    rtc.write(0, std::span<const std::uint8_t>(&index, 1));
    rtc.write(1, std::span<const std::uint8_t>(&value, 1));
}

// 2026-11-22 03:25:09 UTC, a Sunday
const auto fixed = std::chrono::system_clock::from_time_t(1795317909);

}  // namespace

TEST_CASE("rtc: reports the host clock in BCD, then binary and 12-hour when asked", "[devices][rtc]")
{
    CmosRtc rtc([] { return fixed; });
    CHECK(reg(rtc, 0x00) == 0x09);
    CHECK(reg(rtc, 0x02) == 0x25);
    CHECK(reg(rtc, 0x04) == 0x03);
    CHECK(reg(rtc, 0x07) == 0x22);
    CHECK(reg(rtc, 0x08) == 0x11);
    CHECK(reg(rtc, 0x09) == 0x26);
    CHECK(reg(rtc, 0x32) == 0x20);
    CHECK(reg(rtc, 0x06) == 1);  // Sunday
    CHECK((reg(rtc, 0x0a) & 0x80) == 0);  // never "update in progress"
    CHECK(reg(rtc, 0x0d) == 0x80);
    set(rtc, 0x0b, 0x04);  // binary, 12-hour
    CHECK(reg(rtc, 0x00) == 9);
    CHECK(reg(rtc, 0x04) == 3);  // 3 AM
    CHECK(reg(rtc, 0x09) == 26);
}

TEST_CASE("rtc: a guest setting the time moves only its own offset, which survives restore", "[devices][rtc][state]")
{
    auto now = fixed;
    CmosRtc rtc([&] { return now; });
    set(rtc, 0x04, 0x05);  // 05 h (BCD)
    CHECK(reg(rtc, 0x04) == 0x05);
    CHECK(rtc.save().offset_seconds == 2 * 3600);
    set(rtc, 0x40, 0xab);  // CMOS RAM
    const auto state = rtc.save();

    now += std::chrono::seconds(10);  // time passes while the snapshot sleeps
    CmosRtc copy([&] { return now; });
    copy.restore(state);
    CHECK(reg(copy, 0x04) == 0x05);
    CHECK(reg(copy, 0x00) == 0x19);  // 9 s + 10 s
    CHECK(reg(copy, 0x40) == 0xab);
}

TEST_CASE("rtc: memory size registers", "[devices][rtc]")
{
    CmosRtc rtc;
    rtc.set_memory_size(256ull << 20);
    const unsigned blocks = reg(rtc, 0x34) | reg(rtc, 0x35) << 8;
    CHECK(blocks == (240u << 20) >> 16);
}
