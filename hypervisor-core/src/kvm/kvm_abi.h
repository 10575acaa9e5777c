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

struct MsrListHeader {
    std::uint32_t nmsrs;
};
static_assert(sizeof(MsrListHeader) == 4);

// struct kvm_xsave is 4096 bytes in C (its trailing flexible array adds nothing there)
struct Xsave {
    std::uint32_t region[1024];
};
static_assert(sizeof(Xsave) == 4096);

inline constexpr unsigned long get_msr_index_list = _IOWR(KVMIO, 0x02, MsrListHeader);
inline constexpr unsigned long get_cpuid2 = _IOWR(KVMIO, 0x91, Cpuid2Header);
inline constexpr unsigned long get_xsave = _IOR(KVMIO, 0xa4, Xsave);
inline constexpr unsigned long set_xsave = _IOW(KVMIO, 0xa5, Xsave);
inline constexpr unsigned long get_xsave2 = _IOR(KVMIO, 0xcf, Xsave);
inline constexpr unsigned long get_supported_cpuid = _IOWR(KVMIO, 0x05, Cpuid2Header);
inline constexpr unsigned long set_cpuid2 = _IOW(KVMIO, 0x90, Cpuid2Header);
inline constexpr unsigned long get_msrs = _IOWR(KVMIO, 0x88, MsrsHeader);
inline constexpr unsigned long set_msrs = _IOW(KVMIO, 0x89, MsrsHeader);

}  // namespace vdi::hv::kvm_abi
