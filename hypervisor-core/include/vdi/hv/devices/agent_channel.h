// The guest agent channel: a line protocol over a second UART (COM2, port 0x2f8, IRQ 3).
// Protocol (docs/guest-agent.md): ASCII lines ending in "\n", words separated by spaces,
// arguments as key=value with values free of spaces.
//   host -> guest  identity host=NAME user=NAME seed=64HEX time_ms=UNIX_MILLISECONDS  (user= empty: none)
//   guest -> host  hello version=N        the agent runs
//                  ready                  the desktop is drawn and usable
//                  log text...            a diagnostic line
//   both ways      clipboard text=PCT     clipboard text, percent-encoded UTF-8, <= 1024 bytes
// Threads: any thread; callbacks run on the vCPU thread that wrote the guest's line.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "vdi/hv/devices/serial_8250.h"

namespace vdi::hv {

struct GuestIdentity {
    std::string hostname;
    std::string user;
    std::string seed_hex;  // 32 random bytes, hex
    std::int64_t time_ms = 0;
};

struct AgentChannelState {
    Serial8250State uart;
    std::string partial_line;  // guest bytes after the last newline
    std::uint64_t ready_count = 0;
    int agent_version = 0;
};

class AgentChannel {
public:
    static constexpr std::size_t max_line = 4096;
    static constexpr std::size_t max_clipboard = 1024;  // bytes of clipboard text, either way

    explicit AgentChannel(InterruptLine& irq);

    Serial8250& uart() { return uart_; }

    // Sends an identity line; throws HvError if a value contains spaces or newlines, or if the
    // host name or seed is empty (an empty user means no user is assigned).
    void send_identity(const GuestIdentity& identity);
    // The identity sent last (its seed left out); nullopt before the first.
    std::optional<GuestIdentity> last_identity() const;

    // Sends "notice text=..." (percent-encoded): a message the desktop shows its user until the
    // next notice; empty text clears it. HvError for text that is not printable ASCII or is
    // longer than 200 characters.
    void send_notice(const std::string& text);

    // Sends "clipboard text=..." (percent-encoded UTF-8): a display client's clipboard, for the
    // desktop to paste. HvError above max_clipboard bytes (display servers cut before calling).
    void send_clipboard(const std::string& text);
    // `listener` gets the text of each well-formed guest "clipboard text=..." line (decoded, at
    // most max_clipboard bytes; malformed or longer lines are dropped). Returns an id for
    // remove_clipboard_listener(). Listeners run on the vCPU thread: they must not block.
    int add_clipboard_listener(std::function<void(const std::string&)> listener);
    void remove_clipboard_listener(int id);

    // Called for each "ready" line (after the count was bumped).
    void on_ready(std::function<void()> callback);
    // Waits until at least `count` ready lines arrived; false on timeout.
    bool wait_ready(std::uint64_t count, std::chrono::milliseconds timeout);
    std::uint64_t ready_count() const;
    // True once a "ready" arrived after the last identity sent (the desktop took its identity).
    bool identity_ready() const;
    // When the first "ready" arrived (steady clock); nullopt before.
    std::optional<std::chrono::steady_clock::time_point> first_ready_time() const;
    int agent_version() const;

    AgentChannelState save() const;
    void restore(const AgentChannelState& state);

private:
    void on_guest_bytes(std::span<const std::uint8_t> bytes);
    void handle_line(const std::string& line);
    void push_line(const std::string& line);

    Serial8250 uart_;
    mutable std::mutex mutex_;  // guards the fields below
    std::condition_variable ready_changed_;
    std::string partial_line_;
    std::uint64_t ready_count_ = 0;
    bool identity_pending_ = false;
    bool identity_ready_ = false;
    std::optional<GuestIdentity> last_identity_;
    std::optional<std::chrono::steady_clock::time_point> first_ready_;
    int agent_version_ = 0;
    std::function<void()> on_ready_;
    bool overlong_ = false;  // the partial line passed max_line: dropped at its newline
    std::vector<std::pair<int, std::function<void(const std::string&)>>> clipboard_listeners_;
    int last_listener_id_ = 0;
};

}  // namespace vdi::hv
