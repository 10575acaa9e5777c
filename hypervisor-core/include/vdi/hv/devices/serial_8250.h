// A 16550A-compatible UART (8250 family): the guest console and the agent channel's transport.
//
// Transmission is instantaneous (THR is always empty again after a write); received bytes wait
// in a FIFO the host fills with push_input(). The interrupt output follows the IIR: high while an
// enabled interrupt is pending. Threads: any thread; one mutex guards the registers and FIFO.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <vector>

#include "vdi/hv/devices/interrupt_line.h"
#include "vdi/hv/io_bus.h"

namespace vdi::hv {

struct Serial8250State {
    std::uint8_t divisor_low = 0x0c;  // 9600 baud
    std::uint8_t divisor_high = 0;
    std::uint8_t interrupt_enable = 0;
    std::uint8_t line_control = 0x03;  // 8N1
    std::uint8_t modem_control = 0x08;  // OUT2
    std::uint8_t scratch = 0;
    std::uint8_t fifo_control = 0;
    bool thr_empty_pending = false;
    std::vector<std::uint8_t> receive_fifo;
};

class Serial8250 : public BusDevice {
public:
    static constexpr std::uint64_t com1_base = 0x3f8;
    static constexpr std::uint64_t com2_base = 0x2f8;
    static constexpr std::uint64_t port_count = 8;
    static constexpr std::size_t input_limit = 64 * 1024;  // bytes waiting for the guest

    // `output` receives every byte the guest transmits (outside the device lock).
    Serial8250(InterruptLine& irq, std::function<void(std::span<const std::uint8_t>)> output);

    void read(std::uint64_t offset, std::span<std::uint8_t> data) override;
    void write(std::uint64_t offset, std::span<const std::uint8_t> data) override;

    // Queues bytes for the guest to read; returns false (dropping them) if the queue is full.
    bool push_input(std::span<const std::uint8_t> bytes);

    Serial8250State save() const;
    void restore(const Serial8250State& state);

private:
    std::uint8_t interrupt_identification() const;  // caller holds mutex_
    void update_interrupt();                          // caller holds mutex_

    InterruptLine& irq_;
    std::function<void(std::span<const std::uint8_t>)> output_;
    mutable std::mutex mutex_;  // guards state_, rx_, irq_level_
    Serial8250State state_;
    std::deque<std::uint8_t> rx_;
    bool irq_level_ = false;
};

}  // namespace vdi::hv
