// What a display server saw of the client that used a traced ticket: its logon stages
// (docs/logon-timing.md) on the VMM's monotonic clock, from the moment the client's connection was
// accepted: `handshake` (accepted to the ticket presented: the protocol's greeting, for RDP its
// TLS and capabilities too), `authentication` (the ticket checked) and `first_update` (checked to
// the first framebuffer update written to the client). Kept until the host agent takes them
// (control command display_events).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace vdi::hv {

struct DisplayStage {
    std::string name;
    std::int64_t start_us = 0;
    std::int64_t duration_us = 0;
};

struct DisplayTrace {
    std::int64_t trace_id = 0;
    std::string protocol;
    std::vector<DisplayStage> stages;  // in order
};

// One display server's traces. A client is any pointer that names it (the library's client
// record) while it is connected. Thread-safe.
class DisplayTraceLog {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t max_kept = 32;  // complete traces not yet taken; the oldest go first

    explicit DisplayTraceLog(std::string protocol) : protocol_(std::move(protocol)) {}

    // `client` proved the ticket of trace `trace_id`: accepted at `accepted`, presented it at
    // `presented`, checked at `checked`. Its trace waits for the first update. (Trace 0: an
    // untraced ticket, nothing recorded.)
    void authenticated(const void* client, std::int64_t trace_id, Clock::time_point accepted,
                       Clock::time_point presented, Clock::time_point checked)
    {
        if (trace_id == 0) return;
        std::lock_guard lock(mutex_);
        Pending p{trace_id, accepted, {}};
        p.stages.push_back({"handshake", 0, us(presented - accepted)});
        p.stages.push_back({"authentication", us(presented - accepted), us(checked - presented)});
        pending_[client] = std::move(p);
    }
    // Whether `client`'s trace waits for its first update.
    bool waiting(const void* client) const
    {
        std::lock_guard lock(mutex_);
        return pending_.count(client) != 0;
    }
    // `client`'s first framebuffer update was written at `at`: its trace is complete.
    void first_update_sent(const void* client, Clock::time_point at)
    {
        std::lock_guard lock(mutex_);
        const auto it = pending_.find(client);
        if (it == pending_.end()) return;
        Pending& p = it->second;
        const std::int64_t checked_us = p.stages.back().start_us + p.stages.back().duration_us;
        p.stages.push_back({"first_update", checked_us, us(at - p.accepted) - checked_us});
        complete_.push_back({p.trace_id, protocol_, std::move(p.stages)});
        pending_.erase(it);
        while (complete_.size() > max_kept) complete_.pop_front();
    }
    // `client` left: a trace still waiting for its first update is dropped.
    void client_gone(const void* client)
    {
        std::lock_guard lock(mutex_);
        pending_.erase(client);
    }
    // The complete traces, oldest first; they are gone from the log.
    std::vector<DisplayTrace> take()
    {
        std::lock_guard lock(mutex_);
        std::vector<DisplayTrace> out(std::make_move_iterator(complete_.begin()), std::make_move_iterator(complete_.end()));
        complete_.clear();
        return out;
    }

private:
    struct Pending {
        std::int64_t trace_id;
        Clock::time_point accepted;
        std::vector<DisplayStage> stages;
    };
    static std::int64_t us(Clock::duration d)
    {
        return std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::microseconds>(d).count());
    }

    const std::string protocol_;
    mutable std::mutex mutex_;  // guards pending_ and complete_
    std::map<const void*, Pending> pending_;
    std::deque<DisplayTrace> complete_;
};

}  // namespace vdi::hv
