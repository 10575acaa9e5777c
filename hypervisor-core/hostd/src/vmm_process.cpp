// Spawning, adopting, watching and stopping vdi-vmm processes.
#include "vdi/hostd/vmm_process.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "vdi/common/unique_fd.h"
#include "vdi/hv/control_client.h"
#include "vdi/hv/hypervisor.h"

extern char** environ;

namespace vdi::hostd {
namespace {

int pidfd_open(pid_t pid)
{
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

std::string signal_name(int sig)
{
    const char* name = sigabbrev_np(sig);
    return name != nullptr ? std::string("SIG") + name : std::to_string(sig);
}

}  // namespace

std::unique_ptr<VmmProcess> VmmProcess::start(const VmmLaunch& launch, std::chrono::milliseconds timeout)
{
    auto vmm = std::unique_ptr<VmmProcess>(new VmmProcess());
    vmm->desktop_id_ = launch.desktop_id;
    vmm->generation_ = launch.generation;
    const std::string stem = "desktop-" + std::to_string(launch.desktop_id);
    // each VMM gets a directory of its own: the sandbox confines it there
    vmm->dir_ = launch.state_dir / stem;
    std::filesystem::create_directories(vmm->dir_);
    std::filesystem::permissions(vmm->dir_, std::filesystem::perms::owner_all);
    vmm->socket_ = vmm->dir_ / "control.sock";
    vmm->record_ = launch.state_dir / (stem + ".json");
    vmm->log_ = vmm->dir_ / "vmm.log";
    vmm->image_ = launch.image_dir;

    int notify[2];
    if (::pipe2(notify, O_CLOEXEC) != 0) {
        throw hv::HvError(fmt::format("cannot create a pipe for the VMM's readiness: {}", std::strerror(errno)));
    }
    UniqueFd notify_read(notify[0]);
    UniqueFd notify_write(notify[1]);
    std::vector<std::string> args = {launch.vmm_binary.string(), "--restore", launch.image_dir.string(),
                                     "--serial", "/dev/null", "--control", vmm->socket_.string(),
                                     "--identity", launch.identity.dump(), "--notify-fd", "3"};
    if (launch.sandbox) {
        args.push_back("--sandbox");
    }
    if (!launch.vnc_bind.empty()) {
        args.push_back("--vnc");
        args.push_back(launch.vnc_bind + ":0");
    }
    if (!launch.rdp_bind.empty()) {
        args.insert(args.end(), {"--rdp", launch.rdp_bind + ":0", "--rdp-cert", launch.rdp_certificate.string(),
                                 "--rdp-key", launch.rdp_private_key.string(), "--rdp-key-checked"});
    }
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, vmm->log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0640);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn_file_actions_adddup2(&actions, notify_write.get(), 3);  // dup2 clears close-on-exec
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    // its own session: the VMM outlives the agent (restarts adopt it) and its terminal signals
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0], &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    notify_write.reset();  // the VMM holds the only write end now: its exit ends the read below
    if (rc != 0) {
        throw hv::HvError(fmt::format("cannot start {}: {}", launch.vmm_binary.string(), std::strerror(rc)));
    }
    vmm->pid_ = pid;
    vmm->pidfd_.reset(pidfd_open(pid));
    try {
        vmm->write_record();
    } catch (const hv::HvError&) {
        vmm->stop(std::chrono::milliseconds(1000));  // a VMM without its record could not be adopted
        throw;
    }

    pollfd pfd{notify_read.get(), POLLIN, 0};
    char buffer[16] = {};
    const int ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
    const ssize_t n = ready > 0 ? ::read(notify_read.get(), buffer, sizeof buffer) : 0;
    notify_read.reset();
    if (n <= 0) {
        // exited or hung before its vCPUs ran
        vmm->exited();
        const std::string reason = vmm->exit_reason_.empty() ? "it did not start within the timeout"
                                                              : vmm->exit_reason_;
        vmm->stop(std::chrono::milliseconds(1000));
        throw hv::HvError(fmt::format("the VMM for desktop {} failed to start: {}", launch.desktop_id, reason));
    }
    vmm->read_status();
    return vmm;
}

void VmmProcess::read_status()
{
    if (const auto status = request({{"cmd", "status"}})) {
        if (const auto identity = status->find("identity"); identity != status->end() && identity->is_object()) {
            user_ = identity->value("user", std::string());
        }
        const auto& displays = status->value("displays", nlohmann::json::object());
        if (displays.contains("vnc")) {
            vnc_port_ = displays["vnc"].value("port", 0);
        }
        if (displays.contains("rdp")) {
            rdp_port_ = displays["rdp"].value("port", 0);
        }
    }
}

std::optional<std::string> VmmProcess::tell_user(const std::string& user)
{
    // the host name stays; the guest takes a fresh seed and the time with it
    const auto response = request({{"cmd", "identity"}, {"user", user}});
    if (!response) {
        return "the VMM did not answer";
    }
    if (!response->value("ok", false)) {
        return response->value("error", std::string("the VMM refused the identity"));
    }
    user_ = user;
    return std::nullopt;
}

std::unique_ptr<VmmProcess> VmmProcess::adopt(const std::filesystem::path& record)
{
    nlohmann::json data;
    try {
        std::ifstream in(record);
        data = nlohmann::json::parse(in);
    } catch (const std::exception&) {
        std::filesystem::remove(record);
        return nullptr;
    }
    auto vmm = std::unique_ptr<VmmProcess>(new VmmProcess());
    vmm->desktop_id_ = data.value("desktop", std::int64_t{0});
    vmm->generation_ = data.value("generation", std::int64_t{0});
    vmm->pid_ = data.value("pid", -1);
    vmm->socket_ = data.value("socket", std::string());
    vmm->image_ = data.value("image", std::string());
    vmm->record_ = record;
    vmm->dir_ = record.parent_path() / record.stem();
    vmm->log_ = vmm->dir_ / "vmm.log";
    vmm->adopted_ = true;
    // is that pid still this VMM? (pids are reused)
    std::ifstream cmdline("/proc/" + std::to_string(vmm->pid_) + "/cmdline");
    std::string args((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    const bool ours = vmm->pid_ > 0 && args.find("vdi-vmm") != std::string::npos &&
                      args.find(vmm->socket_.string()) != std::string::npos;
    if (ours) {
        vmm->pidfd_.reset(pidfd_open(vmm->pid_));
    }
    if (!ours || !vmm->pidfd_ || !vmm->request({{"cmd", "status"}})) {
        std::filesystem::remove(record);
        vmm->pid_ = -1;  // not ours to signal
        return nullptr;
    }
    vmm->read_status();
    return vmm;
}

VmmProcess::~VmmProcess() = default;

void VmmProcess::write_record() const
{
    const nlohmann::json data = {{"desktop", desktop_id_},
                                 {"generation", generation_},
                                 {"pid", pid_},
                                 {"socket", socket_.string()},
                                 {"image", image_.string()}};
    const auto tmp = record_.string() + ".tmp";
    std::ofstream out(tmp);
    out << data.dump() << "\n";
    out.close();
    if (!out) {
        // an empty or partial record would be published; without it a restarted agent cannot adopt the VMM
        throw hv::HvError(fmt::format("could not write the VMM record {} (for desktop {}); free space on its file "
                                      "system or fix its permissions, then start the desktop again",
                                      tmp, desktop_id_));
    }
    std::filesystem::rename(tmp, record_);
}

std::optional<nlohmann::json> VmmProcess::request(const nlohmann::json& request) const
{
    const auto response = hv::request_line(socket_, request.dump(), std::chrono::seconds(2));
    if (!response) {
        return std::nullopt;
    }
    try {
        return nlohmann::json::parse(*response);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::string VmmProcess::last_log_line() const
{
    std::ifstream in(log_);
    std::string line, last;
    while (std::getline(in, line)) {
        if (!line.empty()) {
            last = line;
        }
    }
    return last;
}

bool VmmProcess::exited()
{
    if (exited_) {
        return true;
    }
    if (!pidfd_) {
        return false;
    }
    pollfd pfd{pidfd_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 0) <= 0) {
        return false;
    }
    exited_ = true;
    std::string how = "the VMM process exited";
    if (!adopted_) {
        siginfo_t info{};
        if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info, WEXITED | WNOHANG) == 0 &&
            info.si_pid != 0) {
            how = info.si_code == CLD_EXITED ? fmt::format("the VMM exited with status {}", info.si_status)
                                             : fmt::format("the VMM was killed by signal {} ({})", info.si_status,
                                                           signal_name(info.si_status));
        }
    } else {
        how = "the (adopted) VMM process ended";
    }
    const std::string last = last_log_line();
    exit_reason_ = last.empty() ? how : how + ": " + last;
    return true;
}

void VmmProcess::stop(std::chrono::milliseconds grace)
{
    if (pid_ > 0 && !exited()) {
        ::kill(pid_, SIGTERM);
        pollfd pfd{pidfd_.get(), POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(grace.count())) <= 0) {
            ::kill(pid_, SIGKILL);
            ::poll(&pfd, 1, 5000);
        }
        exited();
    }
    std::error_code ec;
    std::filesystem::remove(record_, ec);
    if (!dir_.empty()) {
        std::filesystem::remove_all(dir_, ec);
    }
}

}  // namespace vdi::hostd
