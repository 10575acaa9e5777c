// The CMOS real-time clock at ports 0x70 (index) and 0x71 (data): the guest's wall clock.
//
// Time registers are computed from the host clock plus an offset the state carries, so a
// restored clone shows the current time, not the snapshot's. Honours BCD/binary and 12/24-hour
// modes of register B. Periodic and alarm interrupts (IRQ 8) are not generated. Threads: any.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>

#include "vdi/hv/io_bus.h"

namespace vdi::hv {

struct CmosRtcState {
    std::uint8_t index = 0;
    std::array<std::uint8_t, 128> ram{};  // non-time registers and CMOS RAM
    std::int64_t offset_seconds = 0;      // guest time minus host time
};

class CmosRtc : public BusDevice {
public:
    static constexpr std::uint64_t base_port = 0x70;
    static constexpr std::uint64_t port_count = 2;

    using Clock = std::function<std::chrono::system_clock::time_point()>;
    explicit CmosRtc(Clock clock = std::chrono::system_clock::now);

    void read(std::uint64_t offset, std::span<std::uint8_t> data) override;
    void write(std::uint64_t offset, std::span<const std::uint8_t> data) override;

    // Guest memory size hints (registers 0x34/0x35 and 0x5b-0x5d) for firmware-style guests.
    void set_memory_size(std::uint64_t bytes);

    CmosRtcState save() const;
    void restore(const CmosRtcState& state);

private:
    std::uint8_t read_register(std::uint8_t index) const;  // caller holds mutex_
    void write_time_register(std::uint8_t index, std::uint8_t value);

    Clock clock_;
    mutable std::mutex mutex_;  // guards state_
    CmosRtcState state_;
};

}  // namespace vdi::hv
