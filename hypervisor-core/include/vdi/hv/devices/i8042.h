// The i8042 PS/2 controller with a keyboard (scancode set 2, IRQ 1) and a mouse (3-byte
// packets, IRQ 12) behind it, at ports 0x60 (data) and 0x64 (status/command).
//
// The controller does not translate set 2 to set 1; its command byte starts with translation
// off, which Linux's i8042/atkbd drivers honour (they then speak set 2 directly). Host input
// (VNC/RDP clients, tests) enters through key() and mouse_motion(). A pulse of the reset line
// (command 0xFE) calls the reset callback. Threads: any thread; one mutex guards the state.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <vector>

#include "vdi/hv/devices/interrupt_line.h"
#include "vdi/hv/io_bus.h"

namespace vdi::hv {

struct I8042State {
    std::uint8_t command_byte = 0x07;   // kbd and aux interrupts on, system flag, no translation
    std::uint8_t pending_command = 0;   // controller command waiting for its data byte (0: none)
    std::uint8_t pending_keyboard = 0;  // keyboard command waiting for its parameter
    std::uint8_t pending_mouse = 0;     // mouse command waiting for its parameter
    bool last_write_was_command = false;
    bool keyboard_scanning = true;
    bool mouse_reporting = false;
    std::uint8_t mouse_sample_rate = 100;
    std::uint8_t mouse_resolution = 2;
    bool mouse_scaling_2to1 = false;
    std::uint8_t mouse_buttons = 0;
    std::vector<std::uint8_t> output;   // bytes waiting at port 0x60 ...
    std::vector<bool> output_is_aux;    // ... and whether each came from the mouse
};

class I8042 : public BusDevice {
public:
    static constexpr std::uint64_t data_port = 0x60;
    static constexpr std::uint64_t command_port = 0x64;
    static constexpr std::size_t output_limit = 1024;

    I8042(InterruptLine& keyboard_irq, InterruptLine& mouse_irq, std::function<void()> reset_request);

    // Registered twice on the port bus: at 0x60 (length 1) and at 0x64 (length 1); the offset is
    // 0 in both cases, so the device tells them apart by which registration it was given.
    BusDevice& data_device() { return data_; }
    BusDevice& command_device() { return command_; }

    // A key event as set-2 bytes (make code; the device adds F0 for break, after any E0 prefix).
    // `code` is the set-2 make code, `extended` adds the E0 prefix.
    void key(std::uint8_t code, bool extended, bool down);
    // Relative mouse motion (x right, y down as on screen) with the buttons now held
    // (bit 0 left, bit 1 right, bit 2 middle).
    void mouse_motion(int dx, int dy, std::uint8_t buttons);

    // Time since the last key or mouse event from outside (a user at a display, the control
    // socket); nullopt if there has been none. What "idle" means for session limits.
    std::optional<std::chrono::steady_clock::duration> since_last_input() const;

    I8042State save() const;
    void restore(const I8042State& state);

    // BusDevice for completeness (not registered directly).
    void read(std::uint64_t, std::span<std::uint8_t> data) override;
    void write(std::uint64_t, std::span<const std::uint8_t> data) override;

private:
    struct Port : BusDevice {
        Port(I8042& owner, bool command) : owner_(owner), command_(command) {}
        void read(std::uint64_t, std::span<std::uint8_t> data) override;
        void write(std::uint64_t, std::span<const std::uint8_t> data) override;
        I8042& owner_;
        bool command_;
    };

    std::uint8_t read_data();
    std::uint8_t read_status();
    void write_data(std::uint8_t value);
    void write_command(std::uint8_t value);
    void keyboard_command(std::uint8_t value);
    void mouse_command(std::uint8_t value);
    void push(std::uint8_t byte, bool aux);
    void update_irqs();

    InterruptLine& keyboard_irq_;
    InterruptLine& mouse_irq_;
    std::function<void()> reset_request_;
    Port data_{*this, false};
    Port command_{*this, true};
    mutable std::mutex mutex_;  // guards state_, output_, irq levels
    I8042State state_;
    std::deque<std::pair<std::uint8_t, bool>> output_;
    bool keyboard_level_ = false;
    bool mouse_level_ = false;
    bool reset_pending_ = false;
    std::atomic<std::int64_t> last_input_ns_{0};  // steady clock; 0: never
};

}  // namespace vdi::hv
