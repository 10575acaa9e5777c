// The broker's Prometheus metrics: requests by route and status, a latency histogram, logins
// and assignments. Thread-safe; rendered in the text exposition format (version 0.0.4).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>

namespace vdi::broker {

class Metrics {
public:
    // `route` is the route's template ("/api/v1/desktops/{pool}/connect"), never the raw path,
    // so the number of series stays bounded.
    void record_request(const std::string& method, const std::string& route, unsigned status,
                        std::chrono::duration<double> latency);
    void login(bool succeeded) { (succeeded ? logins_ok_ : logins_failed_)++; }
    void login_throttled() { logins_throttled_++; }
    void assignment() { assignments_++; }
    void no_desktop_ready() { no_desktop_ready_++; }
    // One logon stage of a connect to `pool` (vdi_logon_duration_seconds; docs/logon-timing.md).
    void logon_stage(const std::string& pool, const std::string& component, const std::string& stage,
                     std::chrono::duration<double> length);

    // Everything above, plus `extra` (already formatted lines, e.g. gauges read from the database).
    std::string render(const std::string& extra = "") const;

    static constexpr std::array<double, 12> buckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                       0.1,   0.25,   0.5,   1.0,  2.5,   5.0};

private:
    struct Histogram {
        std::array<long, buckets.size()> counts{};
        long count = 0;
        double sum = 0;
    };
    mutable std::mutex mutex_;  // guards requests_ and latency_
    std::map<std::tuple<std::string, std::string, unsigned>, long> requests_;
    std::map<std::pair<std::string, std::string>, Histogram> latency_;
    std::map<std::tuple<std::string, std::string, std::string>, Histogram> logon_;  // pool, component, stage
    std::atomic<long> logins_ok_{0}, logins_failed_{0}, logins_throttled_{0}, assignments_{0}, no_desktop_ready_{0};
};

}  // namespace vdi::broker
