// Guest agent line protocol over a UART.
#include "vdi/hv/devices/agent_channel.h"
#include "vdi/common/logging.h"

#include <optional>
#include <string_view>

#include <fmt/format.h>

namespace vdi::hv {
namespace {

void check_value(const std::string& key, const std::string& value, bool may_be_empty = false)
{
    if ((value.empty() && !may_be_empty) || value.find_first_of(" \t\r\n=") != std::string::npos) {
        throw HvError(fmt::format("agent identity field {} must be {}without spaces or '='", key,
                                  may_be_empty ? "" : "non-empty "));
    }
}

// Bytes that would break the line format (spaces, '=', '%', controls) and anything outside
// printable ASCII become %XX.
std::string percent_encode(const std::string& text)
{
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte > 0x7e || c == '=' || c == '%') {
            out += fmt::format("%{:02X}", byte);
        } else {
            out.push_back(c);
        }
    }
    return out;
}

int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// The guest's "clipboard text=..." line decoded; nullopt when malformed (no text=, a broken
// escape, raw bytes outside printable ASCII) or longer than `limit` decoded bytes.
std::optional<std::string> decode_clipboard_line(const std::string& line, std::size_t limit)
{
    static constexpr std::string_view prefix = "clipboard text=";
    if (line.compare(0, prefix.size(), prefix) != 0) {
        return std::nullopt;
    }
    std::string text;
    for (std::size_t i = prefix.size(); i < line.size(); ++i) {
        const char c = line[i];
        if (c == ' ') {
            break;  // (further arguments: ignored, forward compatible)
        }
        if (c == '%') {
            if (i + 2 >= line.size() || hex_value(line[i + 1]) < 0 || hex_value(line[i + 2]) < 0) {
                return std::nullopt;
            }
            text.push_back(static_cast<char>(hex_value(line[i + 1]) * 16 + hex_value(line[i + 2])));
            i += 2;
        } else if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e || c == '=') {
            return std::nullopt;
        } else {
            text.push_back(c);
        }
        if (text.size() > limit) {
            return std::nullopt;
        }
    }
    return text;
}

}  // namespace

AgentChannel::AgentChannel(InterruptLine& irq)
    : uart_(irq, [this](std::span<const std::uint8_t> bytes) { on_guest_bytes(bytes); })
{
}

void AgentChannel::send_identity(const GuestIdentity& identity)
{
    check_value("host", identity.hostname);
    check_value("user", identity.user, true);  // empty: no user is assigned
    check_value("seed", identity.seed_hex);
    const std::string line = fmt::format("identity host={} user={} seed={} time_ms={}\n", identity.hostname,
                                         identity.user, identity.seed_hex, identity.time_ms);
    {
        std::lock_guard lock(mutex_);
        identity_pending_ = true;
        identity_ready_ = false;
        last_identity_ = identity;
        last_identity_->seed_hex.clear();  // (a secret of the guest's; nobody asks for it back)
    }
    if (!uart_.push_input(std::span(reinterpret_cast<const std::uint8_t*>(line.data()), line.size()))) {
        throw HvError("the guest agent is not reading its channel (input queue full)");
    }
}

void AgentChannel::send_notice(const std::string& text)
{
    if (text.size() > 200) {
        throw HvError("a notice is at most 200 characters");
    }
    for (const char c : text) {
        if (c < 0x20 || c > 0x7e) {
            throw HvError("a notice is printable ASCII");
        }
    }
    push_line("notice text=" + percent_encode(text) + "\n");
}

void AgentChannel::send_clipboard(const std::string& text)
{
    if (text.size() > max_clipboard) {
        throw HvError(fmt::format("clipboard text is at most {} bytes", max_clipboard));
    }
    push_line("clipboard text=" + percent_encode(text) + "\n");
}

int AgentChannel::add_clipboard_listener(std::function<void(const std::string&)> listener)
{
    std::lock_guard lock(mutex_);
    clipboard_listeners_.emplace_back(++last_listener_id_, std::move(listener));
    return last_listener_id_;
}

void AgentChannel::remove_clipboard_listener(int id)
{
    std::lock_guard lock(mutex_);
    std::erase_if(clipboard_listeners_, [&](const auto& entry) { return entry.first == id; });
}

void AgentChannel::push_line(const std::string& line)
{
    if (!uart_.push_input(std::span(reinterpret_cast<const std::uint8_t*>(line.data()), line.size()))) {
        throw HvError("the guest agent is not reading its channel (input queue full)");
    }
}

void AgentChannel::on_ready(std::function<void()> callback)
{
    std::lock_guard lock(mutex_);
    on_ready_ = std::move(callback);
}

bool AgentChannel::wait_ready(std::uint64_t count, std::chrono::milliseconds timeout)
{
    std::unique_lock lock(mutex_);
    return ready_changed_.wait_for(lock, timeout, [&] { return ready_count_ >= count; });
}

std::uint64_t AgentChannel::ready_count() const
{
    std::lock_guard lock(mutex_);
    return ready_count_;
}

std::optional<std::chrono::steady_clock::time_point> AgentChannel::first_ready_time() const
{
    std::lock_guard lock(mutex_);
    return first_ready_;
}

std::optional<GuestIdentity> AgentChannel::last_identity() const
{
    std::lock_guard lock(mutex_);
    return last_identity_;
}

bool AgentChannel::identity_ready() const
{
    std::lock_guard lock(mutex_);
    return identity_ready_;
}

int AgentChannel::agent_version() const
{
    std::lock_guard lock(mutex_);
    return agent_version_;
}

void AgentChannel::on_guest_bytes(std::span<const std::uint8_t> bytes)
{
    std::vector<std::string> lines;
    {
        std::lock_guard lock(mutex_);
        for (std::uint8_t byte : bytes) {
            if (byte == '\n') {
                if (overlong_) {
                    // a cut line could read as a shorter valid one (clipboard text): dropped
                    logger("vmm.agent")->warn("dropped a guest line longer than {} bytes", max_line);
                } else {
                    lines.push_back(std::move(partial_line_));
                }
                partial_line_.clear();
                overlong_ = false;
            } else if (partial_line_.size() < max_line) {
                partial_line_.push_back(static_cast<char>(byte));
            } else {
                overlong_ = true;
            }
        }
    }
    for (const auto& line : lines) {
        handle_line(line);
    }
}

void AgentChannel::handle_line(const std::string& line)
{
    std::function<void()> callback;
    if (line == "ready") {
        std::lock_guard lock(mutex_);
        ++ready_count_;
        if (identity_pending_) {
            identity_pending_ = false;
            identity_ready_ = true;
        }
        if (!first_ready_) {
            first_ready_ = std::chrono::steady_clock::now();
        }
        callback = on_ready_;
        ready_changed_.notify_all();
    } else if (line.rfind("hello", 0) == 0) {
        const auto at = line.find("version=");
        std::lock_guard lock(mutex_);
        agent_version_ = at == std::string::npos ? 1 : std::atoi(line.c_str() + at + 8);
    } else if (line.rfind("clipboard ", 0) == 0) {
        const auto text = decode_clipboard_line(line, max_clipboard);
        if (!text) {
            logger("vmm.agent")->warn("ignored a malformed or oversized clipboard line bytes={}", line.size());
            return;
        }
        std::vector<std::function<void(const std::string&)>> listeners;
        {
            std::lock_guard lock(mutex_);
            for (const auto& [id, listener] : clipboard_listeners_) listeners.push_back(listener);
        }
        for (const auto& listener : listeners) {
            listener(*text);
        }
    } else if (line.rfind("log ", 0) == 0) {
        logger("vmm.agent")->info("guest log text=\"{}\"", line.substr(4));
    } else {
        logger("vmm.agent")->debug("ignoring an unknown line bytes={}", line.size());
    }
    if (callback) {
        callback();
    }
}

AgentChannelState AgentChannel::save() const
{
    AgentChannelState state;
    state.uart = uart_.save();
    std::lock_guard lock(mutex_);
    state.partial_line = partial_line_;
    state.ready_count = ready_count_;
    state.agent_version = agent_version_;
    return state;
}

void AgentChannel::restore(const AgentChannelState& state)
{
    uart_.restore(state.uart);
    std::lock_guard lock(mutex_);
    partial_line_ = state.partial_line;
    ready_count_ = state.ready_count;
    agent_version_ = state.agent_version;
}

}  // namespace vdi::hv
