// The clock seam: code whose behaviour depends on the time of day (timeouts measured against
// database timestamps, cron schedules) reads it from a Clock, so tests can drive it
// (tests/support/include/vdi/test/test_clock.h).
// Thread-safety: now() may be called from any thread.
#pragma once

#include <chrono>

namespace vdi {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
public:
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
};

// The real wall clock.
class SystemClock final : public Clock {
public:
    TimePoint now() const override { return std::chrono::system_clock::now(); }
};

// The one SystemClock a process needs (for defaults of `const Clock&` parameters).
inline const Clock& system_clock()
{
    static const SystemClock clock;
    return clock;
}

}  // namespace vdi
