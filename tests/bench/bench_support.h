// What the benchmarks share: a process's memory split around guest memory, percentiles.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace bench {

// Host address ranges (start, size) of a VMM's guest memory.
using GuestRanges = std::vector<std::pair<std::uintptr_t, std::uint64_t>>;

struct ProcessMemory {
    double pss_kib = 0;
    double private_kib = 0;            // Private_Clean + Private_Dirty
    double guest_private_kib = 0;      // of that, inside guest memory
    double rss_outside_guest_kib = 0;  // resident memory of the VMM itself
};

// From /proc/PID/smaps.
inline ProcessMemory process_memory(int pid, const GuestRanges& guest)
{
    ProcessMemory m;
    std::ifstream smaps("/proc/" + std::to_string(pid) + "/smaps");
    std::string line;
    bool in_guest = false;
    while (std::getline(smaps, line)) {
        std::uintptr_t start = 0, end = 0;
        if (std::sscanf(line.c_str(), "%lx-%lx ", &start, &end) == 2 && line.find(':') > line.find('-')) {
            in_guest = std::any_of(guest.begin(), guest.end(),
                                   [&](const auto& g) { return start < g.first + g.second && end > g.first; });
            continue;
        }
        long kib = 0;
        if (std::sscanf(line.c_str(), "Rss: %ld kB", &kib) == 1) {
            if (!in_guest) m.rss_outside_guest_kib += static_cast<double>(kib);
        } else if (std::sscanf(line.c_str(), "Pss: %ld kB", &kib) == 1) {
            m.pss_kib += static_cast<double>(kib);
        } else if (std::sscanf(line.c_str(), "Private_Clean: %ld kB", &kib) == 1 ||
                   std::sscanf(line.c_str(), "Private_Dirty: %ld kB", &kib) == 1) {
            m.private_kib += static_cast<double>(kib);
            if (in_guest) m.guest_private_kib += static_cast<double>(kib);
        }
    }
    return m;
}

// The p-th percentile (nearest rank below) of `values`; `values` must not be empty.
inline double percentile(std::vector<double> values, double p)
{
    std::sort(values.begin(), values.end());
    const auto index = std::min(values.size() - 1, static_cast<std::size_t>(p / 100.0 * static_cast<double>(values.size())));
    return values[index];
}

// CPU time the whole machine spent busy so far (every process, kernel included), from
// /proc/stat: user + nice + system + irq + softirq + steal, in seconds.
inline double machine_busy_seconds()
{
    std::ifstream stat("/proc/stat");
    std::string cpu;
    unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    return static_cast<double>(user + nice + system + irq + softirq + steal) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace bench
