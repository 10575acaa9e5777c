// KVM ioctls whose <linux/kvm.h> structs end in a flexible array. In C++ the Debian 12 header's
// __DECLARE_FLEX_ARRAY adds an empty struct of size 1, which moves `entries` and changes the
// size encoded in the ioctl number (kvm_cpuid2 becomes 12 bytes instead of 8), so the kernel
// refuses them. These are the C layouts: a header, then the entries at offset 8.
#pragma once

#include <cstdint>
#include <linux/kvm.h>
#include <sys/ioctl.h>

namespace vdi::hv::kvm_abi {

struct Cpuid2Header {
    std::uint32_t nent;
    std::uint32_t padding;
};
static_assert(sizeof(Cpuid2Header) == 8);

struct MsrsHeader {
    std::uint32_t nmsrs;
    std::uint32_t pad;
};
static_assert(sizeof(MsrsHeader) == 8);

inline constexpr unsigned long get_supported_cpuid = _IOWR(KVMIO, 0x05, Cpuid2Header);
inline constexpr unsigned long set_cpuid2 = _IOW(KVMIO, 0x90, Cpuid2Header);
inline constexpr unsigned long get_msrs = _IOWR(KVMIO, 0x88, MsrsHeader);
inline constexpr unsigned long set_msrs = _IOW(KVMIO, 0x89, MsrsHeader);

}  // namespace vdi::hv::kvm_abi
