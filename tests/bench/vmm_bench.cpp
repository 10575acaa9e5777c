// vmm_bench: start-up time and memory overhead of vdi-vmm, and Linux early boot against QEMU.
//
// Figures (medians over 10 runs of the demo guest unless noted):
//   first_instruction_ms     process start -> first vCPU exit (the guest's first instruction ran)
//   first_frame_ms           process start -> the demo desktop drawn and "ready"
//   vmm_overhead_mib         VMM resident memory outside guest memory, once the desktop is ready
//   linux_first_line_s       vdi-vmm: process start -> "Linux version" on the serial console (1 run)
//   qemu_linux_first_line_s  the same kernel and command line under qemu-system-x86_64 -enable-kvm
// Ends with: RESULT {json}
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <signal.h>
#include <sstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "bench_support.h"
#include "vdi/test/process.h"

using namespace std::chrono_literals;
using vdi::test::ChildProcess;
using vdi::test::read_text_file;
using vdi::test::wait_until;
namespace fs = std::filesystem;

namespace {

const char* const linux_cmdline =
    "console=ttyS0 earlyprintk=serial,ttyS0,115200 nokaslr lpj=5000000 tsc=reliable no_timer_check pci=off acpi=off";

std::int64_t monotonic_ns()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::optional<nlohmann::json> control(const fs::path& socket_path, const std::string& line)
{
    const auto response = vdi::test::unix_request(socket_path.string(), line);
    if (!response) {
        return std::nullopt;
    }
    try {
        return nlohmann::json::parse(*response);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Seconds from spawning argv to `marker` in `serial`, or nullopt after `limit`.
std::optional<double> time_to_marker(const std::vector<std::string>& argv, const fs::path& serial,
                                     const std::string& marker, std::chrono::seconds limit)
{
    fs::remove(serial);
    const auto start = std::chrono::steady_clock::now();
    ChildProcess process(argv, serial.string() + ".stderr");
    const bool seen = wait_until([&] { return read_text_file(serial).find(marker) != std::string::npos; }, limit);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    process.signal(SIGKILL);
    process.wait(10s);
    fs::remove(serial.string() + ".stderr");
    if (!seen) {
        return std::nullopt;
    }
    return seconds;
}

}  // namespace

int main(int argc, char** argv)
{
    int runs = 10;
    if (argc > 1) {
        runs = std::max(1, std::atoi(argv[1]));
    }
    const fs::path dir = fs::temp_directory_path() / ("vmm-bench-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    nlohmann::json notes = nlohmann::json::array();

    std::vector<double> first_instruction, first_frame, overhead;
    for (int run = 0; run < runs; ++run) {
        const fs::path socket_path = dir / "control.sock";
        const std::int64_t t0 = monotonic_ns();
        ChildProcess vmm({VDI_VMM, "--kernel", VDI_DEMO_GUEST, "--memory", "64", "--serial", "/dev/null", "--control",
                          socket_path.string()});
        nlohmann::json status;
        const bool ready = wait_until([&] {
            const auto s = control(socket_path, R"({"cmd":"status"})");
            if (s && (*s)["agent_ready"].get<int>() >= 1) {
                status = *s;
                return true;
            }
            return false;
        }, 120s);
        if (!ready) {
            std::cerr << "vmm_bench: the demo guest did not become ready within 120 s\n";
            return 1;
        }
        const auto& timings = status["timings"];
        first_instruction.push_back(double(timings["first_exit_monotonic_ns"].get<std::int64_t>() - t0) / 1e6);
        first_frame.push_back(double(timings["first_ready_monotonic_ns"].get<std::int64_t>() - t0) / 1e6);
        std::vector<std::pair<std::uintptr_t, std::uint64_t>> guest;
        for (const auto& r : status["memory_regions"]) {
            guest.emplace_back(r["host_address"].get<std::uintptr_t>(), r["size"].get<std::uint64_t>());
        }
        overhead.push_back(bench::process_memory(vmm.pid(), guest).rss_outside_guest_kib / 1024.0);
        control(socket_path, R"({"cmd":"stop"})");
        vmm.wait(30s);
        std::printf("run %2d: first instruction %7.2f ms, desktop ready %8.1f ms, VMM overhead %5.2f MiB\n", run + 1,
                    first_instruction.back(), first_frame.back(), overhead.back());
    }

    nlohmann::json linux_first_line = nullptr, qemu_first_line = nullptr, ratio = nullptr;
    const std::string kernel = vdi::test::find_cloud_kernel();
    if (kernel.empty()) {
        notes.push_back("no /boot/vmlinuz-*-cloud-amd64 (install linux-image-cloud-amd64): Linux figures skipped");
    } else {
        const auto ours = time_to_marker({VDI_VMM, "--kernel", kernel, "--memory", "256", "--serial",
                                          (dir / "linux.serial").string(), "--cmdline", linux_cmdline},
                                         dir / "linux.serial", "Linux version", 120s);
        if (ours) {
            linux_first_line = *ours;
            std::printf("vdi-vmm: Linux printed its first line after %.2f s\n", *ours);
        } else {
            notes.push_back("vdi-vmm did not print 'Linux version' within 120 s");
        }
        const char* qemu = "/usr/bin/qemu-system-x86_64";
        if (!fs::exists(qemu)) {
            notes.push_back("qemu-system-x86_64 is not installed (package qemu-system-x86)");
        } else {
            const auto theirs = time_to_marker(
                {qemu, "-enable-kvm", "-cpu", "host,-arch-capabilities", "-m", "256", "-nographic", "-nodefaults",
                 "-no-reboot", "-serial", "file:" + (dir / "qemu.serial").string(), "-kernel", kernel, "-append",
                 linux_cmdline},
                dir / "qemu.serial", "Linux version", 120s);
            if (theirs) {
                qemu_first_line = *theirs;
                std::printf("QEMU:    Linux printed its first line after %.2f s\n", *theirs);
                if (ours) {
                    ratio = *theirs / *ours;
                }
            } else {
                notes.push_back("QEMU (SeaBIOS, in-guest decompression) did not reach 'Linux version' within 120 s");
            }
        }
    }
    fs::remove_all(dir);

    nlohmann::json result = {{"runs", runs},
                             {"first_instruction_ms", median(first_instruction)},
                             {"first_frame_ms", median(first_frame)},
                             {"vmm_overhead_mib", median(overhead)},
                             {"linux_first_line_s", linux_first_line},
                             {"qemu_linux_first_line_s", qemu_first_line},
                             {"qemu_over_vdi_first_line_ratio", ratio},
                             {"notes", notes}};
    std::printf("medians: first instruction %.2f ms, desktop ready %.1f ms, VMM overhead %.2f MiB\n",
                median(first_instruction), median(first_frame), median(overhead));
    std::cout << "RESULT " << result.dump() << std::endl;
    return 0;
}
