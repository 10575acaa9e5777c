// The snapshot state file: round trips, and refusal of corrupt, truncated or foreign files;
// save -> restore of a whole machine through the fake backend.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "vdi/hv/machine.h"
#include "vdi/hv/snapshot/snapshot.h"
#include "vdi/test/fake_hypervisor.h"
#include "vdi/test/guest_images.h"

using namespace vdi::hv;
namespace fs = std::filesystem;

namespace {

MachineSnapshot sample_snapshot()
{
    MachineSnapshot s;
    s.machine = {64, 2, "elf", "console=ttyS0"};
    for (std::uint32_t i = 0; i < 2; ++i) {
        VcpuState v;
        v.index = i;
        kvm_cpuid_entry2 leaf{};
        leaf.function = 1;
        leaf.ecx = 0x80000000u | i;
        v.cpuid = {leaf};
        v.mp_state.mp_state = i == 0 ? KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_UNINITIALIZED;
        v.regs.rip = 0x1000000 + i;
        v.regs.rsp = 0x8ff0;
        v.sregs.cr3 = 0x9000;
        v.sregs.efer = 0x500;
        v.xsave.assign(4096, static_cast<std::uint8_t>(0x10 + i));
        v.xcrs.nr_xcrs = 1;
        v.xcrs.xcrs[0].value = 3;
        v.debugregs.dr7 = 0x400;
        v.lapic.regs[0x20] = static_cast<char>(i);
        kvm_msr_entry tsc{};
        tsc.index = msr_ia32_tsc;
        tsc.data = 123456789;
        kvm_msr_entry deadline{};
        deadline.index = msr_ia32_tsc_deadline;
        deadline.data = 123456999;
        v.msrs = {tsc, deadline};
        v.events.exception.injected = 0;
        v.events.nmi.pending = 1;
        s.vcpus.push_back(v);
    }
    s.vm.pit.channels[0].count = 65536;
    s.vm.clock.clock = 42424242;
    s.vm.pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
    s.vm.pic_master.chip.pic.imr = 0xe0;
    s.vm.pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
    s.vm.ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
    s.vm.ioapic.chip.ioapic.id = 7;
    s.devices.console.scratch = 0x5a;
    s.devices.console.receive_fifo = {'h', 'i'};
    s.devices.agent.uart.interrupt_enable = 1;
    s.devices.agent.partial_line = "rea";
    s.devices.agent.ready_count = 3;
    s.devices.agent.agent_version = 1;
    s.devices.i8042.command_byte = 0x03;
    s.devices.i8042.output = {0x1c, 0x08};
    s.devices.i8042.output_is_aux = {false, true};
    s.devices.i8042.mouse_reporting = true;
    s.devices.rtc.index = 0x0b;
    s.devices.rtc.ram[0x40] = 0xab;
    s.devices.rtc.offset_seconds = -3600;
    s.devices.framebuffer = {800, 600, 0xe0000000};
    s.regions = {{"ram", 0, 64ull << 20, 0}, {"framebuffer", 0xe0000000, (800 * 600 * 4 + 4095) & ~4095ull, 64ull << 20}};
    return s;
}

}  // namespace

TEST_CASE("snapshot: every state struct survives encode -> decode", "[snapshot][state]")
{
    const auto original = sample_snapshot();
    const auto decoded = decode_snapshot(encode_snapshot(original));
    CHECK(decoded.machine.memory_mib == 64);
    CHECK(decoded.machine.vcpus == 2);
    CHECK(decoded.machine.cmdline == "console=ttyS0");
    REQUIRE(decoded.vcpus.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
        const auto& a = original.vcpus[i];
        const auto& b = decoded.vcpus[i];
        CHECK(std::memcmp(&a.regs, &b.regs, sizeof a.regs) == 0);
        CHECK(std::memcmp(&a.sregs, &b.sregs, sizeof a.sregs) == 0);
        CHECK(std::memcmp(&a.lapic, &b.lapic, sizeof a.lapic) == 0);
        CHECK(std::memcmp(&a.events, &b.events, sizeof a.events) == 0);
        CHECK(std::memcmp(&a.xcrs, &b.xcrs, sizeof a.xcrs) == 0);
        CHECK(std::memcmp(&a.debugregs, &b.debugregs, sizeof a.debugregs) == 0);
        CHECK(a.mp_state.mp_state == b.mp_state.mp_state);
        CHECK(a.xsave == b.xsave);
        REQUIRE(b.cpuid.size() == 1);
        CHECK(b.cpuid[0].ecx == a.cpuid[0].ecx);
        REQUIRE(b.msrs.size() == 2);
        CHECK(b.msrs[1].data == 123456999);
    }
    CHECK(std::memcmp(&original.vm, &decoded.vm, sizeof original.vm) == 0);
    CHECK(decoded.devices.console.scratch == 0x5a);
    CHECK(decoded.devices.console.receive_fifo == std::vector<std::uint8_t>{'h', 'i'});
    CHECK(decoded.devices.agent.partial_line == "rea");
    CHECK(decoded.devices.agent.ready_count == 3);
    CHECK(decoded.devices.i8042.output_is_aux == std::vector<bool>{false, true});
    CHECK(decoded.devices.i8042.mouse_reporting);
    CHECK(decoded.devices.rtc.ram[0x40] == 0xab);
    CHECK(decoded.devices.rtc.offset_seconds == -3600);
    CHECK(decoded.devices.framebuffer.width == 800);
    REQUIRE(decoded.regions.size() == 2);
    CHECK(decoded.regions[1].file_offset == 64ull << 20);
}

TEST_CASE("snapshot: corrupt, truncated, foreign and wrong-version files are refused", "[snapshot]")
{
    const auto good = encode_snapshot(sample_snapshot());
    auto flipped = good;
    flipped[good.size() / 2] ^= 0x01;
    CHECK_THROWS_WITH(decode_snapshot(flipped), Catch::Contains("CRC"));

    auto truncated = good;
    truncated.resize(good.size() - 12);
    CHECK_THROWS_WITH(decode_snapshot(truncated), Catch::Contains("12 bytes shorter than its header says"));

    auto longer = good;
    longer.push_back(0);
    CHECK_THROWS_WITH(decode_snapshot(longer), Catch::Contains("longer"));

    auto version = good;
    version[8] = 9;
    CHECK_THROWS_WITH(decode_snapshot(version), Catch::Contains("format version 9 is not supported"));

    auto arch = good;
    arch[12] = 2;
    CHECK_THROWS_WITH(decode_snapshot(arch), Catch::Contains("architecture 2"));

    auto magic = good;
    magic[0] = 'X';
    CHECK_THROWS_WITH(decode_snapshot(magic), Catch::Contains("bad magic"));
    CHECK_THROWS_AS(decode_snapshot(std::vector<std::uint8_t>(10, 0)), SnapshotError);

    auto bad = sample_snapshot();
    bad.machine.vcpus = 3;  // but only two VCPU sections
    CHECK_THROWS_AS(decode_snapshot(encode_snapshot(bad)), SnapshotError);
    bad = sample_snapshot();
    bad.machine.memory_mib = 1;
    CHECK_THROWS_WITH(decode_snapshot(encode_snapshot(bad)), Catch::Contains("out of range"));
    bad = sample_snapshot();
    bad.devices.framebuffer.width = 0;
    CHECK_THROWS_WITH(decode_snapshot(encode_snapshot(bad)), Catch::Contains("framebuffer"));
    bad = sample_snapshot();
    bad.regions[0].size = 4095;
    CHECK_THROWS_WITH(decode_snapshot(encode_snapshot(bad)), Catch::Contains("invalid size"));
}

TEST_CASE("snapshot: a whole machine saves and restores through the fake backend", "[snapshot][machine]")
{
    const fs::path dir = fs::temp_directory_path() / ("vdi-snap-fake-" + std::to_string(::getpid()));
    FakeHypervisor hv;
    auto config = guest_images::demo_config();
    config.vcpus = 2;
    Machine original(hv, config);
    FakeVm* vm = hv.last_vm();
    kvm_regs regs = vm->vcpu(0)->get_regs();
    regs.rax = 0xfeedface;
    vm->vcpu(0)->set_regs(regs);
    kvm_clock_data clock{};
    clock.clock = 987654321;
    vm->set_clock(clock);
    original.agent().send_identity({"golden", "nobody", "00", 1});
    original.memory().write_object<std::uint64_t>(0x2000000, 0x1122334455667788ull);
    original.snapshot(dir);
    CHECK(fs::exists(dir / "state"));
    CHECK(fs::file_size(dir / "memory") == (64ull << 20) + original.framebuffer().size());

    FakeHypervisor hv2;
    Machine clone(hv2, dir, nullptr);
    FakeVm* vm2 = hv2.last_vm();
    CHECK(vm2->vcpu(0)->get_regs().rax == 0xfeedface);
    CHECK(vm2->vcpu(0)->get_regs().rip == original.kernel().entry);
    CHECK(vm2->get_clock().clock == 987654321);
    CHECK(vm2->vcpu(1) != nullptr);
    CHECK(vm2->vcpu(0)->kvmclock_ctrl_calls() == 1);
    CHECK(clone.memory().read_object<std::uint64_t>(0x2000000) == 0x1122334455667788ull);
    CHECK(clone.config().memory_mib == 64);
    CHECK(clone.config().vcpus == 2);
    // the identity line queued before the snapshot is still waiting for the guest
    CHECK(clone.agent().save().uart.receive_fifo.size() > 10);
    // the clone maps the memory file privately: its writes never reach the image
    clone.memory().write_object<std::uint64_t>(0x2000000, 0);
    Machine second(hv2, dir, nullptr);
    CHECK(second.memory().read_object<std::uint64_t>(0x2000000) == 0x1122334455667788ull);

    // a damaged directory is refused with the reason
    fs::resize_file(dir / "memory", 4096);
    CHECK_THROWS_WITH(Machine(hv2, dir, nullptr), Catch::Contains("shorter than its state says"));
    fs::remove(dir / "state");
    CHECK_THROWS_WITH(Machine(hv2, dir, nullptr), Catch::Contains("not a golden image directory"));
    fs::remove_all(dir);
}

// /dev/full stands in for a full disk: its writes fail with ENOSPC. (A failing fsync or close
// cannot be provoked honestly here without a faulty file system; those paths share the error.)
TEST_CASE("snapshot: a file that cannot reach the disk fails the snapshot, names the file and what to do",
          "[snapshot][machine]")
{
    const fs::path dir = fs::temp_directory_path() / ("vdi-snap-full-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    FakeHypervisor hv;
    Machine machine(hv, guest_images::demo_config());
    machine.memory().write_object<std::uint64_t>(0x2000000, 0x1122334455667788ull);  // a page to write

    const std::string file = GENERATE(std::string("memory"), std::string("state"));
    CAPTURE(file);
    const fs::path tmp = dir / (file + ".tmp");
    fs::create_symlink("/dev/full", tmp);
    CHECK_THROWS_WITH(machine.snapshot(dir),
                      Catch::Contains("could not write snapshot file " + tmp.string() + " to disk") &&
                          Catch::Contains(std::strerror(ENOSPC)) && Catch::Contains("free space") &&
                          Catch::Contains("take the snapshot again"));
    // nothing half-written is published as the golden image
    CHECK_FALSE(fs::exists(dir / "state"));
    CHECK_FALSE(fs::exists(dir / "memory"));
    fs::remove_all(dir);
}
