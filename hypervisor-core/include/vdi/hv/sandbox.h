// Least privilege for a running VMM: no new privileges, no capabilities (bounding set emptied),
// and a seccomp allow-list (libseccomp) of the system calls a running VMM makes, applied to
// every thread. Call after the VM is built and its vCPU threads started: opening /dev/kvm,
// mapping the image and binding the control socket happen before. Throws HvError.
#pragma once

namespace vdi::hv {

void enter_sandbox();

}  // namespace vdi::hv
