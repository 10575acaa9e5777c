// Where the VMM puts things in guest-physical memory for the 64-bit Linux boot protocol.
//
//   0x0000_0500  GDT (null, code64, data, TSS)          0x0000_7000  boot_params (zero page)
//   0x0000_0520  IDT (empty)                            0x0000_8ff0  initial stack (grows down)
//   0x0000_9000  PML4   0xa000 PDPT   0xb000-0xefff four page directories (2 MiB pages)
//   0x0002_0000  kernel command line (up to 64 KiB)
//   0x0009_fc00  start of the EBDA: RAM below it and from 1 MiB up (e820)
//   0x0100_0000  the kernel's PT_LOAD segments (vmlinux and the demo guest link here)
//   top of RAM   the initrd, page-aligned, below initrd_addr_max
//   0xe000_0000  the linear framebuffer (its own memslot), RAM must end below it
//   0xfffb_c000  KVM identity-map page, 0xfffb_d000 KVM TSS (three pages)
// Page tables identity-map the first 4 GiB, framebuffer included.
#pragma once

#include <cstdint>

namespace vdi::hv::layout {

inline constexpr std::uint64_t gdt = 0x500;
inline constexpr std::uint64_t idt = 0x520;
inline constexpr std::uint64_t zero_page = 0x7000;
inline constexpr std::uint64_t boot_stack = 0x8ff0;
inline constexpr std::uint64_t pml4 = 0x9000;
inline constexpr std::uint64_t pdpt = 0xa000;
inline constexpr std::uint64_t page_directories = 0xb000;
inline constexpr std::uint64_t cmdline = 0x20000;
inline constexpr std::uint64_t cmdline_max = 0x10000;
inline constexpr std::uint64_t ebda_start = 0x9fc00;
inline constexpr std::uint64_t high_memory = 0x100000;
inline constexpr std::uint64_t framebuffer = 0xe0000000;
inline constexpr std::uint64_t ram_limit = framebuffer;  // RAM must end below the framebuffer
inline constexpr std::uint64_t identity_map = 0xfffbc000;
inline constexpr std::uint64_t tss = 0xfffbd000;
inline constexpr std::uint64_t min_ram = 16ull << 20;

}  // namespace vdi::hv::layout
