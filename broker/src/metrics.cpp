// Prometheus text rendering of the broker's counters.
#include "vdi/broker/metrics.h"

#include <fmt/format.h>

namespace vdi::broker {

void Metrics::record_request(const std::string& method, const std::string& route, unsigned status,
                             std::chrono::duration<double> latency)
{
    std::lock_guard lock(mutex_);
    ++requests_[{method, route, status}];
    auto& histogram = latency_[{method, route}];
    for (std::size_t i = 0; i < buckets.size(); ++i) {
        if (latency.count() <= buckets[i]) {
            ++histogram.counts[i];
        }
    }
    ++histogram.count;
    histogram.sum += latency.count();
}

namespace {

void observe(auto& histogram, double seconds)
{
    for (std::size_t i = 0; i < Metrics::buckets.size(); ++i) {
        if (seconds <= Metrics::buckets[i]) ++histogram.counts[i];
    }
    ++histogram.count;
    histogram.sum += seconds;
}

// A label value with its backslashes, quotes and newlines escaped.
std::string label_value(const std::string& value)
{
    std::string out;
    for (const char c : value) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

}  // namespace

void Metrics::logon_stage(const std::string& pool, const std::string& component, const std::string& stage,
                          std::chrono::duration<double> length)
{
    std::lock_guard lock(mutex_);
    observe(logon_[{pool, component, stage}], length.count());
}

std::string Metrics::render(const std::string& extra) const
{
    std::string out;
    out += "# HELP vdi_broker_requests_total HTTP requests by route and status.\n"
           "# TYPE vdi_broker_requests_total counter\n";
    std::lock_guard lock(mutex_);
    for (const auto& [key, count] : requests_) {
        const auto& [method, route, status] = key;
        out += fmt::format("vdi_broker_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n", method,
                           route, status, count);
    }
    out += "# HELP vdi_broker_request_duration_seconds Time from a complete request to its response.\n"
           "# TYPE vdi_broker_request_duration_seconds histogram\n";
    for (const auto& [key, histogram] : latency_) {
        const auto& [method, route] = key;
        const auto labels = fmt::format("method=\"{}\",route=\"{}\"", method, route);
        for (std::size_t i = 0; i < buckets.size(); ++i) {
            out += fmt::format("vdi_broker_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", labels, buckets[i],
                               histogram.counts[i]);
        }
        out += fmt::format("vdi_broker_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", labels,
                           histogram.count);
        out += fmt::format("vdi_broker_request_duration_seconds_sum{{{}}} {}\n", labels, histogram.sum);
        out += fmt::format("vdi_broker_request_duration_seconds_count{{{}}} {}\n", labels, histogram.count);
    }
    out += "# HELP vdi_logon_duration_seconds Logon stages of connects, by pool, component and stage.\n"
           "# TYPE vdi_logon_duration_seconds histogram\n";
    for (const auto& [key, histogram] : logon_) {
        const auto& [pool, component, stage] = key;
        const auto labels =
            fmt::format("pool=\"{}\",component=\"{}\",stage=\"{}\"", label_value(pool), component, stage);
        for (std::size_t i = 0; i < buckets.size(); ++i) {
            out += fmt::format("vdi_logon_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", labels, buckets[i],
                               histogram.counts[i]);
        }
        out += fmt::format("vdi_logon_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", labels, histogram.count);
        out += fmt::format("vdi_logon_duration_seconds_sum{{{}}} {}\n", labels, histogram.sum);
        out += fmt::format("vdi_logon_duration_seconds_count{{{}}} {}\n", labels, histogram.count);
    }
    out += fmt::format("# HELP vdi_broker_logins_total Login attempts by outcome.\n"
                       "# TYPE vdi_broker_logins_total counter\n"
                       "vdi_broker_logins_total{{result=\"ok\"}} {}\n"
                       "vdi_broker_logins_total{{result=\"failed\"}} {}\n"
                       "vdi_broker_logins_total{{result=\"throttled\"}} {}\n"
                       "# HELP vdi_broker_assignments_total Desktops handed to users (new sessions).\n"
                       "# TYPE vdi_broker_assignments_total counter\n"
                       "vdi_broker_assignments_total {}\n"
                       "# HELP vdi_broker_no_desktop_ready_total Connects answered 503: no desktop was ready.\n"
                       "# TYPE vdi_broker_no_desktop_ready_total counter\n"
                       "vdi_broker_no_desktop_ready_total {}\n",
                       logins_ok_.load(), logins_failed_.load(), logins_throttled_.load(), assignments_.load(),
                       no_desktop_ready_.load());
    out += extra;
    return out;
}

}  // namespace vdi::broker
