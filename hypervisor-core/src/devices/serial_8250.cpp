// 16550A UART register model.
#include "vdi/hv/devices/serial_8250.h"

namespace vdi::hv {
namespace {

enum : std::uint8_t {
    ier_receive = 0x01,
    ier_transmit_empty = 0x02,
    iir_none = 0x01,
    iir_transmit_empty = 0x02,
    iir_receive = 0x04,
    iir_fifo_enabled = 0xc0,
    lcr_dlab = 0x80,
    mcr_loopback = 0x10,
    lsr_data_ready = 0x01,
    lsr_thr_empty = 0x20,
    lsr_transmitter_empty = 0x40,
};

}  // namespace

Serial8250::Serial8250(InterruptLine& irq, std::function<void(std::span<const std::uint8_t>)> output)
    : irq_(irq), output_(std::move(output))
{
}

std::uint8_t Serial8250::interrupt_identification() const
{
    std::uint8_t iir = iir_none;
    if ((state_.interrupt_enable & ier_receive) && !rx_.empty()) {
        iir = iir_receive;
    } else if ((state_.interrupt_enable & ier_transmit_empty) && state_.thr_empty_pending) {
        iir = iir_transmit_empty;
    }
    if (state_.fifo_control & 0x01) {
        iir |= iir_fifo_enabled;
    }
    return iir;
}

void Serial8250::update_interrupt()
{
    const bool level = (interrupt_identification() & iir_none) == 0;
    if (level != irq_level_) {
        irq_level_ = level;
        irq_.set_level(level);
    }
}

void Serial8250::read(std::uint64_t offset, std::span<std::uint8_t> data)
{
    std::lock_guard lock(mutex_);
    std::uint8_t value = 0;
    const bool dlab = state_.line_control & lcr_dlab;
    switch (offset) {
    case 0:
        if (dlab) {
            value = state_.divisor_low;
        } else if (!rx_.empty()) {
            value = rx_.front();
            rx_.pop_front();
        }
        break;
    case 1:
        value = dlab ? state_.divisor_high : state_.interrupt_enable;
        break;
    case 2:
        value = interrupt_identification();
        // reading the IIR acknowledges a transmit-empty interrupt
        if ((value & 0x0f) == iir_transmit_empty) {
            state_.thr_empty_pending = false;
        }
        break;
    case 3:
        value = state_.line_control;
        break;
    case 4:
        value = state_.modem_control;
        break;
    case 5:
        value = lsr_thr_empty | lsr_transmitter_empty | (rx_.empty() ? 0 : lsr_data_ready);
        break;
    case 6:
        if (state_.modem_control & mcr_loopback) {
            // loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD
            const std::uint8_t mcr = state_.modem_control;
            value = static_cast<std::uint8_t>(((mcr & 0x02) << 3) | ((mcr & 0x01) << 5) | ((mcr & 0x04) << 4) |
                                              ((mcr & 0x08) << 4));
        } else {
            value = 0xb0;  // carrier detect, data set ready, clear to send
        }
        break;
    case 7:
        value = state_.scratch;
        break;
    default:
        value = 0xff;
    }
    for (auto& byte : data) {
        byte = value;
    }
    update_interrupt();
}

void Serial8250::write(std::uint64_t offset, std::span<const std::uint8_t> data)
{
    if (data.empty()) {
        return;
    }
    const std::uint8_t value = data[0];
    std::uint8_t transmitted = 0;
    bool transmit = false;
    {
        std::lock_guard lock(mutex_);
        const bool dlab = state_.line_control & lcr_dlab;
        switch (offset) {
        case 0:
            if (dlab) {
                state_.divisor_low = value;
            } else if (state_.modem_control & mcr_loopback) {
                if (rx_.size() < input_limit) {
                    rx_.push_back(value);
                }
                state_.thr_empty_pending = true;
            } else {
                transmitted = value;
                transmit = true;
                state_.thr_empty_pending = true;
            }
            break;
        case 1:
            if (dlab) {
                state_.divisor_high = value;
            } else {
                // enabling the THRE interrupt while THR is empty raises it at once
                if (!(state_.interrupt_enable & ier_transmit_empty) && (value & ier_transmit_empty)) {
                    state_.thr_empty_pending = true;
                }
                state_.interrupt_enable = value & 0x0f;
            }
            break;
        case 2:
            state_.fifo_control = value;
            if (value & 0x02) {
                rx_.clear();
            }
            break;
        case 3:
            state_.line_control = value;
            break;
        case 4:
            state_.modem_control = value & 0x1f;
            break;
        case 7:
            state_.scratch = value;
            break;
        default:
            break;  // LSR and MSR are read-only
        }
        update_interrupt();
    }
    if (transmit && output_) {
        output_(std::span(&transmitted, 1));
    }
}

bool Serial8250::push_input(std::span<const std::uint8_t> bytes)
{
    std::lock_guard lock(mutex_);
    if (rx_.size() + bytes.size() > input_limit) {
        return false;
    }
    rx_.insert(rx_.end(), bytes.begin(), bytes.end());
    update_interrupt();
    return true;
}

Serial8250State Serial8250::save() const
{
    std::lock_guard lock(mutex_);
    Serial8250State state = state_;
    state.receive_fifo.assign(rx_.begin(), rx_.end());
    return state;
}

void Serial8250::restore(const Serial8250State& state)
{
    std::lock_guard lock(mutex_);
    state_ = state;
    rx_.assign(state.receive_fifo.begin(), state.receive_fifo.end());
    state_.receive_fifo.clear();
    irq_level_ = false;
    update_interrupt();
}

}  // namespace vdi::hv
