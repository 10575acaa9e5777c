// Loading a kernel into guest memory: an ELF64 image (vmlinux, the demo guest) at its physical
// addresses, or a bzImage whose compressed vmlinux payload is decompressed on the host.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vdi/hv/guest_memory.h"

namespace vdi::hv {

struct LoadedKernel {
    std::uint64_t entry = 0;         // guest-physical entry point (startup_64 for Linux)
    std::uint64_t image_start = 0;   // lowest loaded address
    std::uint64_t image_end = 0;     // one past the highest loaded byte
    std::string format;              // "elf" or "bzImage/<compression>"
    // For a bzImage: the setup header bytes from 0x1f1, to copy into boot_params.
    std::vector<std::uint8_t> setup_header;
};

// Loads `image` (the file's bytes). HvError says what is wrong with the file ("not an ELF64
// x86-64 executable or a bzImage", "segment at 0x... does not fit in 64 MiB of RAM").
LoadedKernel load_kernel(const GuestMemory& memory, std::span<const std::uint8_t> image);
LoadedKernel load_kernel_file(const GuestMemory& memory, const std::filesystem::path& path);

// Reads a whole file (HvError naming it when it cannot).
std::vector<std::uint8_t> read_file(const std::filesystem::path& path);

}  // namespace vdi::hv
