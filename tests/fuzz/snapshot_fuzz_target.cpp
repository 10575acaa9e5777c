// Fuzz target for the snapshot state-file parser (libFuzzer entry point).
//
// Each input is parsed twice: as it is, and with its header's length and CRC fixed up, so that
// mutations reach the section parser behind the CRC check. The parser may refuse an input
// (SnapshotError); it must never crash, hang, read out of bounds or allocate without limit.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include <zlib.h>

#include "vdi/hv/snapshot/snapshot.h"

namespace {

void parse(const std::vector<std::uint8_t>& bytes)
{
    try {
        const auto snapshot = vdi::hv::decode_snapshot(bytes);
        // whatever decodes must encode back to the same bytes
        if (vdi::hv::encode_snapshot(snapshot) != bytes) {
            __builtin_trap();
        }
    } catch (const vdi::hv::SnapshotError&) {
    }
}


vdi::hv::MachineSnapshot seed_snapshot()
{
    using namespace vdi::hv;
    MachineSnapshot s;
    s.machine = {64, 1, "elf", "console=ttyS0"};
    VcpuState v;
    v.cpuid.resize(3);
    v.xsave.assign(4096, 1);
    v.msrs.resize(5);
    s.vcpus.push_back(v);
    s.vm.pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
    s.vm.pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
    s.vm.ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
    s.devices.console.receive_fifo = {1, 2, 3};
    s.devices.agent.partial_line = "rea";
    s.devices.i8042.output = {0xfa};
    s.devices.i8042.output_is_aux = {true};
    s.regions = {{"ram", 0, 64ull << 20, 0}, {"framebuffer", 0xe0000000, 3ull << 20, 64ull << 20}};
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::vector<std::uint8_t> bytes(data, data + size);
    parse(bytes);
    if (bytes.size() >= 32) {
        const std::uint64_t length = bytes.size() - 32;
        std::memcpy(bytes.data() + 16, &length, sizeof length);
        const auto crc = static_cast<std::uint32_t>(crc32(crc32(0L, Z_NULL, 0), bytes.data() + 32,
                                                          static_cast<uInt>(length)));
        std::memcpy(bytes.data() + 24, &crc, sizeof crc);
        parse(bytes);
    }
    return 0;
}

std::vector<std::vector<std::uint8_t>> fuzz_seeds()
{
    return {vdi::hv::encode_snapshot(seed_snapshot())};
}

const char* fuzz_target_name()
{
    return "the snapshot parser";
}
