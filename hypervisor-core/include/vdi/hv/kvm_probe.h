// Probing /dev/kvm: the API version and the capabilities the VMM relies on.
//
// Errors: KvmUnavailable (an exception) when the device is missing or lacks something required;
// its message says what and what to do. Thread-safe: opens its own descriptor.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vdi::hv {

class KvmUnavailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct KvmCapability {
    std::string name;  // "KVM_CAP_IRQCHIP"
    bool required = false;
    long value = 0;    // KVM_CHECK_EXTENSION's answer (0: absent)
};

struct KvmProbe {
    int api_version = 0;
    int recommended_vcpus = 0;
    int max_vcpus = 0;
    int xsave_size = 0;  // bytes, from KVM_CAP_XSAVE2 (0: legacy 4096-byte XSAVE only)
    std::vector<KvmCapability> capabilities;

    nlohmann::json to_json() const;
};

// Opens `device` and reports what it offers. Throws KvmUnavailable if it cannot be opened, speaks
// an API version other than 12, or lacks a required capability.
KvmProbe probe_kvm(const std::string& device = "/dev/kvm");

}  // namespace vdi::hv
