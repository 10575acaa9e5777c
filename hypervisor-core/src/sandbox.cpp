// Capability dropping and the seccomp filter of vdi-vmm.
#include "vdi/hv/sandbox.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>
#include <seccomp.h>

#include "vdi/common/unique_fd.h"
#include "vdi/hv/hypervisor.h"

namespace vdi::hv {
namespace {

// What a running VMM needs: guest exits (ioctl), memory, threads and signals, the control
// socket (already bound), snapshot and screenshot files, time and randomness.
constexpr int allowed_syscalls[] = {
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(readv), SCMP_SYS(writev),
    SCMP_SYS(close), SCMP_SYS(ioctl), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(futex), SCMP_SYS(mmap),
    SCMP_SYS(munmap), SCMP_SYS(mprotect), SCMP_SYS(madvise), SCMP_SYS(mremap), SCMP_SYS(brk),
    SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), SCMP_SYS(gettid), SCMP_SYS(getpid),
    SCMP_SYS(tgkill), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
    SCMP_SYS(rt_sigtimedwait), SCMP_SYS(sigaltstack), SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(accept4),
    SCMP_SYS(accept), SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
    SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), SCMP_SYS(shutdown), SCMP_SYS(openat), SCMP_SYS(newfstatat),
    SCMP_SYS(fstat), SCMP_SYS(statx), SCMP_SYS(lseek), SCMP_SYS(ftruncate), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
    SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(mkdir), SCMP_SYS(mkdirat),
    SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(getrandom), SCMP_SYS(sched_yield),
    SCMP_SYS(sched_getaffinity), SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(fcntl), SCMP_SYS(pipe2),
    SCMP_SYS(restart_syscall), SCMP_SYS(getcwd), SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2),
    // the control socket and the threads start after the sandbox is entered
    SCMP_SYS(socket), SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(getsockname), SCMP_SYS(umask), SCMP_SYS(clone),
    SCMP_SYS(clone3), SCMP_SYS(set_tid_address),
    // the display servers' event loops
    SCMP_SYS(select), SCMP_SYS(pselect6), SCMP_SYS(getpeername), SCMP_SYS(gettimeofday),
    // FreeRDP/WinPR (RDP): event objects, waits, TLS
    SCMP_SYS(eventfd2), SCMP_SYS(eventfd), SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait), SCMP_SYS(timerfd_create), SCMP_SYS(timerfd_settime), SCMP_SYS(timerfd_gettime),
    SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(uname),
    SCMP_SYS(sysinfo), SCMP_SYS(getrusage), SCMP_SYS(dup), SCMP_SYS(dup2), SCMP_SYS(dup3), SCMP_SYS(prctl),
    SCMP_SYS(sched_getparam), SCMP_SYS(sched_getscheduler), SCMP_SYS(sched_setscheduler), SCMP_SYS(getppid),
    SCMP_SYS(clock_getres), SCMP_SYS(times), SCMP_SYS(getdents64), SCMP_SYS(readlink), SCMP_SYS(readlinkat),
    SCMP_SYS(membarrier), SCMP_SYS(getrlimit),
};

[[noreturn]] void fail(const std::string& what, int err)
{
    throw HvError(fmt::format("cannot enter the VMM sandbox: {}: {}", what, std::strerror(err)));
}

// Landlock: everything the running kernel can restrict is restricted, except beneath the
// allowed paths. Returns the ABI version in force, 0 when Landlock is unavailable.
int restrict_filesystem(const SandboxPaths& paths)
{
    const long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 1) {
        return 0;
    }
    std::uint64_t handled = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
                            LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
                            LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
                            LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
                            LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                            LANDLOCK_ACCESS_FS_MAKE_SYM;
    if (abi >= 2) {
        handled |= 1ULL << 13;  // LANDLOCK_ACCESS_FS_REFER
    }
    if (abi >= 3) {
        handled |= 1ULL << 14;  // LANDLOCK_ACCESS_FS_TRUNCATE
    }
    landlock_ruleset_attr ruleset{};
    ruleset.handled_access_fs = handled;
    const UniqueFd ruleset_fd(static_cast<int>(::syscall(SYS_landlock_create_ruleset, &ruleset, sizeof ruleset, 0)));
    if (!ruleset_fd) {
        fail("landlock_create_ruleset", errno);
    }
    const std::uint64_t read_only = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
    auto allow = [&](const std::filesystem::path& path, std::uint64_t access) {
        landlock_path_beneath_attr rule{};
        const UniqueFd parent(::open(path.c_str(), O_PATH | O_CLOEXEC));
        if (!parent) {
            fail("open " + path.string(), errno);
        }
        rule.parent_fd = parent.get();
        // regular files only take file rights
        struct stat st {};
        ::fstat(rule.parent_fd, &st);
        rule.allowed_access = S_ISDIR(st.st_mode) ? access
                                                  : access & (LANDLOCK_ACCESS_FS_READ_FILE |
                                                              LANDLOCK_ACCESS_FS_WRITE_FILE | (1ULL << 14));
        if (::syscall(SYS_landlock_add_rule, ruleset_fd.get(), LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0) {
            fail("landlock_add_rule " + path.string(), errno);
        }
    };
    for (const auto& path : paths.read_write) {
        allow(path, handled & ~LANDLOCK_ACCESS_FS_EXECUTE);
    }
    for (const auto& path : paths.read_only) {
        allow(path, read_only);
    }
    allow("/dev/null", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE);
    if (::syscall(SYS_landlock_restrict_self, ruleset_fd.get(), 0) != 0) {
        fail("landlock_restrict_self", errno);
    }
    return static_cast<int>(abi);
}

}  // namespace

SandboxReport enter_sandbox(const SandboxPaths& paths)
{
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        fail("PR_SET_NO_NEW_PRIVS", errno);
    }
    // empty the bounding set (needs CAP_SETPCAP; without it there is nothing to drop), then
    // every effective, permitted and inheritable capability
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL && errno != EPERM) {
            fail("PR_CAPBSET_DROP", errno);
        }
    }
    SandboxReport report;
    // Landlock binds this thread and the threads it creates later: callers sandbox before any
    // other thread exists
    report.landlock_abi = restrict_filesystem(paths);
    report.landlock = report.landlock_abi > 0;

    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capset, &header, data) != 0) {
        fail("capset", errno);
    }

    scmp_filter_ctx filter = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (filter == nullptr) {
        fail("seccomp_init", ENOMEM);
    }
    for (int syscall_number : allowed_syscalls) {
        if (syscall_number < 0) {
            continue;  // not on this architecture
        }
        if (const int rc = seccomp_rule_add(filter, SCMP_ACT_ALLOW, syscall_number, 0); rc != 0) {
            seccomp_release(filter);
            fail("seccomp_rule_add", -rc);
        }
    }
    // reading resource limits (glibc's sysconf(_SC_OPEN_MAX), which libvncserver calls when a
    // client connects) but never setting them: prlimit64 only with a NULL new limit
    if (const int rc = seccomp_rule_add(filter, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1, SCMP_A2(SCMP_CMP_EQ, 0));
        rc != 0) {
        seccomp_release(filter);
        fail("seccomp_rule_add prlimit64", -rc);
    }
    // should another thread exist already, filter it too
    seccomp_attr_set(filter, SCMP_FLTATR_CTL_TSYNC, 1);
    const int rc = seccomp_load(filter);
    seccomp_release(filter);
    if (rc != 0) {
        fail("seccomp_load", -rc);
    }
    return report;
}

}  // namespace vdi::hv
