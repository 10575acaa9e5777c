// Encoding, decoding and validating the snapshot state file.
#include "vdi/hv/snapshot/snapshot.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <zlib.h>

#include "vdi/hv/boot/kernel_loader.h"
#include "vdi/hv/boot/memory_layout.h"

namespace vdi::hv {
namespace {

constexpr char magic[8] = {'V', 'D', 'I', 'S', 'N', 'A', 'P', '\0'};
constexpr std::size_t header_size = 32;

enum SectionTag : std::uint32_t {
    tag_machine = 1,
    tag_vcpu = 2,
    tag_vm = 3,
    tag_devices = 4,
    tag_memory = 5,
};

constexpr std::size_t max_string = 4096;
constexpr std::size_t max_cpuid_entries = 256;
constexpr std::size_t max_msrs = 2048;
constexpr std::size_t max_xsave = 64 * 1024;
constexpr std::size_t max_fifo = 64 * 1024;
constexpr std::size_t max_regions = 16;

std::uint32_t crc32_of(std::span<const std::uint8_t> data)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    std::size_t offset = 0;
    while (offset < data.size()) {
        const auto chunk = static_cast<uInt>(std::min<std::size_t>(data.size() - offset, 1u << 30));
        crc = crc32(crc, data.data() + offset, chunk);
        offset += chunk;
    }
    return static_cast<std::uint32_t>(crc);
}

void put_serial(ByteWriter& w, const Serial8250State& s)
{
    w.put(s.divisor_low);
    w.put(s.divisor_high);
    w.put(s.interrupt_enable);
    w.put(s.line_control);
    w.put(s.modem_control);
    w.put(s.scratch);
    w.put(s.fifo_control);
    w.put(static_cast<std::uint8_t>(s.thr_empty_pending));
    w.put_bytes(s.receive_fifo);
}

Serial8250State get_serial(ByteReader& r)
{
    Serial8250State s;
    s.divisor_low = r.get<std::uint8_t>();
    s.divisor_high = r.get<std::uint8_t>();
    s.interrupt_enable = r.get<std::uint8_t>();
    s.line_control = r.get<std::uint8_t>();
    s.modem_control = r.get<std::uint8_t>();
    s.scratch = r.get<std::uint8_t>();
    s.fifo_control = r.get<std::uint8_t>();
    s.thr_empty_pending = r.get_bool();
    s.receive_fifo = r.get_bytes(max_fifo);
    return s;
}

void put_i8042(ByteWriter& w, const I8042State& s)
{
    w.put(s.command_byte);
    w.put(s.pending_command);
    w.put(s.pending_keyboard);
    w.put(s.pending_mouse);
    w.put(static_cast<std::uint8_t>(s.last_write_was_command));
    w.put(static_cast<std::uint8_t>(s.keyboard_scanning));
    w.put(static_cast<std::uint8_t>(s.mouse_reporting));
    w.put(s.mouse_sample_rate);
    w.put(s.mouse_resolution);
    w.put(static_cast<std::uint8_t>(s.mouse_scaling_2to1));
    w.put(s.mouse_buttons);
    w.put_bytes(s.output);
    std::vector<std::uint8_t> aux(s.output_is_aux.begin(), s.output_is_aux.end());
    w.put_bytes(aux);
}

I8042State get_i8042(ByteReader& r)
{
    I8042State s;
    s.command_byte = r.get<std::uint8_t>();
    s.pending_command = r.get<std::uint8_t>();
    s.pending_keyboard = r.get<std::uint8_t>();
    s.pending_mouse = r.get<std::uint8_t>();
    s.last_write_was_command = r.get_bool();
    s.keyboard_scanning = r.get_bool();
    s.mouse_reporting = r.get_bool();
    s.mouse_sample_rate = r.get<std::uint8_t>();
    s.mouse_resolution = r.get<std::uint8_t>();
    s.mouse_scaling_2to1 = r.get_bool();
    s.mouse_buttons = r.get<std::uint8_t>();
    s.output = r.get_bytes(I8042::output_limit);
    const auto aux = r.get_bytes(I8042::output_limit);
    if (aux.size() != s.output.size() ||
        std::any_of(aux.begin(), aux.end(), [](std::uint8_t flag) { return flag > 1; })) {
        throw SnapshotError("snapshot i8042 state is inconsistent (output bytes and their sources differ)");
    }
    s.output_is_aux.assign(aux.begin(), aux.end());
    return s;
}

void put_vcpu(ByteWriter& w, const VcpuState& v)
{
    w.put(v.index);
    w.put_vector(v.cpuid);
    w.put(v.mp_state);
    w.put(v.regs);
    w.put(v.sregs);
    w.put_bytes(v.xsave);
    w.put(v.xcrs);
    w.put(v.debugregs);
    w.put(v.lapic);
    w.put_vector(v.msrs);
    w.put(v.events);
}

VcpuState get_vcpu(ByteReader& r)
{
    VcpuState v;
    v.index = r.get<std::uint32_t>();
    v.cpuid = r.get_vector<kvm_cpuid_entry2>(max_cpuid_entries);
    v.mp_state = r.get<kvm_mp_state>();
    v.regs = r.get<kvm_regs>();
    v.sregs = r.get<kvm_sregs>();
    v.xsave = r.get_bytes(max_xsave);
    if (v.xsave.size() < 4096) {
        throw SnapshotError("snapshot vCPU state has an XSAVE area smaller than 4096 bytes");
    }
    v.xcrs = r.get<kvm_xcrs>();
    v.debugregs = r.get<kvm_debugregs>();
    v.lapic = r.get<kvm_lapic_state>();
    v.msrs = r.get_vector<kvm_msr_entry>(max_msrs);
    v.events = r.get<kvm_vcpu_events>();
    return v;
}

}  // namespace

std::vector<std::uint8_t> encode_snapshot(const MachineSnapshot& s)
{
    ByteWriter payload;
    auto at = payload.begin_section(tag_machine);
    payload.put(s.machine.memory_mib);
    payload.put(s.machine.vcpus);
    payload.put_string(s.machine.kernel);
    payload.put_string(s.machine.cmdline);
    payload.end_section(at);

    for (const auto& vcpu : s.vcpus) {
        at = payload.begin_section(tag_vcpu);
        put_vcpu(payload, vcpu);
        payload.end_section(at);
    }

    at = payload.begin_section(tag_vm);
    payload.put(s.vm.pit);
    payload.put(s.vm.clock);
    payload.put(s.vm.pic_master);
    payload.put(s.vm.pic_slave);
    payload.put(s.vm.ioapic);
    payload.end_section(at);

    at = payload.begin_section(tag_devices);
    put_serial(payload, s.devices.console);
    put_serial(payload, s.devices.agent.uart);
    payload.put_string(s.devices.agent.partial_line);
    payload.put(s.devices.agent.ready_count);
    payload.put(static_cast<std::int32_t>(s.devices.agent.agent_version));
    put_i8042(payload, s.devices.i8042);
    payload.put(s.devices.rtc.index);
    payload.put(s.devices.rtc.ram);
    payload.put(s.devices.rtc.offset_seconds);
    payload.put(s.devices.framebuffer.width);
    payload.put(s.devices.framebuffer.height);
    payload.put(s.devices.framebuffer.guest_address);
    payload.end_section(at);

    at = payload.begin_section(tag_memory);
    payload.put(static_cast<std::uint32_t>(s.regions.size()));
    for (const auto& region : s.regions) {
        payload.put_string(region.name);
        payload.put(region.guest_address);
        payload.put(region.size);
        payload.put(region.file_offset);
    }
    payload.end_section(at);

    ByteWriter file;
    for (char c : magic) {
        file.put(c);
    }
    file.put(snapshot_format_version);
    file.put(snapshot_arch_x86_64_kvm);
    file.put(static_cast<std::uint64_t>(payload.bytes().size()));
    file.put(crc32_of(payload.bytes()));
    file.put(std::uint32_t{0});
    auto out = std::move(file.bytes());
    out.insert(out.end(), payload.bytes().begin(), payload.bytes().end());
    return out;
}

MachineSnapshot decode_snapshot(std::span<const std::uint8_t> bytes)
{
    if (bytes.size() < header_size || std::memcmp(bytes.data(), magic, sizeof magic) != 0) {
        throw SnapshotError("not a vdi snapshot state file (bad magic)");
    }
    ByteReader header(bytes.subspan(8, header_size - 8), "snapshot header");
    const auto version = header.get<std::uint32_t>();
    const auto arch = header.get<std::uint32_t>();
    const auto length = header.get<std::uint64_t>();
    const auto crc = header.get<std::uint32_t>();
    if (header.get<std::uint32_t>() != 0) {
        throw SnapshotError("snapshot header's reserved field is not zero (written by a newer vdi-vmm?)");
    }
    if (version != snapshot_format_version) {
        throw SnapshotError(fmt::format("snapshot format version {} is not supported by this vdi-vmm (it reads "
                                        "version {}); rebuild the golden image with this version",
                                        version, snapshot_format_version));
    }
    if (arch != snapshot_arch_x86_64_kvm) {
        throw SnapshotError(fmt::format("snapshot is for architecture {}, this host runs x86-64 on KVM", arch));
    }
    if (length != bytes.size() - header_size) {
        throw SnapshotError(fmt::format("snapshot state file is {} bytes {} than its header says; rebuild the "
                                        "golden image",
                                        length > bytes.size() - header_size ? length - (bytes.size() - header_size)
                                                                            : (bytes.size() - header_size) - length,
                                        length > bytes.size() - header_size ? "shorter" : "longer"));
    }
    const auto payload = bytes.subspan(header_size);
    if (crc32_of(payload) != crc) {
        throw SnapshotError("snapshot state file fails its CRC check (corrupted); rebuild the golden image");
    }

    MachineSnapshot s;
    ByteReader r(payload, "snapshot state");
    {
        auto m = r.section(tag_machine, "MACHINE");
        s.machine.memory_mib = m.get<std::uint64_t>();
        s.machine.vcpus = m.get<std::uint32_t>();
        s.machine.kernel = m.get_string(max_string);
        s.machine.cmdline = m.get_string(layout::cmdline_max);
        m.expect_end();
        if (s.machine.vcpus < 1 || s.machine.vcpus > 4) {
            throw SnapshotError(fmt::format("snapshot has {} vCPUs; 1 to 4 are supported", s.machine.vcpus));
        }
        if (s.machine.memory_mib < (layout::min_ram >> 20) || s.machine.memory_mib > (layout::ram_limit >> 20)) {
            throw SnapshotError(fmt::format("snapshot memory size {} MiB is out of range", s.machine.memory_mib));
        }
    }
    for (std::uint32_t i = 0; i < s.machine.vcpus; ++i) {
        auto v = r.section(tag_vcpu, "VCPU");
        s.vcpus.push_back(get_vcpu(v));
        v.expect_end();
        if (s.vcpus.back().index != i) {
            throw SnapshotError(fmt::format("snapshot vCPU sections are out of order (found {} at {})",
                                            s.vcpus.back().index, i));
        }
    }
    {
        auto v = r.section(tag_vm, "VM");
        s.vm.pit = v.get<kvm_pit_state2>();
        s.vm.clock = v.get<kvm_clock_data>();
        s.vm.pic_master = v.get<kvm_irqchip>();
        s.vm.pic_slave = v.get<kvm_irqchip>();
        s.vm.ioapic = v.get<kvm_irqchip>();
        v.expect_end();
        if (s.vm.pic_master.chip_id != KVM_IRQCHIP_PIC_MASTER || s.vm.pic_slave.chip_id != KVM_IRQCHIP_PIC_SLAVE ||
            s.vm.ioapic.chip_id != KVM_IRQCHIP_IOAPIC) {
            throw SnapshotError("snapshot interrupt controller state is inconsistent");
        }
    }
    {
        auto d = r.section(tag_devices, "DEVICES");
        s.devices.console = get_serial(d);
        s.devices.agent.uart = get_serial(d);
        s.devices.agent.partial_line = d.get_string(AgentChannel::max_line);
        s.devices.agent.ready_count = d.get<std::uint64_t>();
        s.devices.agent.agent_version = d.get<std::int32_t>();
        s.devices.i8042 = get_i8042(d);
        s.devices.rtc.index = d.get<std::uint8_t>();
        s.devices.rtc.ram = d.get<std::array<std::uint8_t, 128>>();
        s.devices.rtc.offset_seconds = d.get<std::int64_t>();
        s.devices.framebuffer.width = d.get<std::uint32_t>();
        s.devices.framebuffer.height = d.get<std::uint32_t>();
        s.devices.framebuffer.guest_address = d.get<std::uint64_t>();
        d.expect_end();
        try {
            Framebuffer check(s.devices.framebuffer);
        } catch (const HvError& e) {
            throw SnapshotError(std::string("snapshot framebuffer: ") + e.what());
        }
    }
    {
        auto m = r.section(tag_memory, "MEMORY");
        const auto count = m.get<std::uint32_t>();
        if (count == 0 || count > max_regions) {
            throw SnapshotError(fmt::format("snapshot lists {} memory regions", count));
        }
        for (std::uint32_t i = 0; i < count; ++i) {
            MemoryRegionRecord region;
            region.name = m.get_string(64);
            region.guest_address = m.get<std::uint64_t>();
            region.size = m.get<std::uint64_t>();
            region.file_offset = m.get<std::uint64_t>();
            if (region.size == 0 || region.size % 4096 || region.file_offset % 4096 ||
                region.size > (layout::ram_limit) || region.file_offset > (1ull << 40)) {
                throw SnapshotError(fmt::format("snapshot memory region {} has an invalid size or offset", region.name));
            }
            s.regions.push_back(region);
        }
        m.expect_end();
    }
    r.expect_end();
    return s;
}

MachineSnapshot read_snapshot(const std::filesystem::path& dir)
{
    const auto state_path = dir / snapshot_state_file;
    const auto memory_path = dir / snapshot_memory_file;
    if (!std::filesystem::exists(state_path)) {
        throw SnapshotError(fmt::format("{} is not a golden image directory (no {} file)", dir.string(),
                                        snapshot_state_file));
    }
    const auto bytes = read_file(state_path);
    MachineSnapshot snapshot;
    try {
        snapshot = decode_snapshot(bytes);
    } catch (const SnapshotError& e) {
        throw SnapshotError(fmt::format("{}: {}", state_path.string(), e.what()));
    }
    std::error_code ec;
    const auto memory_size = std::filesystem::file_size(memory_path, ec);
    if (ec) {
        throw SnapshotError(fmt::format("{} is missing its memory file; rebuild the golden image", dir.string()));
    }
    for (const auto& region : snapshot.regions) {
        if (region.file_offset + region.size > memory_size) {
            throw SnapshotError(fmt::format("snapshot memory file {} is {} bytes shorter than its state says; rebuild "
                                            "the golden image",
                                            memory_path.string(), region.file_offset + region.size - memory_size));
        }
    }
    return snapshot;
}

}  // namespace vdi::hv
