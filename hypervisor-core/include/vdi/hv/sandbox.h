// Least privilege for a running VMM: no new privileges, no capabilities (bounding set emptied),
// a Landlock ruleset that confines file access to the VMM's own directory (read-write) and its
// golden image (read-only), so a compromised VMM cannot reach other clones' files, and a
// seccomp allow-list (libseccomp) of the system calls a running VMM makes, applied to every
// thread. Call after the VM is built (/dev/kvm open, the image mapped) and before any other
// thread exists (the control server, the vCPUs): Landlock binds the calling thread and the
// threads it creates afterwards. Throws HvError.
#pragma once

#include <filesystem>
#include <vector>

namespace vdi::hv {

struct SandboxPaths {
    std::vector<std::filesystem::path> read_write;  // the VMM's own state directory
    std::vector<std::filesystem::path> read_only;   // its golden image
};

struct SandboxReport {
    bool landlock = false;  // false: the kernel has no Landlock (the rest still applies)
    int landlock_abi = 0;
};

SandboxReport enter_sandbox(const SandboxPaths& paths);

}  // namespace vdi::hv
