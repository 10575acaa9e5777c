// KVM capability probe.
#include "vdi/hv/kvm_probe.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "vdi/common/unique_fd.h"

namespace vdi::hv {
namespace {

struct CapabilitySpec {
    const char* name;
    int id;
    bool required;
};

// What the VMM (boot, devices, snapshots, display) needs, and what it uses when present.
constexpr CapabilitySpec capability_specs[] = {
    {"KVM_CAP_USER_MEMORY", KVM_CAP_USER_MEMORY, true},
    {"KVM_CAP_SET_TSS_ADDR", KVM_CAP_SET_TSS_ADDR, true},
    {"KVM_CAP_IRQCHIP", KVM_CAP_IRQCHIP, true},
    {"KVM_CAP_PIT2", KVM_CAP_PIT2, true},
    {"KVM_CAP_EXT_CPUID", KVM_CAP_EXT_CPUID, true},
    {"KVM_CAP_MP_STATE", KVM_CAP_MP_STATE, true},
    {"KVM_CAP_VCPU_EVENTS", KVM_CAP_VCPU_EVENTS, true},
    {"KVM_CAP_DEBUGREGS", KVM_CAP_DEBUGREGS, true},
    {"KVM_CAP_XSAVE", KVM_CAP_XSAVE, true},
    {"KVM_CAP_XCRS", KVM_CAP_XCRS, true},
    {"KVM_CAP_ADJUST_CLOCK", KVM_CAP_ADJUST_CLOCK, true},
    {"KVM_CAP_IRQFD", KVM_CAP_IRQFD, false},
    {"KVM_CAP_IOEVENTFD", KVM_CAP_IOEVENTFD, false},
    {"KVM_CAP_READONLY_MEM", KVM_CAP_READONLY_MEM, false},
    {"KVM_CAP_TSC_DEADLINE_TIMER", KVM_CAP_TSC_DEADLINE_TIMER, false},
    {"KVM_CAP_KVMCLOCK_CTRL", KVM_CAP_KVMCLOCK_CTRL, false},
    {"KVM_CAP_XSAVE2", KVM_CAP_XSAVE2, false},
};

}  // namespace

nlohmann::json KvmProbe::to_json() const
{
    nlohmann::json caps = nlohmann::json::object();
    for (const auto& cap : capabilities) {
        caps[cap.name] = cap.value;
    }
    return {{"api_version", api_version},
            {"recommended_vcpus", recommended_vcpus},
            {"max_vcpus", max_vcpus},
            {"xsave_size", xsave_size},
            {"capabilities", caps}};
}

KvmProbe probe_kvm(const std::string& device)
{
    UniqueFd kvm(::open(device.c_str(), O_RDWR | O_CLOEXEC));
    if (kvm.get() < 0) {
        const int err = errno;
        throw KvmUnavailable(fmt::format("cannot open {}: {}{}", device, std::strerror(err),
                                         err == ENOENT ? " (no KVM on this machine: enable VT-x/AMD-V and load kvm_intel "
                                                         "or kvm_amd)"
                                         : err == EACCES ? " (add the user to the 'kvm' group)"
                                                         : ""));
    }
    KvmProbe probe;
    probe.api_version = ::ioctl(kvm.get(), KVM_GET_API_VERSION, 0);
    if (probe.api_version != KVM_API_VERSION) {
        throw KvmUnavailable(fmt::format("{} speaks KVM API version {}, this VMM needs {}", device, probe.api_version,
                                         KVM_API_VERSION));
    }
    std::vector<std::string> missing;
    for (const auto& spec : capability_specs) {
        const int value = ::ioctl(kvm.get(), KVM_CHECK_EXTENSION, spec.id);
        probe.capabilities.push_back({spec.name, spec.required, value > 0 ? value : 0});
        if (spec.required && value <= 0) {
            missing.emplace_back(spec.name);
        }
    }
    probe.recommended_vcpus = std::max(0, ::ioctl(kvm.get(), KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS));
    probe.max_vcpus = std::max(0, ::ioctl(kvm.get(), KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS));
    probe.xsave_size = std::max(0, ::ioctl(kvm.get(), KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2));
    if (!missing.empty()) {
        std::string list;
        for (const auto& name : missing) {
            list += (list.empty() ? "" : ", ") + name;
        }
        throw KvmUnavailable(fmt::format("{} lacks capabilities the VMM needs: {}", device, list));
    }
    return probe;
}

}  // namespace vdi::hv
