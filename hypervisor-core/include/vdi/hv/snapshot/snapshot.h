// Golden snapshots: a directory holding a state file and a memory file.
//
//   state file "state" (format version 1)
//     offset  0  magic     8 bytes  "VDISNAP\0"
//             8  version   u32      1
//            12  arch      u32      1 = x86-64 on KVM
//            16  length    u64      bytes of payload
//            24  crc32     u32      zlib CRC-32 of the payload
//            28  reserved  u32      0
//            32  payload   sections, each [tag u32][length u64][bytes]:
//                  MACHINE  memory size, vCPU count, framebuffer geometry, kernel, command line
//                  VCPU     one per vCPU, fields in Firecracker's order (cpu_state.h)
//                  VM       PIT2, kvmclock, PIC master, PIC slave, IOAPIC
//                  DEVICES  console UART, agent channel, i8042, RTC, framebuffer
//                  MEMORY   the memory file's regions: name, guest address, size, file offset
//   memory file "memory": the regions back to back at page-aligned offsets (RAM, then the
//   framebuffer, so a clone's first frame is there at once); all-zero pages are holes.
// All integers little-endian. Readers refuse a wrong magic, version or architecture, a CRC
// mismatch, truncation, trailing bytes, and implausible counts or sizes, naming the problem.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "vdi/hv/devices/agent_channel.h"
#include "vdi/hv/devices/cmos_rtc.h"
#include "vdi/hv/devices/framebuffer.h"
#include "vdi/hv/devices/i8042.h"
#include "vdi/hv/devices/serial_8250.h"
#include "vdi/hv/snapshot/byte_stream.h"
#include "vdi/hv/snapshot/cpu_state.h"

namespace vdi::hv {

inline constexpr std::uint32_t snapshot_format_version = 1;
inline constexpr std::uint32_t snapshot_arch_x86_64_kvm = 1;
inline constexpr const char* snapshot_state_file = "state";
inline constexpr const char* snapshot_memory_file = "memory";

struct MachineInfo {
    std::uint64_t memory_mib = 0;
    std::uint32_t vcpus = 1;
    std::string kernel;   // what was booted ("bzImage/lz4", "elf")
    std::string cmdline;
};

struct DeviceStates {
    Serial8250State console;
    AgentChannelState agent;
    I8042State i8042;
    CmosRtcState rtc;
    FramebufferState framebuffer;
};

struct MemoryRegionRecord {
    std::string name;
    std::uint64_t guest_address = 0;
    std::uint64_t size = 0;
    std::uint64_t file_offset = 0;
};

struct MachineSnapshot {
    MachineInfo machine;
    std::vector<VcpuState> vcpus;
    VmState vm;
    DeviceStates devices;
    std::vector<MemoryRegionRecord> regions;
};

// The state file's bytes (header, CRC and payload).
std::vector<std::uint8_t> encode_snapshot(const MachineSnapshot& snapshot);
// Parses and validates a state file's bytes; SnapshotError says what is wrong.
MachineSnapshot decode_snapshot(std::span<const std::uint8_t> bytes);

// Reads DIR/state and checks DIR/memory covers every region. SnapshotError with advice.
MachineSnapshot read_snapshot(const std::filesystem::path& dir);

}  // namespace vdi::hv
