// Running child processes from tests with a deadline (never an unbounded wait).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace vdi::test {

struct ProcessResult {
    int exit_code = -1;     // -1 if killed by a signal or by the deadline
    bool timed_out = false;
    std::string output;     // stdout and stderr together
};

// Runs argv[0] with the arguments, feeding `input` on stdin; kills it at the deadline.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input = "",
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace vdi::test
