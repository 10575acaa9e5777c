// vdi-connect driven through a pseudo-terminal against the real broker: the password prompt does
// not echo, a wrong password is said plainly, --json prints the connection, and the VNC viewer
// gets a private password file (a fake vncviewer on PATH records what it saw).
#include <catch2/catch.hpp>

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <rfb/rfb.h>

#include "broker_harness.h"
#include "vdi/common/db/database.h"
#include "vdi/test/fixtures.h"
#include "vdi/test/test_database.h"
#include "vnc_password_file.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

struct Run {
    std::string output;
    int exit_code = -1;
};

// Runs vdi-connect on a pty; each time the output ends with a prompt ("...: "), types the next line.
Run run_on_pty(const std::vector<std::string>& args, const std::vector<std::string>& lines, const std::string& path_env,
               const fs::path& home)
{
    int master = -1;
    const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::setenv("XDG_CONFIG_HOME", home.c_str(), 1);
        ::setenv("PATH", path_env.c_str(), 1);
        std::vector<char*> argv;
        std::string program = VDI_CONNECT;
        argv.push_back(program.data());
        std::vector<std::string> copy = args;
        for (auto& a : copy) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(program.c_str(), argv.data());
        ::_exit(127);
    }
    Run run;
    std::size_t next = 0;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    char buffer[4096];
    for (;;) {
        pollfd ready{master, POLLIN, 0};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (::poll(&ready, 1, static_cast<int>(std::max<long long>(left.count(), 0))) == 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            ::close(master);
            FAIL("vdi-connect gave no output for 60 s; it printed: " << run.output);
        }
        const ssize_t n = ::read(master, buffer, sizeof buffer);
        if (n <= 0) break;  // EIO once the child has exited
        run.output.append(buffer, static_cast<std::size_t>(n));
        if (next < lines.size() && run.output.size() >= 2 && run.output.compare(run.output.size() - 2, 2, ": ") == 0) {
            const std::string line = lines[next++] + "\n";
            REQUIRE(::write(master, line.data(), line.size()) == static_cast<ssize_t>(line.size()));
        }
        REQUIRE(std::chrono::steady_clock::now() < deadline);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(master);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
}

struct World {
    vdi::test::TestDatabase db;
    vdi::db::Host host;
    std::unique_ptr<vdi::test::BrokerProcess> broker;
    std::unique_ptr<vdi::test::TicketAcker> acker;
    fs::path dir = fs::temp_directory_path() / ("vdi-connect-test-" + std::to_string(::getpid()));

    World()
    {
        vdi::db::in_transaction(db.connection(), "seed", [&](pqxx::work& tx) {
            const auto image = vdi::test::make_image(tx);
            const auto pool = vdi::test::make_pool(tx, image.id, "office");
            host = vdi::test::make_host(tx);
            vdi::test::make_ready_desktops(tx, pool, host, 2);
            const auto alice = vdi::test::make_user_with_password(tx, "alice", "alice-secret");
            vdi::db::PoolRepository(tx).entitle_user(pool.id, alice.id);
        });
        broker = std::make_unique<vdi::test::BrokerProcess>(db.dsn(), "connect");
        acker = std::make_unique<vdi::test::TicketAcker>(db.dsn(), host.id);
        fs::remove_all(dir);
        fs::create_directories(dir / "bin");
        fs::create_directories(dir / "home");
    }
    ~World() { fs::remove_all(dir); }
    std::vector<std::string> trust_args() const
    {
        return {"--broker", "127.0.0.1:" + std::to_string(broker->port()), "--ca-file", broker->certificate().string()};
    }
};

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

}  // namespace

TEST_CASE("vdi-connect: a wrong password is said plainly and the password is not echoed", "[thin-client][postgres]")
{
    World world;
    const auto run = run_on_pty(world.trust_args(), {"alice", "not-the-password"}, "/usr/bin:/bin", world.dir / "home");
    CHECK(run.exit_code == 3);
    CHECK(run.output.find("User name: ") != std::string::npos);
    CHECK(run.output.find("The user name or password is wrong.") != std::string::npos);
    CHECK(run.output.find("not-the-password") == std::string::npos);
}

TEST_CASE("vdi-connect: --json prints the connection", "[thin-client][postgres]")
{
    World world;
    const auto run =
        run_on_pty(world.trust_args() + std::vector<std::string>{"--json", "--user", "alice"}, {"alice-secret"},
                   "/usr/bin:/bin", world.dir / "home");
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    const auto start = run.output.find('{');
    REQUIRE(start != std::string::npos);
    const auto json = nlohmann::json::parse(run.output.substr(start, run.output.rfind('}') - start + 1));
    CHECK(json["pool"] == "office");
    CHECK(json["protocol"] == "vnc");
    CHECK(json["ticket"].get<std::string>().size() == 8);
    CHECK(run.output.find("alice-secret") == std::string::npos);
}

TEST_CASE("vdi-connect: the VNC viewer gets HOST::PORT and a private password file removed afterwards",
          "[thin-client][postgres]")
{
    World world;
    const fs::path record = world.dir / "viewer-record";
    {
        std::ofstream script(world.dir / "bin" / "vncviewer");
        script << "#!/bin/sh\n"
                  "echo \"args: $*\" > " << record.string() << "\n"
                  "file=$2\n"
                  "stat -c 'file-mode: %a' \"$file\" >> " << record.string() << "\n"
                  "stat -c 'dir-mode: %a' \"$(dirname \"$file\")\" >> " << record.string() << "\n"
                  "cp \"$file\" " << (world.dir / "passwd-copy").string() << "\n"
                  "echo \"file: $file\" >> " << record.string() << "\n";
    }
    fs::permissions(world.dir / "bin" / "vncviewer", fs::perms::owner_all);
    const auto run = run_on_pty(world.trust_args() + std::vector<std::string>{"--user", "alice"}, {"alice-secret"},
                                (world.dir / "bin").string() + ":/usr/bin:/bin", world.dir / "home");
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    const std::string recorded = vdi::test::read_text_file(record.string());
    INFO(recorded);
    CHECK(recorded.find("args: -passwd ") == 0);
    CHECK(recorded.find(" 127.0.0.1::5900") != std::string::npos);  // the first desktop's VNC port
    CHECK(recorded.find("file-mode: 600") != std::string::npos);
    CHECK(recorded.find("dir-mode: 700") != std::string::npos);
    const auto file_line = recorded.substr(recorded.find("file: ") + 6);
    CHECK_FALSE(fs::exists(fs::path(file_line.substr(0, file_line.find('\n'))).parent_path()));

    // the file holds the ticket that the stand-in host agent received, as libvncserver reads it
    const auto tickets = world.acker->received();
    REQUIRE(tickets.size() == 1);
    std::string copy = (world.dir / "passwd-copy").string();
    char* decoded = rfbDecryptPasswdFromFile(copy.data());
    REQUIRE(decoded != nullptr);
    CHECK(std::string(decoded) == tickets[0]);
    std::free(decoded);
}

TEST_CASE("vnc password file: what libvncserver stores for the same password", "[thin-client]")
{
    const fs::path file = fs::temp_directory_path() / ("vdi-vncpasswd-" + std::to_string(::getpid()));
    std::string password = "q3Z-8xYb";
    std::string name = file.string();
    REQUIRE(rfbEncryptAndStorePasswd(password.data(), name.data()) == 0);
    const std::string stored = vdi::test::read_text_file(name);
    fs::remove(file);
    const QByteArray ours = vdi::thin_client::vnc_obfuscated_password(QByteArray::fromStdString(password));
    CHECK(stored == ours.toStdString());
}
