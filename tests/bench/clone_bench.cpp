// clone_bench: instant clones of the demo golden image, and QEMU restoring the same guest size.
//
//   restore_p50_ms / restore_p99_ms   vdi-vmm process spawned with --restore -> its vCPUs run
//   first_frame_p50_ms                in-process restore -> the clone's whole framebuffer read
//   inprocess_restore_p50_ms          Machine(snapshot) constructed and started, no process spawn
//   clones_per_s                      sustained: clone processes started, running and torn down
//                                     per second, two lanes (two cores)
//   private_mib_per_clone             50 clones idle 10 s: private (unshared) memory per clone,
//   guest_private_mib_per_clone         split into what the guest wrote ...
//   vmm_private_mib_per_clone           ... and the VMM's own
//   summed_pss_mib                    proportional set size of the 50 clones together
//   restore_with_displays_p50_ms      the same spawn with --vnc and --rdp (display modules loaded)
//   private_mib_with_displays         one such clone idle, private memory
//   qemu_restore_p50_ms               qemu-system-x86_64 -incoming "exec:cat FILE" -> QMP "running"
//   qemu_private_mib                  a restored QEMU instance idle, private memory
//   qemu_ratio                        qemu_restore_p50_ms / restore_p50_ms
// Ends with: RESULT {json}
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "bench_support.h"
#include "vdi/common/unique_fd.h"
#include "vdi/hv/kvm/kvm_hypervisor.h"
#include "vdi/hv/machine.h"
#include "vdi/test/process.h"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

extern char** environ;

namespace {

double ms_since(Clock::time_point t0, Clock::time_point t1)
{
    return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

// A vdi-vmm clone process started with --notify-fd; wait_running() blocks on the pipe.
struct CloneProcess {
    pid_t pid = -1;
    vdi::UniqueFd notify;  // the read end of the VMM's readiness pipe
    fs::path socket;

    CloneProcess(const fs::path& image, const fs::path& socket_path, const std::string& identity,
                 const std::vector<std::string>& extra = {})
        : socket(socket_path)
    {
        int fds[2];
        if (::pipe(fds) != 0) {
            throw std::runtime_error("pipe failed");
        }
        vdi::UniqueFd read_end(fds[0]);
        const vdi::UniqueFd write_end(fds[1]);  // the VMM inherits it; ours closes once it is spawned
        std::vector<std::string> args = {VDI_VMM, "--restore", image.string(), "--serial", "/dev/null",
                                         "--notify-fd", std::to_string(fds[1])};
        if (!socket.empty()) {
            args.insert(args.end(), {"--control", socket.string()});
        }
        if (!identity.empty()) {
            args.insert(args.end(), {"--identity", identity});
        }
        args.insert(args.end(), extra.begin(), extra.end());
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addclose(&actions, fds[0]);
        if (posix_spawn(&pid, VDI_VMM, &actions, nullptr, argv.data(), environ) != 0) {
            throw std::runtime_error("posix_spawn of vdi-vmm failed");
        }
        posix_spawn_file_actions_destroy(&actions);
        notify = std::move(read_end);
    }
    bool wait_running()
    {
        char buffer[16];
        const ssize_t n = ::read(notify.get(), buffer, sizeof buffer);
        notify.reset();
        return n > 0;
    }
    void stop()
    {
        ::kill(pid, SIGTERM);
        int status = 0;
        ::waitpid(pid, &status, 0);
        pid = -1;
    }
    ~CloneProcess()
    {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            int status = 0;
            ::waitpid(pid, &status, 0);
        }
    }
};

// QMP: one command, returning the "return" (or "error") object; skips events and the greeting.
std::optional<nlohmann::json> qmp(int fd, const std::string& command)
{
    const std::string line = command + "\n";
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return std::nullopt;
    std::string buffer;
    char chunk[4096];
    for (;;) {
        std::size_t newline;
        while ((newline = buffer.find('\n')) != std::string::npos) {
            auto message = nlohmann::json::parse(buffer.substr(0, newline), nullptr, false);
            buffer.erase(0, newline + 1);
            if (message.is_object() && (message.contains("return") || message.contains("error"))) return message;
        }
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) return std::nullopt;
        buffer.append(chunk, static_cast<std::size_t>(n));
    }
}

// A QMP connection past the capabilities handshake; empty if QEMU does not answer (yet).
vdi::UniqueFd qmp_connect(const fs::path& path)
{
    vdi::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, path.c_str());
    if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        return {};
    }
    char greeting[4096];
    if (::read(fd.get(), greeting, sizeof greeting) <= 0 || !qmp(fd.get(), R"({"execute":"qmp_capabilities"})")) {
        return {};
    }
    return fd;
}

const std::vector<std::string> qemu_base = {"/usr/bin/qemu-system-x86_64", "-enable-kvm", "-cpu",
                                            "host,-arch-capabilities", "-m", "64", "-nographic", "-nodefaults",
                                            "-no-user-config"};

}  // namespace

int main(int argc, char** argv)
{
    const int clones = argc > 1 ? std::max(10, std::atoi(argv[1])) : 100;
    const fs::path dir = fs::temp_directory_path() / ("clone-bench-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const fs::path image = dir / "golden";
    nlohmann::json notes = nlohmann::json::array();

    auto golden = vdi::test::run_process({VDI_VMM, "--kernel", VDI_DEMO_GUEST, "--memory", "64", "--serial",
                                          "/dev/null", "--golden-out", image.string()},
                                         "", 300s);
    if (golden.exit_code != 0) {
        std::cerr << "clone_bench: could not build the golden image: " << golden.output;
        return 1;
    }
    struct stat memory_stat {};
    ::stat((image / "memory").c_str(), &memory_stat);
    std::printf("golden image: memory file %.1f MiB apparent, %.1f MiB on disk; state file %.1f KiB\n",
                double(memory_stat.st_size) / 1048576.0, double(memory_stat.st_blocks) * 512.0 / 1048576.0,
                double(fs::file_size(image / "state")) / 1024.0);

    // 1. in-process restores (the library cost, no process spawn)
    std::vector<double> inprocess, first_frame;
    {
        vdi::hv::KvmHypervisor hv;
        for (int i = 0; i < clones; ++i) {
            const auto t0 = Clock::now();
            vdi::hv::Machine clone(hv, image, nullptr);
            clone.start();
            const auto running = *clone.start_time();
            const auto& fb = clone.framebuffer();
            std::uint64_t sum = 0;
            for (std::uint64_t off = 0; off < fb.size(); off += 64) sum += fb.pixels()[off];
            const auto frame = Clock::now();
            inprocess.push_back(ms_since(t0, running));
            first_frame.push_back(ms_since(t0, frame) + (sum == 42 ? 0 : 0));
            clone.request_stop("bench");
            clone.wait(10s);
        }
    }
    std::printf("in-process restore to vCPUs running: p50 %.2f ms, p99 %.2f ms; whole first frame read: p50 %.2f ms\n",
                bench::percentile(inprocess, 50), bench::percentile(inprocess, 99), bench::percentile(first_frame, 50));

    // 2. process restores: spawn -> vCPUs running
    std::vector<double> process_restore;
    for (int i = 0; i < clones; ++i) {
        const auto t0 = Clock::now();
        CloneProcess clone(image, "", "");
        if (!clone.wait_running()) {
            std::cerr << "clone_bench: a clone failed to start\n";
            return 1;
        }
        process_restore.push_back(ms_since(t0, Clock::now()));
        clone.stop();
    }
    std::printf("process spawn to vCPUs running: p50 %.2f ms, p99 %.2f ms\n", bench::percentile(process_restore, 50),
                bench::percentile(process_restore, 99));

    // 2b. the same with both display servers (what a host agent starts): their modules load
    std::vector<double> display_restore;
    const std::vector<std::string> displays = {"--vnc", "127.0.0.1:0", "--rdp", "127.0.0.1:0", "--rdp-cert",
                                               (dir / "host.crt").string(), "--rdp-key", (dir / "host.key").string()};
    double display_private_mib = 0;
    {
        // kept alive together, so the display libraries' pages are shared as on a real host
        std::vector<std::unique_ptr<CloneProcess>> display_fleet;
        for (int i = 0; i < 20; ++i) {
            const auto t0 = Clock::now();
            display_fleet.push_back(std::make_unique<CloneProcess>(
                image, dir / ("display" + std::to_string(i) + ".sock"), "", displays));
            if (!display_fleet.back()->wait_running()) {
                std::cerr << "clone_bench: a clone with displays failed to start\n";
                return 1;
            }
            display_restore.push_back(ms_since(t0, Clock::now()));
        }
        std::this_thread::sleep_for(2s);  // measurement set-up: the fleet settles before it is counted
        int counted = 0;
        for (auto& clone : display_fleet) {
            const auto response = vdi::test::unix_request(clone->socket.string(), R"({"cmd":"status"})");
            if (!response) continue;
            std::vector<std::pair<std::uintptr_t, std::uint64_t>> guest;
            for (const auto& r : nlohmann::json::parse(*response)["memory_regions"]) {
                guest.emplace_back(r["host_address"].get<std::uintptr_t>(), r["size"].get<std::uint64_t>());
            }
            display_private_mib += bench::process_memory(clone->pid, guest).private_kib / 1024.0;
            ++counted;
        }
        display_private_mib /= std::max(counted, 1);
    }
    std::printf("with VNC and RDP servers: spawn to vCPUs running p50 %.2f ms; private memory per idle clone (20 together) %.2f MiB\n",
                bench::percentile(display_restore, 50), display_private_mib);

    // 3. sustained rate: two lanes start, run and tear down clone processes for 10 s
    std::atomic<int> done{0};
    const auto rate_start = Clock::now();
    const auto rate_end = rate_start + 10s;
    std::vector<std::thread> lanes;
    for (int lane = 0; lane < 2; ++lane) {
        lanes.emplace_back([&] {
            while (Clock::now() < rate_end) {
                CloneProcess clone(image, "", "");
                if (clone.wait_running()) ++done;
                clone.stop();
            }
        });
    }
    for (auto& lane : lanes) lane.join();
    const double clones_per_s = done / std::chrono::duration<double>(Clock::now() - rate_start).count();
    std::printf("sustained: %.1f clones/s (started, running, torn down; 2 lanes)\n", clones_per_s);

    // 4. 50 clones idle for 10 s
    constexpr int idle_clones = 50;
    std::vector<std::unique_ptr<CloneProcess>> fleet;
    for (int i = 0; i < idle_clones; ++i) {
        fleet.push_back(std::make_unique<CloneProcess>(image, dir / ("c" + std::to_string(i) + ".sock"),
                                                       R"({"host":"desk-)" + std::to_string(i) + R"(","user":"u)" +
                                                           std::to_string(i) + R"("})"));
        fleet.back()->wait_running();
    }
    std::this_thread::sleep_for(10s);  // the measurement is of clones left idle this long
    double pss = 0, private_total = 0, guest_private = 0;
    int measured = 0;
    for (auto& clone : fleet) {
        const auto response = vdi::test::unix_request(clone->socket.string(), R"({"cmd":"status"})");
        if (!response) continue;
        const auto status = nlohmann::json::parse(*response);
        std::vector<std::pair<std::uintptr_t, std::uint64_t>> guest;
        for (const auto& r : status["memory_regions"]) {
            guest.emplace_back(r["host_address"].get<std::uintptr_t>(), r["size"].get<std::uint64_t>());
        }
        const auto m = bench::process_memory(clone->pid, guest);
        pss += m.pss_kib;
        private_total += m.private_kib;
        guest_private += m.guest_private_kib;
        ++measured;
    }
    fleet.clear();
    const double private_per = private_total / measured / 1024.0;
    const double guest_per = guest_private / measured / 1024.0;
    std::printf("%d idle clones: summed PSS %.1f MiB; private per clone %.2f MiB (guest-written %.2f MiB, VMM %.2f MiB)\n",
                measured, pss / 1024.0, private_per, guest_per, private_per - guest_per);

    // 5. QEMU restoring the same guest size from its own saved state
    nlohmann::json qemu_p50 = nullptr, qemu_private = nullptr, ratio = nullptr;
    if (!fs::exists(qemu_base[0])) {
        notes.push_back("qemu-system-x86_64 is not installed (package qemu-system-x86): QEMU figures skipped");
    } else {
        const fs::path state = dir / "qemu.state";
        const fs::path qmp_socket = dir / "qemu-save.qmp";
        auto args = qemu_base;
        args.insert(args.end(), {"-qmp", "unix:" + qmp_socket.string() + ",server=on,wait=off"});
        vdi::test::ChildProcess saver(args, (dir / "qemu-save.log").string());
        vdi::UniqueFd qmp_fd;
        vdi::test::wait_until([&] { return static_cast<bool>(qmp_fd = qmp_connect(qmp_socket)); }, 30s);
        const int fd = qmp_fd.get();
        bool saved = false;
        if (qmp_fd) {
            // saved running (as a golden desktop is), so that the restored QEMU resumes by itself
            std::this_thread::sleep_for(2s);  // measurement set-up: the guest runs a while before the save
            qmp(fd, R"({"execute":"migrate","arguments":{"uri":"exec:cat > )" + state.string() + R"("}})");
            saved = vdi::test::wait_until([&] {
                const auto info = qmp(fd, R"({"execute":"query-migrate"})");
                return info && (*info)["return"].value("status", "") == "completed";
            }, 60s);
            qmp(fd, R"({"execute":"quit"})");
            qmp_fd.reset();
        }
        saver.wait(10s);
        if (!saved) {
            notes.push_back("QEMU could not save its state; QEMU figures skipped");
        } else {
            std::vector<double> restores;
            double private_kib = 0;
            for (int i = 0; i < 10; ++i) {
                const fs::path sock = dir / ("qemu" + std::to_string(i) + ".qmp");
                auto restore_args = qemu_base;
                restore_args.insert(restore_args.end(), {"-qmp", "unix:" + sock.string() + ",server=on,wait=off",
                                                         "-incoming", "exec:cat " + state.string()});
                const auto t0 = Clock::now();
                vdi::test::ChildProcess qemu(restore_args, (dir / "qemu-restore.log").string());
                vdi::UniqueFd q;
                bool running = false;
                const auto deadline = t0 + 60s;
                while (Clock::now() < deadline && !running) {
                    if (!q) q = qmp_connect(sock);
                    if (q) {
                        const auto status = qmp(q.get(), R"({"execute":"query-status"})");
                        running = status && (*status)["return"].value("status", "") == "running";
                    }
                    if (!running) std::this_thread::sleep_for(500us);  // the poll interval of this deadline loop
                }
                if (running) {
                    restores.push_back(ms_since(t0, Clock::now()));
                    if (i == 0) {
                        std::this_thread::sleep_for(5s);  // measurement window: idle before its memory is read
                        private_kib = bench::process_memory(qemu.pid(), {}).private_kib;
                    }
                }
                if (q) {
                    qmp(q.get(), R"({"execute":"quit"})");
                    q.reset();
                }
                qemu.wait(10s);
            }
            if (restores.empty()) {
                notes.push_back("QEMU never reported running after -incoming");
            } else {
                qemu_p50 = bench::percentile(restores, 50);
                qemu_private = private_kib / 1024.0;
                ratio = bench::percentile(restores, 50) / bench::percentile(process_restore, 50);
                std::printf("QEMU -incoming to running: p50 %.1f ms over %zu runs; private memory %.1f MiB\n",
                            bench::percentile(restores, 50), restores.size(), private_kib / 1024.0);
            }
        }
    }
    fs::remove_all(dir);

    nlohmann::json result = {{"clones", clones},
                             {"restore_p50_ms", bench::percentile(process_restore, 50)},
                             {"restore_p99_ms", bench::percentile(process_restore, 99)},
                             {"inprocess_restore_p50_ms", bench::percentile(inprocess, 50)},
                             {"inprocess_restore_p99_ms", bench::percentile(inprocess, 99)},
                             {"first_frame_p50_ms", bench::percentile(first_frame, 50)},
                             {"clones_per_s", clones_per_s},
                             {"idle_clones", measured},
                             {"summed_pss_mib", pss / 1024.0},
                             {"private_mib_per_clone", private_per},
                             {"guest_private_mib_per_clone", guest_per},
                             {"vmm_private_mib_per_clone", private_per - guest_per},
                             {"restore_with_displays_p50_ms", bench::percentile(display_restore, 50)},
                             {"private_mib_with_displays", display_private_mib},
                             {"qemu_restore_p50_ms", qemu_p50},
                             {"qemu_private_mib", qemu_private},
                             {"qemu_ratio", ratio},
                             {"notes", notes}};
    std::cout << "RESULT " << result.dump() << std::endl;
    return 0;
}
