// The Machine's vCPU loop, state machine and failure handling, driven by the fake backend.
#include <catch2/catch.hpp>

#include "vdi/hv/boot/memory_layout.h"
#include "vdi/hv/machine.h"
#include "vdi/test/fake_hypervisor.h"
#include "vdi/test/guest_images.h"
#include "vdi/test/process.h"

using namespace vdi::hv;
using namespace std::chrono_literals;

using guest_images::demo_config;

TEST_CASE("machine (fake): boots the boot vCPU into long mode at the kernel entry", "[machine]")
{
    FakeHypervisor hv;
    Machine machine(hv, demo_config());
    FakeVcpu* bsp = hv.last_vm()->vcpu(0);
    REQUIRE(bsp != nullptr);
    const auto regs = bsp->get_regs();
    CHECK(regs.rip == machine.kernel().entry);
    CHECK(regs.rsi == layout::zero_page);
    const auto sregs = bsp->get_sregs();
    CHECK((sregs.efer & 0x500) == 0x500);  // LME | LMA
    CHECK((sregs.cr0 & 0x80000001) == 0x80000001);
    CHECK(sregs.cr3 == layout::pml4);
    CHECK(sregs.cs.l == 1);
    CHECK_FALSE(bsp->cpuid().empty());
    const auto regions = hv.last_vm()->regions();
    REQUIRE(regions.size() == 2);
    CHECK(regions[1].dirty_logging);  // the framebuffer slot
    CHECK(regions[1].guest_address == layout::framebuffer);
}

TEST_CASE("machine (fake): port I/O reaches the devices and console bytes reach the host", "[machine]")
{
    FakeHypervisor hv;
    std::string console;
    std::mutex console_mutex;
    auto config = demo_config();
    config.console_output = [&](std::span<const std::uint8_t> bytes) {
        std::lock_guard lock(console_mutex);
        console.append(bytes.begin(), bytes.end());
    };
    Machine machine(hv, config);
    FakeVcpu* vcpu = hv.last_vm()->vcpu(0);
    vcpu->script({VmExit::Kind::io_out, 0x3f8, {'o'}});
    vcpu->script({VmExit::Kind::io_out, 0x3f8, {'k'}});
    vcpu->script({VmExit::Kind::io_in, 0x3fd, {0}});     // LSR
    vcpu->script({VmExit::Kind::io_in, 0x1234, {0, 0}});  // nobody home
    vcpu->script({VmExit::Kind::mmio_read, 0xfee00000, {0, 0, 0, 0}});
    machine.start();
    REQUIRE(vdi::test::wait_until([&] { return vcpu->reads().size() == 3; }, 5s));
    {
        std::lock_guard lock(console_mutex);
        CHECK(console == "ok");
    }
    const auto reads = vcpu->reads();
    CHECK((reads[0][0] & 0x60) == 0x60);
    CHECK(reads[1] == std::vector<std::uint8_t>{0xff, 0xff});
    CHECK(machine.port_bus().unclaimed().count(0x1234) == 1);
    CHECK(machine.state() == RunState::running);
    machine.request_stop("test over");
    const auto stopped = machine.wait(5s);
    REQUIRE(stopped);
    CHECK_FALSE(stopped->guest_failure);
    CHECK(stopped->reason == "test over");
}

TEST_CASE("machine (fake): pause holds the vCPUs, resume lets them go on", "[machine]")
{
    FakeHypervisor hv;
    Machine machine(hv, demo_config());
    FakeVcpu* vcpu = hv.last_vm()->vcpu(0);
    machine.start();
    machine.pause();
    CHECK(machine.state() == RunState::paused);
    vcpu->script({VmExit::Kind::io_in, 0x3fd, {0}});
    CHECK_FALSE(vdi::test::wait_until([&] { return !vcpu->reads().empty(); }, 200ms));
    vcpu->script({VmExit::Kind::io_in, 0x3fd, {0}});  // run() reports the previous read on entry
    machine.resume();
    CHECK(machine.state() == RunState::running);
    CHECK(vdi::test::wait_until([&] { return !vcpu->reads().empty(); }, 5s));
    machine.pause();
    machine.pause();  // idempotent
    machine.resume();
    machine.request_stop("done");
    CHECK(machine.wait(5s));
}

TEST_CASE("machine (fake): guest failures stop this VM with a clear reason", "[machine]")
{
    struct Case {
        VmExit::Kind kind;
        const char* expected;
        bool failure;
    };
    for (const Case& c : {Case{VmExit::Kind::emulation_failure, "instruction not supported at RIP 0xdead0", true},
                          Case{VmExit::Kind::shutdown, "triple-faulted", true},
                          Case{VmExit::Kind::fail_entry, "RIP 0xdead0", true}}) {
        FakeHypervisor hv;
        Machine machine(hv, demo_config());
        hv.last_vm()->vcpu(0)->script({c.kind, 0, {}, 0xdead0});
        machine.start();
        const auto stopped = machine.wait(5s);
        REQUIRE(stopped);
        CHECK(stopped->guest_failure == c.failure);
        CHECK_THAT(stopped->reason, Catch::Contains(c.expected));
        CHECK(machine.state() == RunState::stopped);
    }
}

TEST_CASE("machine (fake): a reset through the keyboard controller stops the VM cleanly", "[machine]")
{
    FakeHypervisor hv;
    Machine machine(hv, demo_config());
    hv.last_vm()->vcpu(0)->script({VmExit::Kind::io_out, 0x64, {0xfe}});
    machine.start();
    const auto stopped = machine.wait(5s);
    REQUIRE(stopped);
    CHECK_FALSE(stopped->guest_failure);
    CHECK_THAT(stopped->reason, Catch::Contains("reset"));
}

TEST_CASE("machine (fake): bad configurations are refused with one-line reasons", "[machine]")
{
    FakeHypervisor hv;
    auto config = demo_config();
    config.memory_mib = 4;
    CHECK_THROWS_WITH(Machine(hv, config), Catch::Contains("--memory 4 MiB is out of range"));
    config = demo_config();
    config.vcpus = 9;
    CHECK_THROWS_WITH(Machine(hv, config), Catch::Contains("--vcpus 9"));
    config = demo_config();
    config.kernel = "/nonexistent/vmlinuz";
    CHECK_THROWS_WITH(Machine(hv, config), Catch::Contains("cannot read /nonexistent/vmlinuz"));
    config = demo_config();
    config.memory_mib = 16;  // the demo guest links at 16 MiB: it does not fit
    CHECK_THROWS_WITH(Machine(hv, config), Catch::Contains("does not fit in guest RAM"));
}
