// PS/2 controller, keyboard and mouse models.
#include "vdi/hv/devices/i8042.h"

#include <algorithm>

namespace vdi::hv {
namespace {

enum : std::uint8_t {
    ack = 0xfa,
    self_test_passed = 0xaa,
    ctr_keyboard_interrupt = 0x01,
    ctr_mouse_interrupt = 0x02,
    ctr_system_flag = 0x04,
    ctr_keyboard_disabled = 0x10,
    ctr_mouse_disabled = 0x20,
    status_output_full = 0x01,
    status_system_flag = 0x04,
    status_command = 0x08,
    status_unlocked = 0x10,
    status_aux_data = 0x20,
};

}  // namespace

I8042::I8042(InterruptLine& keyboard_irq, InterruptLine& mouse_irq, std::function<void()> reset_request)
    : keyboard_irq_(keyboard_irq), mouse_irq_(mouse_irq), reset_request_(std::move(reset_request))
{
}

void I8042::Port::read(std::uint64_t, std::span<std::uint8_t> data)
{
    std::uint8_t value = 0;
    {
        std::lock_guard lock(owner_.mutex_);
        value = command_ ? owner_.read_status() : owner_.read_data();
        owner_.update_irqs();
    }
    std::fill(data.begin(), data.end(), value);
}

void I8042::Port::write(std::uint64_t, std::span<const std::uint8_t> data)
{
    if (data.empty()) {
        return;
    }
    bool reset = false;
    {
        std::lock_guard lock(owner_.mutex_);
        if (command_) {
            owner_.write_command(data[0]);
        } else {
            owner_.write_data(data[0]);
        }
        owner_.update_irqs();
        reset = owner_.reset_pending_;
        owner_.reset_pending_ = false;
    }
    if (reset && owner_.reset_request_) {
        owner_.reset_request_();
    }
}

void I8042::read(std::uint64_t offset, std::span<std::uint8_t> data)
{
    (offset == 0 ? data_ : command_).read(0, data);
}

void I8042::write(std::uint64_t offset, std::span<const std::uint8_t> data)
{
    (offset == 0 ? data_ : command_).write(0, data);
}

void I8042::push(std::uint8_t byte, bool aux)
{
    if (output_.size() < output_limit) {
        output_.emplace_back(byte, aux);
    }
}

void I8042::update_irqs()
{
    const bool have = !output_.empty();
    const bool keyboard = have && !output_.front().second && (state_.command_byte & ctr_keyboard_interrupt);
    const bool mouse = have && output_.front().second && (state_.command_byte & ctr_mouse_interrupt);
    if (keyboard != keyboard_level_) {
        keyboard_level_ = keyboard;
        keyboard_irq_.set_level(keyboard);
    }
    if (mouse != mouse_level_) {
        mouse_level_ = mouse;
        mouse_irq_.set_level(mouse);
    }
}

std::uint8_t I8042::read_data()
{
    if (output_.empty()) {
        return 0;
    }
    const std::uint8_t value = output_.front().first;
    output_.pop_front();
    // drop the level so the next byte makes a fresh edge on the edge-triggered PIC
    if (keyboard_level_) {
        keyboard_level_ = false;
        keyboard_irq_.set_level(false);
    }
    if (mouse_level_) {
        mouse_level_ = false;
        mouse_irq_.set_level(false);
    }
    return value;
}

std::uint8_t I8042::read_status()
{
    std::uint8_t status = status_unlocked;
    if (!output_.empty()) {
        status |= status_output_full;
        if (output_.front().second) {
            status |= status_aux_data;
        }
    }
    if (state_.command_byte & ctr_system_flag) {
        status |= status_system_flag;
    }
    if (state_.last_write_was_command) {
        status |= status_command;
    }
    return status;
}

void I8042::write_command(std::uint8_t value)
{
    state_.last_write_was_command = true;
    state_.pending_command = 0;
    switch (value) {
    case 0x20:
        push(state_.command_byte, false);
        break;
    case 0x60:
    case 0xd1:
    case 0xd2:
    case 0xd3:
    case 0xd4:
        state_.pending_command = value;
        break;
    case 0xa7:
        state_.command_byte |= ctr_mouse_disabled;
        break;
    case 0xa8:
        state_.command_byte &= static_cast<std::uint8_t>(~ctr_mouse_disabled);
        break;
    case 0xa9:
    case 0xab:
        push(0x00, false);  // port test passed
        break;
    case 0xaa:
        push(0x55, false);  // controller self-test passed
        break;
    case 0xad:
        state_.command_byte |= ctr_keyboard_disabled;
        break;
    case 0xae:
        state_.command_byte &= static_cast<std::uint8_t>(~ctr_keyboard_disabled);
        break;
    case 0xc0:
        push(0x00, false);  // input port
        break;
    case 0xd0:
        push(0x01, false);  // output port: system reset line high (not in reset)
        break;
    default:
        // 0xf0-0xff pulse output lines; bit 0 clear pulses the CPU reset line
        if (value >= 0xf0 && (value & 0x01) == 0) {
            reset_pending_ = true;
        }
        break;
    }
}

void I8042::write_data(std::uint8_t value)
{
    state_.last_write_was_command = false;
    const std::uint8_t pending = state_.pending_command;
    state_.pending_command = 0;
    switch (pending) {
    case 0x60:
        state_.command_byte = value;
        return;
    case 0xd1:
        if ((value & 0x01) == 0) {
            reset_pending_ = true;
        }
        return;
    case 0xd2:
        push(value, false);
        return;
    case 0xd3:
        push(value, true);
        return;
    case 0xd4:
        mouse_command(value);
        return;
    default:
        keyboard_command(value);
    }
}

void I8042::keyboard_command(std::uint8_t value)
{
    if (state_.pending_keyboard != 0) {
        const std::uint8_t command = state_.pending_keyboard;
        state_.pending_keyboard = 0;
        push(ack, false);
        if (command == 0xf0 && value == 0) {
            push(0x02, false);  // current scancode set
        }
        return;
    }
    switch (value) {
    case 0xff:
        state_.keyboard_scanning = true;
        push(ack, false);
        push(self_test_passed, false);
        break;
    case 0xf2:
        push(ack, false);
        push(0xab, false);
        push(0x83, false);
        break;
    case 0xf4:
        state_.keyboard_scanning = true;
        push(ack, false);
        break;
    case 0xf5:
        state_.keyboard_scanning = false;
        push(ack, false);
        break;
    case 0xed:
    case 0xf3:
    case 0xf0:
        state_.pending_keyboard = value;
        push(ack, false);
        break;
    case 0xee:
        push(0xee, false);
        break;
    default:
        push(ack, false);
        break;
    }
}

void I8042::mouse_command(std::uint8_t value)
{
    if (state_.pending_mouse != 0) {
        const std::uint8_t command = state_.pending_mouse;
        state_.pending_mouse = 0;
        if (command == 0xf3) {
            state_.mouse_sample_rate = value;
        } else if (command == 0xe8) {
            state_.mouse_resolution = value & 0x03;
        }
        push(ack, true);
        return;
    }
    switch (value) {
    case 0xff:
        state_.mouse_reporting = false;
        state_.mouse_sample_rate = 100;
        state_.mouse_resolution = 2;
        push(ack, true);
        push(self_test_passed, true);
        push(0x00, true);  // device id: standard mouse
        break;
    case 0xf2:
        push(ack, true);
        push(0x00, true);
        break;
    case 0xf4:
        state_.mouse_reporting = true;
        push(ack, true);
        break;
    case 0xf5:
        state_.mouse_reporting = false;
        push(ack, true);
        break;
    case 0xf6:
        state_.mouse_sample_rate = 100;
        state_.mouse_resolution = 2;
        state_.mouse_scaling_2to1 = false;
        push(ack, true);
        break;
    case 0xf3:
    case 0xe8:
        state_.pending_mouse = value;
        push(ack, true);
        break;
    case 0xe6:
    case 0xe7:
        state_.mouse_scaling_2to1 = value == 0xe7;
        push(ack, true);
        break;
    case 0xe9:
        push(ack, true);
        push(static_cast<std::uint8_t>((state_.mouse_reporting ? 0x20 : 0) | (state_.mouse_scaling_2to1 ? 0x10 : 0) |
                                       (state_.mouse_buttons & 0x07)),
             true);
        push(state_.mouse_resolution, true);
        push(state_.mouse_sample_rate, true);
        break;
    default:
        push(ack, true);
        break;
    }
}

std::optional<std::chrono::steady_clock::duration> I8042::since_last_input() const
{
    const auto last = last_input_ns_.load();
    if (last == 0) {
        return std::nullopt;
    }
    return std::chrono::steady_clock::now().time_since_epoch() - std::chrono::nanoseconds(last);
}

void I8042::key(std::uint8_t code, bool extended, bool down)
{
    last_input_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
    std::lock_guard lock(mutex_);
    if (!state_.keyboard_scanning || (state_.command_byte & ctr_keyboard_disabled)) {
        return;
    }
    if (extended) {
        push(0xe0, false);
    }
    if (!down) {
        push(0xf0, false);
    }
    push(code, false);
    update_irqs();
}

void I8042::mouse_motion(int dx, int dy, std::uint8_t buttons)
{
    last_input_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
    std::lock_guard lock(mutex_);
    state_.mouse_buttons = buttons & 0x07;
    if (!state_.mouse_reporting || (state_.command_byte & ctr_mouse_disabled)) {
        return;
    }
    // PS/2 counts y upwards; split large moves into packets of at most 255 counts
    int x = dx;
    int y = -dy;
    do {
        const int step_x = std::clamp(x, -255, 255);
        const int step_y = std::clamp(y, -255, 255);
        x -= step_x;
        y -= step_y;
        const std::uint8_t flags = static_cast<std::uint8_t>(0x08 | (buttons & 0x07) | (step_x < 0 ? 0x10 : 0) |
                                                             (step_y < 0 ? 0x20 : 0));
        push(flags, true);
        push(static_cast<std::uint8_t>(step_x & 0xff), true);
        push(static_cast<std::uint8_t>(step_y & 0xff), true);
    } while (x != 0 || y != 0);
    update_irqs();
}

I8042State I8042::save() const
{
    std::lock_guard lock(mutex_);
    I8042State state = state_;
    state.output.clear();
    state.output_is_aux.clear();
    for (const auto& [byte, aux] : output_) {
        state.output.push_back(byte);
        state.output_is_aux.push_back(aux);
    }
    return state;
}

void I8042::restore(const I8042State& state)
{
    std::lock_guard lock(mutex_);
    state_ = state;
    output_.clear();
    for (std::size_t i = 0; i < state.output.size() && i < state.output_is_aux.size(); ++i) {
        output_.emplace_back(state.output[i], state.output_is_aux[i]);
    }
    state_.output.clear();
    state_.output_is_aux.clear();
    keyboard_level_ = mouse_level_ = false;
    update_irqs();
}

}  // namespace vdi::hv
