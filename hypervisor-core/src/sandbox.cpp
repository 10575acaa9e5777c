// Capability dropping and the seccomp filter of vdi-vmm.
#include "vdi/hv/sandbox.h"

#include <cerrno>
#include <cstring>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>
#include <seccomp.h>

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
};

[[noreturn]] void fail(const std::string& what, int err)
{
    throw HvError(fmt::format("cannot enter the VMM sandbox: {}: {}", what, std::strerror(err)));
}

}  // namespace

void enter_sandbox()
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
    // the vCPU and control threads already run: filter them too
    seccomp_attr_set(filter, SCMP_FLTATR_CTL_TSYNC, 1);
    const int rc = seccomp_load(filter);
    seccomp_release(filter);
    if (rc != 0) {
        fail("seccomp_load", -rc);
    }
}

}  // namespace vdi::hv
