// Running child processes from tests with a deadline (never an unbounded wait).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
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

// A child process that runs alongside the test (a VMM, a server). Killed if still running when
// the object goes away.
class ChildProcess {
public:
    // Starts argv[0]; stdout and stderr go to `output_file` (appended) unless it is empty.
    explicit ChildProcess(const std::vector<std::string>& argv, const std::string& output_file = "");
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    int pid() const { return pid_; }
    // Signals the child; with `whole_group`, every process it started too (it leads its own group).
    void signal(int sig, bool whole_group = false) const;
    // Exit status (or -signal) once it exited within `timeout`; nullopt if still running.
    std::optional<int> wait(std::chrono::milliseconds timeout);

private:
    int pid_ = -1;
    std::optional<int> status_;
};

// Polls `condition` every 20 ms until it holds or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// The whole contents of a file ("" if it cannot be read).
std::string read_text_file(const std::string& path);

// Sends one line to a unix stream socket and returns the first line of the answer (without
// the newline); nullopt if the socket cannot be reached.
std::optional<std::string> unix_request(const std::string& socket_path, const std::string& line);

// /boot/vmlinuz-*-cloud-amd64 (installed by ./vdi setup), or "" if there is none.
std::string find_cloud_kernel();

}  // namespace vdi::test
