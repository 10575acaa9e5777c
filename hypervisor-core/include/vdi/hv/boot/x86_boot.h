// Everything the 64-bit boot protocol needs besides the kernel bytes: boot_params (zero page)
// with e820 map, command line, initrd and screen_info; the GDT, identity page tables and
// long-mode register state; CPUID, boot MSRs, FPU and LAPIC set-up for each vCPU.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vdi/hv/boot/kernel_loader.h"
#include "vdi/hv/devices/framebuffer.h"
#include "vdi/hv/guest_memory.h"
#include "vdi/hv/hypervisor.h"

namespace vdi::hv {

struct E820Entry {
    std::uint64_t address = 0;
    std::uint64_t size = 0;
    std::uint32_t type = 1;  // 1 RAM, 2 reserved
};

struct BootConfig {
    std::uint64_t ram_bytes = 0;
    std::string cmdline;
    std::optional<std::uint64_t> initrd_address;
    std::uint64_t initrd_size = 0;
    const Framebuffer* framebuffer = nullptr;
};

// The e820 map the guest gets: RAM below the EBDA, RAM from 1 MiB to the end, the framebuffer
// reserved.
std::vector<E820Entry> e820_map(std::uint64_t ram_bytes, const Framebuffer* framebuffer);

// Copies the initrd to the top of RAM (below the kernel's initrd_addr_max) and returns where.
std::uint64_t place_initrd(const GuestMemory& memory, std::uint64_t ram_bytes, const LoadedKernel& kernel,
                           std::span<const std::uint8_t> initrd);

// Writes boot_params and the command line. HvError for a command line that is too long.
void write_boot_params(const GuestMemory& memory, const LoadedKernel& kernel, const BootConfig& config);

// Writes the GDT, the empty IDT and the identity page tables (first 4 GiB).
void write_page_tables_and_gdt(const GuestMemory& memory);

// CPUID for vCPU `index` of `count`: the hypervisor's supported leaves (KVM paravirtual leaves
// kept) with the APIC id and the hypervisor bit set.
std::vector<kvm_cpuid_entry2> vcpu_cpuid(const std::vector<kvm_cpuid_entry2>& supported, int index, int count);

// CPUID, MSRs, FPU and LAPIC for every vCPU; for the boot vCPU also long mode at `entry` with
// RSI pointing at boot_params.
void configure_vcpu(Vcpu& vcpu, Vm& vm, int index, int count, std::uint64_t entry);

}  // namespace vdi::hv
