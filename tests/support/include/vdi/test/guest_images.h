// Guests for hypervisor tests: the demo desktop's configuration, typing into it, and tiny ELF
// images built on the fly.
#pragma once

#include <cstring>
#include <elf.h>
#include <string>
#include <vector>

#include "vdi/hv/devices/i8042.h"
#include "vdi/hv/devices/ps2_keymap.h"
#include "vdi/hv/machine.h"

namespace guest_images {

inline vdi::hv::MachineConfig demo_config()
{
    vdi::hv::MachineConfig config;
    config.kernel = VDI_DEMO_GUEST;
    config.memory_mib = 64;
    return config;
}

// Presses and releases the keys that type `text` (US layout); false if a character has no key.
inline bool type(vdi::hv::I8042& input, const std::string& text)
{
    using namespace vdi::hv;
    for (char c : text) {
        const auto key = key_for_char(c);
        if (!key) {
            return false;
        }
        if (key->shift) input.key(key_left_shift.code, false, true);
        input.key(key->key.code, false, true);
        input.key(key->key.code, false, false);
        if (key->shift) input.key(key_left_shift.code, false, false);
    }
    return true;
}

// A minimal ELF64 x86-64 executable: one PT_LOAD of `code` at `address` plus `bss` zero bytes.
inline std::vector<std::uint8_t> make_elf(std::uint64_t address, const std::vector<std::uint8_t>& code,
                                          std::uint64_t bss = 0)
{
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_entry = address;
    eh.e_phoff = sizeof eh;
    eh.e_ehsize = sizeof eh;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 1;
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_offset = 0x1000;
    ph.p_paddr = ph.p_vaddr = address;
    ph.p_filesz = code.size();
    ph.p_memsz = code.size() + bss;
    ph.p_flags = PF_R | PF_X;
    std::vector<std::uint8_t> out(0x1000 + code.size(), 0);
    std::memcpy(out.data(), &eh, sizeof eh);
    std::memcpy(out.data() + sizeof eh, &ph, sizeof ph);
    std::memcpy(out.data() + 0x1000, code.data(), code.size());
    return out;
}

}  // namespace guest_images
