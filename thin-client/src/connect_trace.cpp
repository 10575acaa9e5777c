// A connect's client-side stages (connect_trace.h).
#include "vdi/thin_client/connect_trace.h"

#include <algorithm>

namespace vdi::thin_client {

void ConnectTrace::begin(TraceClock::time_point at, bool is_reconnect)
{
    reconnect = is_reconnect;
    protocol.clear();
    origin = at;
    stages.clear();
}

void ConnectTrace::add(std::string name, TraceClock::time_point start, TraceClock::time_point end)
{
    // a clock read on another thread may land a hair before its predecessor: never negative
    if (end < start) end = start;
    stages.push_back({std::move(name), start, end});
}

std::chrono::nanoseconds ConnectTrace::total() const
{
    TraceClock::time_point last = origin;
    for (const auto& s : stages) last = std::max(last, s.end);
    return last - origin;
}

std::chrono::nanoseconds ConnectTrace::duration(std::string_view name) const
{
    std::chrono::nanoseconds sum{0};
    for (const auto& s : stages) {
        if (s.name == name) sum += s.end - s.start;
    }
    return sum;
}

bool ConnectTrace::has(std::string_view name) const
{
    return std::any_of(stages.begin(), stages.end(), [&](const TraceStage& s) { return s.name == name; });
}

std::chrono::nanoseconds ConnectTrace::unaccounted() const
{
    std::vector<std::pair<TraceClock::time_point, TraceClock::time_point>> spans;
    spans.reserve(stages.size());
    for (const auto& s : stages) spans.emplace_back(std::max(s.start, origin), std::max(s.end, origin));
    std::sort(spans.begin(), spans.end());
    std::chrono::nanoseconds covered{0};
    TraceClock::time_point reach = origin;
    for (const auto& [start, end] : spans) {
        if (end <= reach) continue;
        covered += end - std::max(start, reach);
        reach = end;
    }
    return total() - covered;
}

api::TimingReport timing_report(const ConnectTrace& trace, api::Id trace_id)
{
    const auto us = [&](TraceClock::time_point t) {
        return std::chrono::duration_cast<std::chrono::microseconds>(t - trace.origin).count();
    };
    api::TimingReport report;
    report.trace_id = trace_id;
    report.reconnect = trace.reconnect;
    report.total_us = std::chrono::duration_cast<std::chrono::microseconds>(trace.total()).count();
    for (const auto& stage : trace.stages) {
        report.stages.push_back({stage.name, us(stage.start), us(stage.end) - us(stage.start)});
    }
    return report;
}

}  // namespace vdi::thin_client
