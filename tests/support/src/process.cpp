// fork/exec with a pipe for output and a deadline.
#include "vdi/test/process.h"

#include "vdi/common/unique_fd.h"
#include "vdi/hv/control_client.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace vdi::test {
namespace {

// In a forked child: replaces the process image, or exits 127 as a shell would.
[[noreturn]] void exec_or_exit(const std::vector<std::string>& argv)
{
    std::vector<char*> args;
    for (const auto& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input,
                          std::chrono::milliseconds timeout)
{
    int out_fds[2];
    int in_fds[2];
    if (pipe2(out_fds, O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    UniqueFd out_read(out_fds[0]);
    UniqueFd out_write(out_fds[1]);
    if (pipe2(in_fds, O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    UniqueFd in_read(in_fds[0]);
    UniqueFd in_write(in_fds[1]);
    const pid_t pid = fork();
    if (pid < 0) {
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
        // the pipes are O_CLOEXEC: exec closes them in the child, only the dup2 copies stay
        dup2(in_read.get(), STDIN_FILENO);
        dup2(out_write.get(), STDOUT_FILENO);
        dup2(out_write.get(), STDERR_FILENO);
        exec_or_exit(argv);
    }
    out_write.reset();  // so that the read below sees end-of-file when the child exits
    in_read.reset();
    if (!input.empty()) {
        // small inputs only (a password line): fits the pipe buffer
        [[maybe_unused]] auto written = write(in_write.get(), input.data(), input.size());
    }
    in_write.reset();  // end of the child's stdin

    ProcessResult result;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buffer[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            result.timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        pollfd pfd{out_read.get(), POLLIN, 0};
        const int ready = poll(&pfd, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready <= 0) {
            continue;
        }
        const ssize_t n = read(out_read.get(), buffer, sizeof buffer);
        if (n <= 0) {
            break;
        }
        result.output.append(buffer, static_cast<std::size_t>(n));
    }
    out_read.reset();
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!result.timed_out && WIFEXITED(status)) {
        result.exit_code = WEXITSTATUS(status);
    }
    return result;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& output_file)
{
    const pid_t pid = fork();
    if (pid < 0) {
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
        ::setpgid(0, 0);  // its own process group, so that wrappers (xvfb-run) go down whole
        if (!output_file.empty()) {
            // O_CLOEXEC: exec closes this descriptor; the dup2 copies (which drop the flag) stay
            const int fd = open(output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (fd >= 0) {
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
            }
        }
        exec_or_exit(argv);
    }
    pid_ = pid;
}

ChildProcess::~ChildProcess()
{
    if (!status_) {
        kill(-pid_, SIGKILL);
        kill(pid_, SIGKILL);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
}

void ChildProcess::signal(int sig, bool whole_group) const
{
    if (!status_) {
        kill(whole_group ? -pid_ : pid_, sig);
    }
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!status_) {
        int status = 0;
        const pid_t done = waitpid(pid_, &status, WNOHANG);
        if (done == pid_) {
            status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status_;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (condition()) {
            return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return condition();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

std::string read_text_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

std::optional<std::string> unix_request(const std::string& socket_path, const std::string& line)
{
    return vdi::hv::request_line(socket_path, line, std::chrono::seconds(30));
}

std::string find_cloud_kernel()
{
    for (const auto& entry : std::filesystem::directory_iterator("/boot")) {
        const auto name = entry.path().filename().string();
        if (name.rfind("vmlinuz-", 0) == 0 && name.find("cloud-amd64") != std::string::npos) {
            return entry.path().string();
        }
    }
    return "";
}

}  // namespace vdi::test
