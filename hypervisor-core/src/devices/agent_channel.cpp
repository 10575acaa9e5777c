// Guest agent line protocol over a UART.
#include "vdi/hv/devices/agent_channel.h"
#include "vdi/common/logging.h"

#include <fmt/format.h>

namespace vdi::hv {
namespace {

void check_value(const std::string& key, const std::string& value)
{
    if (value.empty() || value.find_first_of(" \t\r\n=") != std::string::npos) {
        throw HvError(fmt::format("agent identity field {} must be non-empty without spaces or '='", key));
    }
}

}  // namespace

AgentChannel::AgentChannel(InterruptLine& irq)
    : uart_(irq, [this](std::span<const std::uint8_t> bytes) { on_guest_bytes(bytes); })
{
}

void AgentChannel::send_identity(const GuestIdentity& identity)
{
    check_value("host", identity.hostname);
    check_value("user", identity.user);
    check_value("seed", identity.seed_hex);
    const std::string line = fmt::format("identity host={} user={} seed={} time_ms={}\n", identity.hostname,
                                         identity.user, identity.seed_hex, identity.time_ms);
    {
        std::lock_guard lock(mutex_);
        identity_pending_ = true;
        identity_ready_ = false;
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
    std::string line = "notice text=";
    for (const char c : text) {
        if (c < 0x20 || c > 0x7e) {
            throw HvError("a notice is printable ASCII");
        }
        // spaces, '=' and '%' would break the line format: percent-encoded
        if (c == ' ' || c == '=' || c == '%') {
            line += fmt::format("%{:02X}", static_cast<unsigned char>(c));
        } else {
            line.push_back(c);
        }
    }
    line.push_back('\n');
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
                lines.push_back(std::move(partial_line_));
                partial_line_.clear();
            } else if (partial_line_.size() < max_line) {
                partial_line_.push_back(static_cast<char>(byte));
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
