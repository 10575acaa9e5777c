// The 16550A UART: transmit, receive with interrupts, loopback, save/restore.
#include <catch2/catch.hpp>

#include "recording_line.h"
#include "vdi/hv/devices/serial_8250.h"

using vdi::hv::Serial8250;

namespace {

std::uint8_t rd(Serial8250& s, std::uint64_t reg)
{
    std::uint8_t v = 0;
    s.read(reg, std::span(&v, 1));
    return v;
}

void wr(Serial8250& s, std::uint64_t reg, std::uint8_t v)
{
    s.write(reg, std::span<const std::uint8_t>(&v, 1));
}

}  // namespace

TEST_CASE("serial: bytes written to THR reach the console and LSR says ready", "[devices][serial]")
{
    RecordingLine irq;
    std::string out;
    Serial8250 uart(irq, [&](std::span<const std::uint8_t> b) { out.append(b.begin(), b.end()); });
    CHECK((rd(uart, 5) & 0x60) == 0x60);  // THR empty, transmitter empty
    for (char c : std::string("Linux version")) {
        wr(uart, 0, static_cast<std::uint8_t>(c));
    }
    CHECK(out == "Linux version");
    CHECK(irq.levels.empty());  // no interrupt enabled, none raised
}

TEST_CASE("serial: received bytes raise the receive interrupt until read", "[devices][serial]")
{
    RecordingLine irq;
    Serial8250 uart(irq, nullptr);
    wr(uart, 1, 0x01);  // IER: receive data available
    CHECK_FALSE(irq.level);
    const std::uint8_t input[] = {'o', 'k'};
    REQUIRE(uart.push_input(input));
    CHECK(irq.level);
    CHECK((rd(uart, 2) & 0x0f) == 0x04);  // IIR: receive data
    CHECK((rd(uart, 5) & 0x01) == 0x01);
    CHECK(rd(uart, 0) == 'o');
    CHECK(irq.level);
    CHECK(rd(uart, 0) == 'k');
    CHECK_FALSE(irq.level);
    CHECK((rd(uart, 5) & 0x01) == 0);
    CHECK((rd(uart, 2) & 0x0f) == 0x01);  // nothing pending
}

TEST_CASE("serial: enabling THRE interrupts raises one, reading IIR acknowledges it", "[devices][serial]")
{
    RecordingLine irq;
    Serial8250 uart(irq, nullptr);
    wr(uart, 1, 0x02);
    CHECK(irq.level);
    CHECK((rd(uart, 2) & 0x0f) == 0x02);
    CHECK_FALSE(irq.level);
    wr(uart, 0, 'x');  // transmitting empties THR again: a new interrupt
    CHECK(irq.level);
    CHECK(irq.edges() == 2);
}

TEST_CASE("serial: divisor latch, scratch register and loopback as Linux probes them", "[devices][serial]")
{
    RecordingLine irq;
    std::string out;
    Serial8250 uart(irq, [&](std::span<const std::uint8_t> b) { out.append(b.begin(), b.end()); });
    wr(uart, 3, 0x80);
    wr(uart, 0, 0x01);
    wr(uart, 1, 0x00);
    CHECK(rd(uart, 0) == 0x01);
    wr(uart, 3, 0x03);
    wr(uart, 7, 0x5a);
    CHECK(rd(uart, 7) == 0x5a);
    wr(uart, 4, 0x10 | 0x0a);      // loopback with RTS and OUT2
    CHECK((rd(uart, 6) & 0xf0) == 0x90);  // CTS and DCD follow RTS and OUT2
    wr(uart, 0, 'L');
    CHECK(out.empty());            // looped back, not sent
    CHECK(rd(uart, 0) == 'L');
}

TEST_CASE("serial: state survives save -> restore", "[devices][serial][state]")
{
    RecordingLine irq;
    Serial8250 uart(irq, nullptr);
    wr(uart, 3, 0x80);
    wr(uart, 0, 0x03);
    wr(uart, 3, 0x1b);
    wr(uart, 1, 0x01);
    wr(uart, 7, 0x42);
    const std::uint8_t pending[] = {'a', 'b', 'c'};
    uart.push_input(pending);
    CHECK(rd(uart, 0) == 'a');
    const auto state = uart.save();

    RecordingLine irq2;
    Serial8250 copy(irq2, nullptr);
    copy.restore(state);
    CHECK(irq2.level);  // the pending receive interrupt is raised again
    CHECK(rd(copy, 3) == 0x1b);
    CHECK(rd(copy, 7) == 0x42);
    CHECK(rd(copy, 0) == 'b');
    CHECK(rd(copy, 0) == 'c');
    wr(copy, 3, 0x9b);
    CHECK(rd(copy, 0) == 0x03);
    CHECK(copy.save().receive_fifo.empty());
}

TEST_CASE("serial: a flood of host input is bounded", "[devices][serial]")
{
    RecordingLine irq;
    Serial8250 uart(irq, nullptr);
    std::vector<std::uint8_t> big(Serial8250::input_limit, 'x');
    CHECK(uart.push_input(big));
    const std::uint8_t one = 'y';
    CHECK_FALSE(uart.push_input(std::span(&one, 1)));
}
