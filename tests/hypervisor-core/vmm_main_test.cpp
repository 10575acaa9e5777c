// vdi-vmm as a process: Linux early boot on the serial console, the control socket, failures
// that exit with one line, clean SIGTERM.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "vdi/test/process.h"

using namespace std::chrono_literals;
using vdi::test::ChildProcess;
using vdi::test::read_text_file;
using vdi::test::run_process;
using vdi::test::wait_until;
namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name)
{
    return fs::temp_directory_path() / ("vdi-vmm-test-" + std::to_string(::getpid()) + "-" + name);
}

// One request/response on the control socket.
nlohmann::json control(const fs::path& socket_path, const std::string& line)
{
    const auto response = vdi::test::unix_request(socket_path.string(), line);
    REQUIRE(response);
    return nlohmann::json::parse(*response);
}

}  // namespace

TEST_CASE("vdi-vmm boots the Debian kernel to its first console lines", "[kvm][linux]")
{
    const std::string kernel = vdi::test::find_cloud_kernel();
    INFO("the cloud kernel comes from ./vdi setup (linux-image-cloud-amd64)");
    REQUIRE_FALSE(kernel.empty());
    const auto serial = scratch("linux-serial.log");
    ChildProcess vmm({VDI_VMM, "--kernel", kernel, "--memory", "256", "--serial", serial.string(), "--cmdline",
                      "console=ttyS0 earlyprintk=serial,ttyS0,115200 nokaslr lpj=5000000 tsc=reliable "
                      "no_timer_check pci=off acpi=off"});
    const bool detected = wait_until([&] { return read_text_file(serial).find("Hypervisor detected: KVM") !=
                                                  std::string::npos; }, 180s);
    const std::string log = read_text_file(serial);
    INFO(log.substr(0, 4000));
    REQUIRE(detected);
    CHECK_THAT(log, Catch::Contains("Linux version 6."));
    // the e820 map Linux printed is the one the VMM passed (256 MiB RAM, framebuffer reserved)
    CHECK_THAT(log, Catch::Contains("BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable"));
    CHECK_THAT(log, Catch::Contains("BIOS-e820: [mem 0x0000000000100000-0x000000000fffffff] usable"));
    CHECK_THAT(log, Catch::Contains("BIOS-e820: [mem 0x00000000e0000000-0x00000000e02fffff] reserved"));
    vmm.signal(SIGTERM);
    const auto status = vmm.wait(30s);
    REQUIRE(status);
    // SIGTERM is a clean stop, unless the kernel hit an instruction this host's KVM rejects first
    if (*status != 0) {
        CHECK_THAT(read_text_file(serial), Catch::Contains("instruction not supported"));
    }
    fs::remove(serial);
}

TEST_CASE("vdi-vmm control socket: status, input, screenshot, bad requests, stop", "[kvm][control]")
{
    const auto socket_path = scratch("control.sock");
    const auto serial = scratch("demo-serial.log");
    ChildProcess vmm({VDI_VMM, "--kernel", VDI_DEMO_GUEST, "--memory", "64", "--serial", serial.string(),
                      "--control", socket_path.string()});
    REQUIRE(wait_until([&] { return fs::exists(socket_path); }, 30s));
    CHECK((fs::status(socket_path).permissions() & fs::perms::others_all) == fs::perms::none);
    REQUIRE(wait_until([&] { return control(socket_path, R"({"cmd":"status"})")["agent_ready"] == 1; }, 60s));
    const auto status = control(socket_path, R"({"cmd":"status"})");
    CHECK(status["ok"] == true);
    CHECK(status["state"] == "running");
    CHECK(status["framebuffer"]["width"] == 1024);
    CHECK(status["kernel"] == "elf");
    // without --vnc/--rdp no display library is mapped (they cost a clone 20 ms and 4 MiB)
    const std::string maps = read_text_file("/proc/" + std::to_string(vmm.pid()) + "/maps");
    CHECK(maps.find("libvncserver") == std::string::npos);
    CHECK(maps.find("libfreerdp") == std::string::npos);
    CHECK(maps.find("vdi-display-") == std::string::npos);

    CHECK(control(socket_path, R"({"cmd":"identity","host":"desk-1","user":"bob"})")["ok"] == true);
    REQUIRE(wait_until([&] { return control(socket_path, R"({"cmd":"status"})")["agent_ready"] == 2; }, 30s));
    CHECK(control(socket_path, R"({"cmd":"type","text":"abc"})")["keys"] == 3);
    CHECK(control(socket_path, R"({"cmd":"mouse","dx":3,"dy":4,"buttons":0})")["ok"] == true);
    const auto shot = control(socket_path, R"({"cmd":"screenshot"})");
    REQUIRE(shot["ok"] == true);
    CHECK(shot["png_base64"].get<std::string>().rfind("iVBORw0KGgo", 0) == 0);  // PNG signature

    const auto paused = control(socket_path, R"({"cmd":"pause"})");
    CHECK(paused["state"] == "paused");
    CHECK(control(socket_path, R"({"cmd":"resume"})")["state"] == "running");

    // malformed and unknown requests get an error and change nothing
    CHECK(control(socket_path, "{not json")["ok"] == false);
    const auto unknown = control(socket_path, R"({"cmd":"reboot-the-host"})");
    CHECK(unknown["ok"] == false);
    CHECK_THAT(unknown["error"].get<std::string>(),
               Catch::StartsWith("unknown cmd 'reboot-the-host'") && Catch::Contains("status, pause, resume"));
    CHECK(control(socket_path, R"({"cmd":"key","code":999})")["ok"] == false);
    CHECK(control(socket_path, R"({"cmd":"type","text":"\u00e9"})")["ok"] == false);
    CHECK(control(socket_path, R"({"cmd":"notice","text":"caf\u00e9"})")["ok"] == false);
    CHECK(control(socket_path, R"({"cmd":"notice","text":"Save your work = 100%"})")["ok"] == true);
    CHECK(control(socket_path, R"({"cmd":"notice","text":""})")["ok"] == true);
    CHECK(control(socket_path, R"({"cmd":"identity","host":"a b","user":"c"})")["ok"] == false);
    CHECK(control(socket_path, R"([1,2,3])")["ok"] == false);
    CHECK(control(socket_path, R"({"cmd":"status"})")["state"] == "running");

    CHECK(control(socket_path, R"({"cmd":"stop"})")["ok"] == true);
    const auto exit_status = vmm.wait(30s);
    REQUIRE(exit_status);
    CHECK(*exit_status == 0);
    CHECK_FALSE(fs::exists(socket_path));
    fs::remove(serial);
}

TEST_CASE("vdi-vmm: failures exit non-zero with a one-line reason and SIGTERM stops cleanly", "[kvm][cli]")
{
    const auto one_line = [](const vdi::test::ProcessResult& r) {
        return std::count(r.output.begin(), r.output.end(), '\n') == 1;
    };
    auto missing = run_process({VDI_VMM, "--kernel", "/nonexistent/vmlinuz"});
    CHECK(missing.exit_code == 1);
    CHECK(one_line(missing));
    CHECK_THAT(missing.output, Catch::StartsWith("vdi-vmm: cannot read /nonexistent/vmlinuz"));

    auto small = run_process({VDI_VMM, "--kernel", VDI_DEMO_GUEST, "--memory", "8"});
    CHECK(small.exit_code == 1);
    CHECK(one_line(small));
    CHECK_THAT(small.output, Catch::Contains("--memory 8 MiB is out of range"));

    auto no_kvm = run_process({VDI_VMM, "--kernel", VDI_DEMO_GUEST, "--kvm-device", "/nonexistent/kvm"});
    CHECK(no_kvm.exit_code == 1);
    CHECK(one_line(no_kvm));
    CHECK_THAT(no_kvm.output, Catch::Contains("cannot open /nonexistent/kvm"));

    const auto not_a_kernel = scratch("not-a-kernel");
    { std::ofstream(not_a_kernel) << "hello, I am not a kernel\n"; }
    auto garbage = run_process({VDI_VMM, "--kernel", not_a_kernel.string()});
    fs::remove(not_a_kernel);
    CHECK(garbage.exit_code == 1);
    CHECK(one_line(garbage));
    CHECK_THAT(garbage.output, Catch::Contains("neither an ELF64 x86-64 executable nor a bzImage"));

    auto bad_fb = run_process({VDI_VMM, "--kernel", VDI_DEMO_GUEST, "--fb", "huge"});
    CHECK(bad_fb.exit_code == 1);

    auto bad_port = run_process({VDI_VMM, "--kernel", VDI_DEMO_GUEST, "--vnc", "127.0.0.1:59x"});
    CHECK(bad_port.exit_code == 1);
    CHECK(one_line(bad_port));
    CHECK_THAT(bad_port.output, Catch::Contains("--vnc: '59x' is not a TCP port"));

    ::setenv("VDI_DISPLAY_MODULE_DIR", "/nonexistent", 1);
    auto no_module = run_process({VDI_VMM, "--kernel", VDI_DEMO_GUEST, "--vnc", "127.0.0.1:0"});
    ::unsetenv("VDI_DISPLAY_MODULE_DIR");
    CHECK(no_module.exit_code == 1);
    CHECK(one_line(no_module));
    CHECK_THAT(no_module.output, Catch::Contains("cannot load the vnc display module: /nonexistent/vdi-display-vnc.so"));

    const auto serial = scratch("sigterm.log");
    ChildProcess vmm({VDI_VMM, "--kernel", VDI_DEMO_GUEST, "--memory", "64", "--serial", serial.string()});
    REQUIRE(wait_until([&] { return read_text_file(serial).find("drawn") != std::string::npos; }, 60s));
    vmm.signal(SIGTERM);
    const auto status = vmm.wait(30s);
    REQUIRE(status);
    CHECK(*status == 0);
    fs::remove(serial);
}

TEST_CASE("vdi-vmm --golden-out writes an image, --restore clones it with an identity, bad images are refused",
          "[kvm][clone][cli]")
{
    const auto dir = scratch("golden");
    const auto golden = run_process({VDI_VMM, "--kernel", VDI_DEMO_GUEST, "--memory", "64", "--serial", "/dev/null",
                                     "--golden-out", dir.string()},
                                    "", 120s);
    INFO(golden.output);
    REQUIRE(golden.exit_code == 0);
    CHECK(fs::exists(dir / "state"));
    CHECK(fs::exists(dir / "memory"));

    const auto socket_path = scratch("clone.sock");
    ChildProcess clone({VDI_VMM, "--restore", dir.string(), "--serial", "/dev/null", "--control",
                        socket_path.string(), "--identity", R"({"host":"desk-9","user":"dave"})"});
    REQUIRE(wait_until([&] { return fs::exists(socket_path); }, 30s));
    // ready once in the image, once more after the identity
    REQUIRE(wait_until([&] { return control(socket_path, R"({"cmd":"status"})")["agent_ready"] == 2; }, 30s));
    CHECK(control(socket_path, R"({"cmd":"status"})")["kernel"] == "elf");
    // a snapshot of the running clone through the control socket
    const auto again = scratch("golden-again");
    const auto snap = control(socket_path, R"({"cmd":"snapshot","dir":")" + again.string() + R"("})");
    CHECK(snap["ok"] == true);
    CHECK(control(socket_path, R"({"cmd":"status"})")["state"] == "running");
    CHECK(fs::exists(again / "state"));
    control(socket_path, R"({"cmd":"stop"})");
    REQUIRE(clone.wait(30s) == 0);

    // corruption is refused with one line naming the file
    {
        std::fstream state(dir / "state", std::ios::in | std::ios::out | std::ios::binary);
        state.seekp(100);
        state.put('\x7f');
    }
    auto corrupt = run_process({VDI_VMM, "--restore", dir.string()});
    CHECK(corrupt.exit_code == 1);
    CHECK(std::count(corrupt.output.begin(), corrupt.output.end(), '\n') == 1);
    CHECK_THAT(corrupt.output, Catch::Contains("fails its CRC check"));
    auto bad_identity = run_process({VDI_VMM, "--restore", again.string(), "--identity", "{oops"});
    CHECK(bad_identity.exit_code == 1);
    CHECK_THAT(bad_identity.output, Catch::Contains("--identity is not valid JSON"));
    auto both = run_process({VDI_VMM, "--restore", again.string(), "--kernel", VDI_DEMO_GUEST});
    CHECK(both.exit_code == 1);
    fs::remove_all(dir);
    fs::remove_all(again);
}

TEST_CASE("vdi-vmm --sandbox: no capabilities, seccomp, and files only in its own directory", "[kvm][sandbox]")
{
    const auto image = scratch("sandbox-image");
    REQUIRE(run_process({VDI_VMM, "--kernel", VDI_DEMO_GUEST, "--memory", "64", "--serial", "/dev/null",
                         "--golden-out", image.string()},
                        "", 120s)
                .exit_code == 0);
    const auto own = scratch("sandbox-own");
    const auto other = scratch("sandbox-other");
    fs::create_directories(own);
    fs::create_directories(other);
    { std::ofstream(other / "secret") << "another clone's file\n"; }
    const auto socket_path = own / "control.sock";
    ChildProcess vmm({VDI_VMM, "--restore", image.string(), "--serial", "/dev/null", "--control",
                      socket_path.string(), "--sandbox", "--identity", R"({"host":"sb","user":"eve"})"});
    REQUIRE(wait_until([&] { return vdi::test::unix_request(socket_path.string(), R"({"cmd":"status"})").has_value(); }, 30s));
    const auto status = read_text_file("/proc/" + std::to_string(vmm.pid()) + "/status");
    CHECK_THAT(status, Catch::Contains("Seccomp:\t2") && Catch::Contains("NoNewPrivs:\t1") &&
                           Catch::Contains("CapEff:\t0000000000000000") && Catch::Contains("CapBnd:\t0000000000000000"));
    // at most 1,024 descriptors (libvncserver tries each number up to the limit on every connection)
    const auto limits = read_text_file("/proc/" + std::to_string(vmm.pid()) + "/limits");
    std::smatch open_files;
    REQUIRE(std::regex_search(limits, open_files, std::regex(R"(Max open files\s+(\d+)\s+(\d+))")));
    CHECK(std::stoul(open_files[1]) <= 1024);
    CHECK(std::stoul(open_files[2]) <= 1024);
    // everything a desktop needs still works
    REQUIRE(wait_until([&] { return control(socket_path, R"({"cmd":"status"})")["identity_ready"] == true; }, 30s));
    CHECK(control(socket_path, R"({"cmd":"type","text":"ok"})")["ok"] == true);
    CHECK(control(socket_path, R"({"cmd":"pause"})")["ok"] == true);
    CHECK(control(socket_path, R"({"cmd":"resume"})")["ok"] == true);
    CHECK(control(socket_path, R"({"cmd":"screenshot"})")["ok"] == true);
    CHECK(control(socket_path, R"({"cmd":"snapshot","dir":")" + (own / "snap").string() + R"("})")["ok"] == true);
    // outside its own directory: nothing
    CHECK(control(socket_path, R"({"cmd":"snapshot","dir":")" + (other / "snap").string() + R"("})")["ok"] == false);
    CHECK(control(socket_path, R"({"cmd":"screenshot","path":")" + (other / "x.png").string() + R"("})")["ok"] == false);
    CHECK(control(socket_path, R"({"cmd":"screenshot","path":")" + (image / "x.png").string() + R"("})")["ok"] == false);
    CHECK_FALSE(fs::exists(other / "snap"));
    control(socket_path, R"({"cmd":"stop"})");
    CHECK(vmm.wait(30s) == 0);
    fs::remove_all(image);
    fs::remove_all(own);
    fs::remove_all(other);
}
