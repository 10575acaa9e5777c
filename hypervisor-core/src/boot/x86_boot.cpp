// boot_params, page tables, GDT and the initial vCPU state for 64-bit direct kernel boot.
#include "vdi/hv/boot/x86_boot.h"

#include <algorithm>
#include <asm/bootparam.h>
#include <cstring>

#include <fmt/format.h>

#include "vdi/hv/boot/memory_layout.h"

namespace vdi::hv {
namespace {

constexpr std::uint64_t gdt_entries[] = {
    0x0000000000000000,  // null
    0x00af9b000000ffff,  // code: 64-bit, present, ring 0
    0x00cf93000000ffff,  // data: read/write, present, 4 GiB
    0x008f8b000000ffff,  // TSS
};

kvm_segment segment_from_gdt(std::uint64_t entry, std::uint16_t index)
{
    kvm_segment s{};
    s.base = static_cast<std::uint32_t>(((entry >> 16) & 0xffffff) | (((entry >> 56) & 0xff) << 24));
    std::uint32_t limit = static_cast<std::uint32_t>((entry & 0xffff) | (((entry >> 48) & 0xf) << 16));
    s.g = (entry >> 55) & 1;
    s.limit = s.g ? (limit << 12) | 0xfff : limit;
    s.selector = static_cast<std::uint16_t>(index * 8);
    s.type = (entry >> 40) & 0xf;
    s.present = (entry >> 47) & 1;
    s.dpl = (entry >> 45) & 3;
    s.db = (entry >> 54) & 1;
    s.s = (entry >> 44) & 1;
    s.l = (entry >> 53) & 1;
    s.avl = (entry >> 52) & 1;
    s.unusable = s.present ? 0 : 1;
    return s;
}

constexpr std::uint32_t msr_ia32_sysenter_cs = 0x174;
constexpr std::uint32_t msr_ia32_sysenter_esp = 0x175;
constexpr std::uint32_t msr_ia32_sysenter_eip = 0x176;
constexpr std::uint32_t msr_star = 0xc0000081;
constexpr std::uint32_t msr_lstar = 0xc0000082;
constexpr std::uint32_t msr_cstar = 0xc0000083;
constexpr std::uint32_t msr_syscall_mask = 0xc0000084;
constexpr std::uint32_t msr_kernel_gs_base = 0xc0000102;
constexpr std::uint32_t msr_ia32_tsc = 0x10;
constexpr std::uint32_t msr_ia32_misc_enable = 0x1a0;
constexpr std::uint32_t msr_mtrr_def_type = 0x2ff;

}  // namespace

std::vector<E820Entry> e820_map(std::uint64_t ram_bytes, const Framebuffer* framebuffer)
{
    std::vector<E820Entry> map{{0, layout::ebda_start, 1}, {layout::high_memory, ram_bytes - layout::high_memory, 1}};
    if (framebuffer != nullptr) {
        map.push_back({framebuffer->guest_address(), framebuffer->size(), 2});
    }
    return map;
}

std::uint64_t place_initrd(const GuestMemory& memory, std::uint64_t ram_bytes, const LoadedKernel& kernel,
                           std::span<const std::uint8_t> initrd)
{
    std::uint64_t limit = ram_bytes;
    if (kernel.setup_header.size() >= 0x22c - 0x1f1 + 4) {
        std::uint32_t addr_max = 0;
        std::memcpy(&addr_max, kernel.setup_header.data() + (0x22c - 0x1f1), 4);
        limit = std::min<std::uint64_t>(limit, static_cast<std::uint64_t>(addr_max) + 1);
    }
    if (initrd.size() >= limit) {
        throw HvError("the initrd does not fit in guest RAM; give the VM more memory");
    }
    const std::uint64_t address = (limit - initrd.size()) & ~std::uint64_t{0xfff};
    if (address < kernel.image_end) {
        throw HvError(fmt::format("the initrd ({} MiB) would overlap the kernel; give the VM more memory",
                                  initrd.size() >> 20));
    }
    memory.write(address, initrd);
    return address;
}

void write_boot_params(const GuestMemory& memory, const LoadedKernel& kernel, const BootConfig& config)
{
    if (config.cmdline.size() + 1 > layout::cmdline_max) {
        throw HvError(fmt::format("the kernel command line is {} bytes; the limit is {}", config.cmdline.size(),
                                  layout::cmdline_max - 1));
    }
    boot_params params{};
    if (!kernel.setup_header.empty()) {
        std::memcpy(reinterpret_cast<std::uint8_t*>(&params) + 0x1f1, kernel.setup_header.data(),
                    std::min(kernel.setup_header.size(), sizeof(params) - 0x1f1));
    } else {
        params.hdr.boot_flag = 0xaa55;
        params.hdr.header = 0x53726448;
        params.hdr.kernel_alignment = 0x1000000;
    }
    params.hdr.type_of_loader = 0xff;  // undefined boot loader
    params.hdr.loadflags |= LOADED_HIGH | KEEP_SEGMENTS;
    params.hdr.cmd_line_ptr = static_cast<std::uint32_t>(layout::cmdline);
    params.hdr.cmdline_size = static_cast<std::uint32_t>(config.cmdline.size());
    if (config.initrd_address) {
        params.hdr.ramdisk_image = static_cast<std::uint32_t>(*config.initrd_address);
        params.hdr.ramdisk_size = static_cast<std::uint32_t>(config.initrd_size);
    }

    const auto map = e820_map(config.ram_bytes, config.framebuffer);
    params.e820_entries = static_cast<std::uint8_t>(map.size());
    for (std::size_t i = 0; i < map.size(); ++i) {
        params.e820_table[i].addr = map[i].address;
        params.e820_table[i].size = map[i].size;
        params.e820_table[i].type = map[i].type;
    }

    if (const Framebuffer* fb = config.framebuffer) {
        screen_info& si = params.screen_info;
        si.orig_video_isVGA = 0x70;  // VIDEO_TYPE_EFI: efifb binds to it
        si.lfb_width = static_cast<std::uint16_t>(fb->width());
        si.lfb_height = static_cast<std::uint16_t>(fb->height());
        si.lfb_depth = 32;
        si.lfb_linelength = static_cast<std::uint16_t>(fb->stride());
        si.lfb_base = static_cast<std::uint32_t>(fb->guest_address());
        si.ext_lfb_base = static_cast<std::uint32_t>(fb->guest_address() >> 32);
        si.lfb_size = static_cast<std::uint32_t>(fb->size());  // bytes for EFI (64 KiB units for VLFB)
        si.red_size = 8;
        si.red_pos = 16;
        si.green_size = 8;
        si.green_pos = 8;
        si.blue_size = 8;
        si.blue_pos = 0;
        si.rsvd_size = 8;
        si.rsvd_pos = 24;
        si.capabilities = 0x2;  // VIDEO_CAPABILITY_64BIT_BASE: ext_lfb_base is valid
    }
    memory.write_object(layout::zero_page, params);
    std::vector<std::uint8_t> cmdline(config.cmdline.begin(), config.cmdline.end());
    cmdline.push_back(0);
    memory.write(layout::cmdline, cmdline);
}

void write_page_tables_and_gdt(const GuestMemory& memory)
{
    for (std::size_t i = 0; i < std::size(gdt_entries); ++i) {
        memory.write_object(layout::gdt + i * 8, gdt_entries[i]);
    }
    memory.write_object<std::uint64_t>(layout::idt, 0);
    // PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 512 x 2 MiB pages each
    memory.write_object<std::uint64_t>(layout::pml4, layout::pdpt | 0x03);
    for (std::uint64_t d = 0; d < 4; ++d) {
        const std::uint64_t directory = layout::page_directories + d * 0x1000;
        memory.write_object<std::uint64_t>(layout::pdpt + d * 8, directory | 0x03);
        for (std::uint64_t e = 0; e < 512; ++e) {
            const std::uint64_t address = (d << 30) | (e << 21);
            memory.write_object<std::uint64_t>(directory + e * 8, address | 0x83);  // present, writable, 2 MiB
        }
    }
}

std::vector<kvm_cpuid_entry2> vcpu_cpuid(const std::vector<kvm_cpuid_entry2>& supported, int index, int count)
{
    std::vector<kvm_cpuid_entry2> entries = supported;
    for (auto& e : entries) {
        switch (e.function) {
        case 1:
            e.ecx |= 1u << 31;  // running under a hypervisor
            e.ebx = (e.ebx & 0x0000ffff) | (static_cast<std::uint32_t>(count) << 16) |
                    (static_cast<std::uint32_t>(index) << 24);
            if (count > 1) {
                e.edx |= 1u << 28;  // HTT: more than one logical processor
            }
            break;
        case 0xb:
            e.edx = static_cast<std::uint32_t>(index);  // x2APIC id
            break;
        default:
            break;
        }
    }
    return entries;
}

void configure_vcpu(Vcpu& vcpu, Vm& vm, int index, int count, std::uint64_t entry)
{
    vcpu.set_cpuid(vcpu_cpuid(vm.supported_cpuid(), index, count));

    std::vector<kvm_msr_entry> msrs;
    for (std::uint32_t msr : {msr_ia32_sysenter_cs, msr_ia32_sysenter_esp, msr_ia32_sysenter_eip, msr_star, msr_lstar,
                              msr_cstar, msr_syscall_mask, msr_kernel_gs_base, msr_ia32_tsc}) {
        kvm_msr_entry e{};
        e.index = msr;
        msrs.push_back(e);
    }
    kvm_msr_entry misc{};
    misc.index = msr_ia32_misc_enable;
    misc.data = 1;  // fast string operations
    msrs.push_back(misc);
    kvm_msr_entry mtrr{};
    mtrr.index = msr_mtrr_def_type;
    mtrr.data = (1u << 11) | 6;  // MTRRs on, default write-back
    msrs.push_back(mtrr);
    vcpu.set_msrs(msrs);

    kvm_fpu fpu{};
    fpu.fcw = 0x37f;
    fpu.mxcsr = 0x1f80;
    vcpu.set_fpu(fpu);

    // LINT0 as ExtINT (the PIC's interrupts reach the CPU), LINT1 as NMI
    kvm_lapic_state lapic = vcpu.get_lapic();
    auto set_lvt = [&](std::size_t offset, std::uint32_t delivery_mode) {
        std::uint32_t value = 0;
        std::memcpy(&value, lapic.regs + offset, 4);
        value = (value & ~0x700u) | (delivery_mode << 8);
        std::memcpy(lapic.regs + offset, &value, 4);
    };
    set_lvt(0x350, 0x7);  // ExtINT
    set_lvt(0x360, 0x4);  // NMI
    vcpu.set_lapic(lapic);

    if (index != 0) {
        return;  // application processors wait for INIT/SIPI from the guest
    }
    kvm_sregs sregs = vcpu.get_sregs();
    sregs.gdt.base = layout::gdt;
    sregs.gdt.limit = static_cast<std::uint16_t>(sizeof(gdt_entries) - 1);
    sregs.idt.base = layout::idt;
    sregs.idt.limit = 7;
    sregs.cs = segment_from_gdt(gdt_entries[1], 1);
    const kvm_segment data = segment_from_gdt(gdt_entries[2], 2);
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.tr = segment_from_gdt(gdt_entries[3], 3);
    sregs.cr3 = layout::pml4;
    sregs.cr4 |= 0x20;                    // PAE
    sregs.cr0 |= 0x80000001;              // PG | PE
    sregs.efer |= 0x100 | 0x400;          // LME | LMA
    vcpu.set_sregs(sregs);

    kvm_regs regs{};
    regs.rflags = 0x2;
    regs.rip = entry;
    regs.rsp = layout::boot_stack;
    regs.rbp = layout::boot_stack;
    regs.rsi = layout::zero_page;
    vcpu.set_regs(regs);
}

}  // namespace vdi::hv
