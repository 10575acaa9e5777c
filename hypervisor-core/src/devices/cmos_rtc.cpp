// CMOS RTC register model on top of the host clock.
#include "vdi/hv/devices/cmos_rtc.h"

#include <algorithm>
#include <ctime>

namespace vdi::hv {
namespace {

enum : std::uint8_t {
    reg_seconds = 0x00,
    reg_minutes = 0x02,
    reg_hours = 0x04,
    reg_weekday = 0x06,
    reg_day = 0x07,
    reg_month = 0x08,
    reg_year = 0x09,
    reg_a = 0x0a,
    reg_b = 0x0b,
    reg_c = 0x0c,
    reg_d = 0x0d,
    reg_century = 0x32,
    b_binary = 0x04,
    b_24hour = 0x02,
};

std::uint8_t to_bcd(int value)
{
    return static_cast<std::uint8_t>(((value / 10) << 4) | (value % 10));
}

int from_bcd(std::uint8_t value)
{
    return (value >> 4) * 10 + (value & 0x0f);
}

}  // namespace

CmosRtc::CmosRtc(Clock clock) : clock_(std::move(clock))
{
    state_.ram[reg_a] = 0x26;  // 32.768 kHz time base, 1024 Hz rate
    state_.ram[reg_b] = b_24hour;
    state_.ram[reg_d] = 0x80;  // valid RAM and time
}

void CmosRtc::set_memory_size(std::uint64_t bytes)
{
    std::lock_guard lock(mutex_);
    // 0x34/0x35: 64 KiB blocks between 16 MiB and 4 GiB; 0x5b-0x5d: 64 KiB blocks above 4 GiB
    const std::uint64_t below = std::min<std::uint64_t>(bytes, 0xe0000000ull);
    const std::uint64_t mid = below > (16ull << 20) ? (below - (16ull << 20)) >> 16 : 0;
    state_.ram[0x34] = static_cast<std::uint8_t>(mid);
    state_.ram[0x35] = static_cast<std::uint8_t>(mid >> 8);
    const std::uint64_t high = bytes > 0xe0000000ull ? (bytes - 0xe0000000ull) >> 16 : 0;
    state_.ram[0x5b] = static_cast<std::uint8_t>(high);
    state_.ram[0x5c] = static_cast<std::uint8_t>(high >> 8);
    state_.ram[0x5d] = static_cast<std::uint8_t>(high >> 16);
}

std::uint8_t CmosRtc::read_register(std::uint8_t index) const
{
    const bool time_register = index <= reg_year || index == reg_century;
    if (!time_register) {
        if (index == reg_c) {
            return 0;  // no interrupt flags: no RTC interrupts are generated
        }
        return state_.ram[index];
    }
    const auto now = std::chrono::system_clock::to_time_t(clock_()) + state_.offset_seconds;
    std::tm tm{};
    gmtime_r(&now, &tm);
    int value = 0;
    bool is_hour = false;
    switch (index) {
    case reg_seconds: value = tm.tm_sec; break;
    case reg_minutes: value = tm.tm_min; break;
    case reg_hours: value = tm.tm_hour; is_hour = true; break;
    case reg_weekday: value = tm.tm_wday + 1; break;
    case reg_day: value = tm.tm_mday; break;
    case reg_month: value = tm.tm_mon + 1; break;
    case reg_year: value = tm.tm_year % 100; break;
    case reg_century: value = (tm.tm_year + 1900) / 100; break;
    default: return state_.ram[index];  // alarm registers
    }
    const bool binary = state_.ram[reg_b] & b_binary;
    if (is_hour && !(state_.ram[reg_b] & b_24hour)) {
        const bool pm = value >= 12;
        int hour12 = value % 12;
        if (hour12 == 0) {
            hour12 = 12;
        }
        return static_cast<std::uint8_t>((binary ? hour12 : to_bcd(hour12)) | (pm ? 0x80 : 0));
    }
    return binary ? static_cast<std::uint8_t>(value) : to_bcd(value);
}

void CmosRtc::write_time_register(std::uint8_t index, std::uint8_t value)
{
    // a guest setting the clock moves its offset, never the host's clock
    const auto now = std::chrono::system_clock::to_time_t(clock_()) + state_.offset_seconds;
    std::tm tm{};
    gmtime_r(&now, &tm);
    const bool binary = state_.ram[reg_b] & b_binary;
    int v = binary ? value : from_bcd(static_cast<std::uint8_t>(value & 0x7f));
    switch (index) {
    case reg_seconds: tm.tm_sec = v; break;
    case reg_minutes: tm.tm_min = v; break;
    case reg_hours:
        if (!(state_.ram[reg_b] & b_24hour)) {
            v = (v % 12) + ((value & 0x80) ? 12 : 0);
        }
        tm.tm_hour = v;
        break;
    case reg_day: tm.tm_mday = v; break;
    case reg_month: tm.tm_mon = v - 1; break;
    case reg_year: tm.tm_year = (tm.tm_year / 100) * 100 + v; break;
    default: return;
    }
    const std::time_t wanted = timegm(&tm);
    state_.offset_seconds += static_cast<std::int64_t>(wanted - now);
}

void CmosRtc::read(std::uint64_t offset, std::span<std::uint8_t> data)
{
    std::lock_guard lock(mutex_);
    const std::uint8_t value = offset == 0 ? state_.index : read_register(state_.index);
    std::fill(data.begin(), data.end(), value);
}

void CmosRtc::write(std::uint64_t offset, std::span<const std::uint8_t> data)
{
    if (data.empty()) {
        return;
    }
    std::lock_guard lock(mutex_);
    if (offset == 0) {
        state_.index = data[0] & 0x7f;  // bit 7 masks NMIs; ignored
        return;
    }
    const std::uint8_t index = state_.index;
    if (index <= reg_year && index != reg_weekday && index != 0x01 && index != 0x03 && index != 0x05) {
        write_time_register(index, data[0]);
    } else if (index == reg_c || index == reg_d) {
        // read-only
    } else {
        state_.ram[index] = data[0];
    }
}

CmosRtcState CmosRtc::save() const
{
    std::lock_guard lock(mutex_);
    return state_;
}

void CmosRtc::restore(const CmosRtcState& state)
{
    std::lock_guard lock(mutex_);
    state_ = state;
}

}  // namespace vdi::hv
