// Kernel loading (ELF, bzImage with each compression), boot_params and page tables.
#include <asm/bootparam.h>
#include <cstring>
#include <elf.h>

#include <catch2/catch.hpp>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "vdi/hv/boot/decompress.h"
#include "vdi/hv/boot/kernel_loader.h"
#include "vdi/hv/boot/memory_layout.h"
#include "vdi/hv/boot/x86_boot.h"
#include "vdi/test/guest_images.h"

using namespace vdi::hv;
using Bytes = std::vector<std::uint8_t>;
using guest_images::make_elf;

namespace {

Bytes le32(std::uint32_t v)
{
    return {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v >> 16),
            static_cast<std::uint8_t>(v >> 24)};
}

Bytes compress(const std::string& format, const Bytes& data)
{
    Bytes out;
    if (format == "gzip") {
        z_stream zs{};
        deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
        out.resize(deflateBound(&zs, data.size()) + 64);
        zs.next_in = const_cast<Bytef*>(data.data());
        zs.avail_in = static_cast<uInt>(data.size());
        zs.next_out = out.data();
        zs.avail_out = static_cast<uInt>(out.size());
        deflate(&zs, Z_FINISH);
        out.resize(zs.total_out);
        deflateEnd(&zs);
    } else if (format == "xz") {
        out.resize(lzma_stream_buffer_bound(data.size()));
        std::size_t pos = 0;
        lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, nullptr, data.data(), data.size(), out.data(), &pos, out.size());
        out.resize(pos);
    } else if (format == "zstd") {
        out.resize(ZSTD_compressBound(data.size()));
        out.resize(ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3));
    } else if (format == "lz4") {
        out = le32(0x184c2102);
        Bytes block(static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(data.size()))));
        const int n = LZ4_compress_default(reinterpret_cast<const char*>(data.data()), reinterpret_cast<char*>(block.data()),
                                           static_cast<int>(data.size()), static_cast<int>(block.size()));
        const auto size = le32(static_cast<std::uint32_t>(n));
        out.insert(out.end(), size.begin(), size.end());
        out.insert(out.end(), block.begin(), block.begin() + n);
    }
    // like the kernel's piggy: the decompressed size follows the compressed stream
    const auto size = le32(static_cast<std::uint32_t>(data.size()));
    out.insert(out.end(), size.begin(), size.end());
    return out;
}

// A bzImage wrapping `vmlinux` compressed with `format`: 4 setup sectors and a boot sector.
Bytes make_bzimage(const Bytes& vmlinux, const std::string& format)
{
    const Bytes payload = compress(format, vmlinux);
    Bytes image(5 * 512, 0);
    image[0x1f1] = 4;                      // setup_sects
    image[0x201] = 0x6a;                   // header length byte: the header ends at 0x26c
    std::memcpy(image.data() + 0x202, "HdrS", 4);
    image[0x206] = 0x0f;                   // boot protocol 2.15
    image[0x207] = 0x02;
    const std::uint32_t addr_max = 0x7fffffff;
    std::memcpy(image.data() + 0x22c, &addr_max, 4);
    const std::uint32_t offset = 0, length = static_cast<std::uint32_t>(payload.size());
    std::memcpy(image.data() + 0x248, &offset, 4);
    std::memcpy(image.data() + 0x24c, &length, 4);
    image.insert(image.end(), payload.begin(), payload.end());
    return image;
}

const Bytes code = {0xfa, 0xf4, 0xeb, 0xfd, 0x90, 0x90, 0x90, 0x90};  // cli; hlt; jmp $-1

}  // namespace

TEST_CASE("boot: an ELF loads at its physical address, BSS zeroed", "[boot]")
{
    GuestMemory memory;
    memory.add_anonymous("ram", 0, 32 << 20);
    std::memset(memory.host_pointer(0x1000000, 0x2000), 0xcc, 0x2000);
    const auto kernel = load_kernel(memory, make_elf(0x1000000, code, 0x1000));
    CHECK(kernel.format == "elf");
    CHECK(kernel.entry == 0x1000000);
    CHECK(kernel.image_end == 0x1000000 + code.size() + 0x1000);
    CHECK(std::memcmp(memory.host_pointer(0x1000000, code.size()), code.data(), code.size()) == 0);
    CHECK(*memory.host_pointer(0x1000000 + code.size() + 10, 1) == 0);
    CHECK(kernel.setup_header.empty());
}

TEST_CASE("boot: bzImage payloads in gzip, xz, zstd and lz4 are decompressed and loaded", "[boot]")
{
    const Bytes vmlinux = make_elf(0x1000000, code, 0x100);
    for (const std::string format : {"gzip", "xz", "zstd", "lz4"}) {
        INFO(format);
        GuestMemory memory;
        memory.add_anonymous("ram", 0, 32 << 20);
        const auto kernel = load_kernel(memory, make_bzimage(vmlinux, format));
        CHECK(kernel.format == "bzImage/" + format);
        CHECK(kernel.entry == 0x1000000);
        CHECK(std::memcmp(memory.host_pointer(0x1000000, code.size()), code.data(), code.size()) == 0);
        REQUIRE(kernel.setup_header.size() == 0x26c - 0x1f1);
        CHECK(kernel.setup_header[0] == 4);
    }
}

TEST_CASE("boot: broken kernels are refused with the reason", "[boot]")
{
    GuestMemory memory;
    memory.add_anonymous("ram", 0, 32 << 20);
    CHECK_THROWS_WITH(load_kernel(memory, Bytes(4096, 0x90)), Catch::Contains("neither an ELF64 x86-64"));
    auto truncated = make_bzimage(make_elf(0x1000000, code), "gzip");
    truncated.resize(truncated.size() - 40);
    CHECK_THROWS_WITH(load_kernel(memory, truncated), Catch::Contains("outside the file"));
    auto corrupt = make_bzimage(make_elf(0x1000000, Bytes(4096, 0x90)), "zstd");
    for (std::size_t i = 5 * 512 + 8; i < corrupt.size() - 8; ++i) {
        corrupt[i] ^= 0x5a;
    }
    CHECK_THROWS_AS(load_kernel(memory, corrupt), HvError);
    // a segment beyond RAM
    CHECK_THROWS_WITH(load_kernel(memory, make_elf(0x4000000, code)), Catch::Contains("give the VM more memory"));
    auto bzip2 = make_bzimage(make_elf(0x1000000, code), "gzip");
    std::memcpy(bzip2.data() + 5 * 512, "BZh9", 4);
    CHECK_THROWS_WITH(load_kernel(memory, bzip2), Catch::Contains("bzip2"));
    CHECK(compression_format(Bytes{0x28, 0xb5, 0x2f, 0xfd}) == "zstd");
}

TEST_CASE("boot: boot_params carry the e820 map, command line, initrd and framebuffer", "[boot]")
{
    GuestMemory memory;
    const std::uint64_t ram = 128ull << 20;
    memory.add_anonymous("ram", 0, ram);
    Framebuffer fb({1280, 800, layout::framebuffer});
    fb.attach(memory);
    const auto kernel = load_kernel(memory, make_bzimage(make_elf(0x1000000, code), "gzip"));
    const Bytes initrd(3 << 20, 0xab);
    BootConfig config;
    config.ram_bytes = ram;
    config.cmdline = "console=ttyS0 quiet";
    config.framebuffer = &fb;
    config.initrd_address = place_initrd(memory, ram, kernel, initrd);
    config.initrd_size = initrd.size();
    write_boot_params(memory, kernel, config);
    write_page_tables_and_gdt(memory);

    const auto params = memory.read_object<boot_params>(layout::zero_page);
    CHECK(params.hdr.header == 0x53726448);
    CHECK(params.hdr.type_of_loader == 0xff);
    CHECK(params.hdr.setup_sects == 4);  // copied from the image
    REQUIRE(params.e820_entries == 3);
    CHECK(params.e820_table[0].addr == 0);
    CHECK(params.e820_table[0].size == layout::ebda_start);
    CHECK(params.e820_table[1].addr == layout::high_memory);
    CHECK(params.e820_table[1].addr + params.e820_table[1].size == ram);
    CHECK(params.e820_table[2].type == 2);
    CHECK(params.e820_table[2].addr == layout::framebuffer);
    CHECK(std::string(reinterpret_cast<const char*>(memory.host_pointer(params.hdr.cmd_line_ptr, 20))) ==
          "console=ttyS0 quiet");
    CHECK(params.hdr.ramdisk_size == initrd.size());
    CHECK(params.hdr.ramdisk_image % 4096 == 0);
    CHECK(params.hdr.ramdisk_image + initrd.size() <= ram);
    CHECK(*memory.host_pointer(params.hdr.ramdisk_image, 1) == 0xab);
    CHECK(params.screen_info.orig_video_isVGA == 0x70);
    CHECK(params.screen_info.lfb_width == 1280);
    CHECK(params.screen_info.lfb_height == 800);
    CHECK(params.screen_info.lfb_depth == 32);
    CHECK(params.screen_info.lfb_linelength == 1280 * 4);
    CHECK(params.screen_info.lfb_base == layout::framebuffer);
    CHECK(params.screen_info.red_pos == 16);
    CHECK(params.screen_info.blue_pos == 0);

    // identity mapping: the PD entry for the framebuffer's 2 MiB page maps that very address
    const std::uint64_t fb_pd = layout::page_directories + 3 * 0x1000 + ((layout::framebuffer >> 21) & 511) * 8;
    CHECK(memory.read_object<std::uint64_t>(fb_pd) == (layout::framebuffer | 0x83));
    CHECK(memory.read_object<std::uint64_t>(layout::gdt + 8) == 0x00af9b000000ffffull);

    config.cmdline = std::string(layout::cmdline_max, 'x');
    CHECK_THROWS_WITH(write_boot_params(memory, kernel, config), Catch::Contains("command line"));
}

TEST_CASE("boot: CPUID marks the hypervisor and numbers the vCPUs", "[boot]")
{
    kvm_cpuid_entry2 leaf1{};
    leaf1.function = 1;
    kvm_cpuid_entry2 kvm_signature{};
    kvm_signature.function = 0x40000000;
    kvm_signature.ebx = 0x4b4d564b;  // "KVMK"
    const auto cpuid = vcpu_cpuid({leaf1, kvm_signature}, 2, 4);
    REQUIRE(cpuid.size() == 2);
    CHECK((cpuid[0].ecx >> 31) == 1);
    CHECK((cpuid[0].ebx >> 24) == 2);
    CHECK(((cpuid[0].ebx >> 16) & 0xff) == 4);
    CHECK(cpuid[1].ebx == 0x4b4d564b);  // paravirtual leaves kept
}
