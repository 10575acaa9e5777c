// A Clock for tests: real time shifted by an offset the test moves, so time still passes on its
// own (for code that also waits on the real clock) while the test jumps ahead.
// Thread-safety: every member may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>

#include "vdi/common/clock.h"

namespace vdi::test {

class TestClock : public vdi::Clock {
public:
    TimePoint now() const override { return std::chrono::system_clock::now() + offset_.load(); }
    // From now on, now() starts at `t`.
    void set(TimePoint t) { offset_ = t - std::chrono::system_clock::now(); }
    // Jumps ahead by `d`.
    void advance(std::chrono::system_clock::duration d) { offset_ = offset_.load() + d; }

private:
    std::atomic<std::chrono::system_clock::duration> offset_{std::chrono::system_clock::duration::zero()};
};

}  // namespace vdi::test
