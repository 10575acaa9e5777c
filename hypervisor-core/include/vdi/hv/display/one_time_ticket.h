// The one-time password a display server accepts: set by the host agent, valid until its expiry,
// and burned by the first attempt that uses it, right or wrong (guessing burns it). It carries the
// connect's logon trace id (docs/logon-timing.md), 0 for none. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace vdi::hv {

class OneTimeTicket {
public:
    struct Taken {
        std::string secret;
        std::int64_t trace_id = 0;
    };

    // Replaces any ticket not yet used.
    void set(const std::string& ticket, std::chrono::seconds ttl, std::int64_t trace_id = 0)
    {
        std::lock_guard lock(mutex_);
        ticket_ = Taken{ticket, trace_id};
        expiry_ = std::chrono::steady_clock::now() + ttl;
    }

    // The ticket for one authentication attempt, which burns it; nullopt if none is set or it
    // has expired.
    std::optional<Taken> take()
    {
        std::lock_guard lock(mutex_);
        std::optional<Taken> taken;
        if (ticket_ && std::chrono::steady_clock::now() <= expiry_) {
            taken = std::move(ticket_);
        }
        ticket_.reset();
        return taken;
    }

private:
    std::mutex mutex_;  // guards ticket_ and expiry_
    std::optional<Taken> ticket_;
    std::chrono::steady_clock::time_point expiry_;
};

// Compares secrets in time that depends on their lengths only.
inline bool same_secret(std::string_view a, std::string_view b)
{
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    }
    return diff == 0;
}

}  // namespace vdi::hv
