// ELF64 and bzImage loading.
#include "vdi/hv/boot/kernel_loader.h"

#include <cstring>
#include <elf.h>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "vdi/hv/boot/decompress.h"

namespace vdi::hv {
namespace {

template <typename T>
T read_at(std::span<const std::uint8_t> data, std::size_t offset)
{
    if (offset + sizeof(T) > data.size()) {
        throw HvError(fmt::format("kernel image is truncated (needed {} bytes at offset {:#x})", sizeof(T), offset));
    }
    T value{};
    std::memcpy(&value, data.data() + offset, sizeof(T));
    return value;
}

bool is_elf64(std::span<const std::uint8_t> data)
{
    return data.size() >= EI_NIDENT && std::memcmp(data.data(), ELFMAG, SELFMAG) == 0 && data[EI_CLASS] == ELFCLASS64;
}

LoadedKernel load_elf(const GuestMemory& memory, std::span<const std::uint8_t> data)
{
    const auto header = read_at<Elf64_Ehdr>(data, 0);
    if (header.e_machine != EM_X86_64 || header.e_ident[EI_DATA] != ELFDATA2LSB) {
        throw HvError("the kernel is an ELF file but not for x86-64");
    }
    if (header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum == 0) {
        throw HvError("the kernel ELF has no usable program headers");
    }
    LoadedKernel kernel;
    kernel.format = "elf";
    kernel.image_start = UINT64_MAX;
    for (std::uint16_t i = 0; i < header.e_phnum; ++i) {
        const auto ph = read_at<Elf64_Phdr>(data, header.e_phoff + i * sizeof(Elf64_Phdr));
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0) {
            continue;
        }
        if (ph.p_filesz > ph.p_memsz || ph.p_offset + ph.p_filesz > data.size() || ph.p_offset + ph.p_filesz < ph.p_offset) {
            throw HvError(fmt::format("kernel ELF segment {} lies outside the file", i));
        }
        std::uint8_t* target = nullptr;
        try {
            target = memory.host_pointer(ph.p_paddr, ph.p_memsz);
        } catch (const HvError&) {
            throw HvError(fmt::format("kernel segment at {:#x} ({} KiB) does not fit in guest RAM; give the VM more "
                                      "memory",
                                      ph.p_paddr, ph.p_memsz >> 10));
        }
        std::memcpy(target, data.data() + ph.p_offset, ph.p_filesz);
        std::memset(target + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
        kernel.image_start = std::min(kernel.image_start, static_cast<std::uint64_t>(ph.p_paddr));
        kernel.image_end = std::max(kernel.image_end, static_cast<std::uint64_t>(ph.p_paddr + ph.p_memsz));
    }
    if (kernel.image_end == 0) {
        throw HvError("the kernel ELF has no loadable segments");
    }
    // vmlinux links its entry at a virtual address whose low bits equal the physical one
    kernel.entry = header.e_entry;
    if (kernel.entry >= 0xffffffff80000000ull) {
        kernel.entry -= 0xffffffff80000000ull;
    }
    return kernel;
}

}  // namespace

std::vector<std::uint8_t> read_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw HvError(fmt::format("cannot read {}", path.string()));
    }
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

LoadedKernel load_kernel(const GuestMemory& memory, std::span<const std::uint8_t> image)
{
    if (is_elf64(image)) {
        return load_elf(memory, image);
    }
    if (image.size() < 0x250 || read_at<std::uint32_t>(image, 0x202) != 0x53726448) {  // "HdrS"
        throw HvError("the kernel file is neither an ELF64 x86-64 executable nor a bzImage");
    }
    const std::uint16_t version = read_at<std::uint16_t>(image, 0x206);
    if (version < 0x020a) {
        throw HvError(fmt::format("bzImage boot protocol {}.{:02} is too old (need 2.10 or later)", version >> 8,
                                  version & 0xff));
    }
    std::uint32_t setup_sects = image[0x1f1];
    if (setup_sects == 0) {
        setup_sects = 4;
    }
    const std::size_t protected_mode = (setup_sects + 1) * 512ull;
    const auto payload_offset = read_at<std::uint32_t>(image, 0x248);
    const auto payload_length = read_at<std::uint32_t>(image, 0x24c);
    if (protected_mode + payload_offset + payload_length > image.size() || payload_length < 8) {
        throw HvError("the bzImage's compressed payload lies outside the file (truncated kernel?)");
    }
    const auto payload = image.subspan(protected_mode + payload_offset, payload_length);
    const std::uint32_t decompressed_size = read_at<std::uint32_t>(payload, payload.size() - 4);
    const std::string format = compression_format(payload);
    const auto vmlinux = decompress(payload, decompressed_size);
    if (!is_elf64(vmlinux)) {
        throw HvError("the bzImage payload did not decompress to an ELF vmlinux");
    }
    LoadedKernel kernel = load_elf(memory, vmlinux);
    kernel.format = "bzImage/" + format;
    // the setup header runs from 0x1f1 to 0x202 + the byte at 0x201
    const std::size_t header_end = 0x202 + image[0x201];
    kernel.setup_header.assign(image.begin() + 0x1f1, image.begin() + static_cast<std::ptrdiff_t>(header_end));
    return kernel;
}

LoadedKernel load_kernel_file(const GuestMemory& memory, const std::filesystem::path& path)
{
    const auto bytes = read_file(path);
    try {
        return load_kernel(memory, bytes);
    } catch (const HvError& e) {
        throw HvError(fmt::format("{}: {}", path.string(), e.what()));
    }
}

}  // namespace vdi::hv
