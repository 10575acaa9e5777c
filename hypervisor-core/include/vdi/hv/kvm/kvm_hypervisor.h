// The KVM backend of the hypervisor seam (/dev/kvm; VT-x and AMD-V hosts alike).
#pragma once

#include <string>

#include "vdi/common/unique_fd.h"
#include "vdi/hv/hypervisor.h"

namespace vdi::hv {

class KvmHypervisor : public Hypervisor {
public:
    // Opens the device; HvError with advice when it is missing or too old.
    explicit KvmHypervisor(const std::string& device = "/dev/kvm");
    ~KvmHypervisor() override;
    KvmHypervisor(const KvmHypervisor&) = delete;
    KvmHypervisor& operator=(const KvmHypervisor&) = delete;

    std::string name() const override { return "kvm"; }
    std::unique_ptr<Vm> create_vm() override;

private:
    UniqueFd fd_;
};

}  // namespace vdi::hv
