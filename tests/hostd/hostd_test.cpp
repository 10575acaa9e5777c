// vdi-hostd against a real PostgreSQL and real KVM: desired -> actual for 20 desktops, a killed
// VMM reported and not restarted, refresh and stop, and an agent restart adopting survivors.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>

#include "vdi/common/db/desktop_repository.h"
#include "vdi/common/db/host_repository.h"
#include "vdi/common/db/image_repository.h"
#include "vdi/test/fixtures.h"
#include "vdi/test/process.h"
#include "vdi/test/test_database.h"

using namespace std::chrono_literals;
using namespace vdi::db;
using vdi::test::ChildProcess;
using vdi::test::read_text_file;
using vdi::test::wait_until;
namespace fs = std::filesystem;

namespace {

bool alive(int pid)
{
    return pid > 0 && ::kill(pid, 0) == 0 && fs::exists("/proc/" + std::to_string(pid));
}

// vdi-vmm processes whose command line mentions `needle` (the test's state directory)
std::set<int> vmm_pids(const std::string& needle)
{
    std::set<int> pids;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const auto name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        const auto cmdline = read_text_file(entry.path() / "cmdline");
        const std::string program = cmdline.substr(0, cmdline.find('\0'));
        if (program.size() >= 7 && program.compare(program.size() - 7, 7, "vdi-vmm") == 0 &&
            cmdline.find(needle) != std::string::npos) {
            pids.insert(std::stoi(name));
        }
    }
    return pids;
}

struct Cleanup {
    std::string needle;
    fs::path dir;
    ~Cleanup()
    {
        for (int pid : vmm_pids(needle)) ::kill(pid, SIGKILL);
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

}  // namespace

TEST_CASE("vdi-hostd runs 20 desktops, reports a killed VMM, refreshes, stops, and adopts after a restart",
          "[kvm][hostd]")
{
    vdi::test::TestDatabase db;
    const fs::path dir = fs::temp_directory_path() / ("vdi-hostd-test-" + std::to_string(::getpid()));
    const fs::path state_dir = dir / "state";
    Cleanup cleanup{state_dir.string(), dir};
    const fs::path image_dir = dir / "image";
    const auto golden = vdi::test::run_process({VDI_VMM, "--kernel", VDI_DEMO_GUEST, "--memory", "64", "--serial",
                                                "/dev/null", "--golden-out", image_dir.string()},
                                               "", 120s);
    REQUIRE(golden.exit_code == 0);

    const std::string host_name = "hostd-test-" + std::to_string(::getpid());
    const std::vector<std::string> hostd_args = {VDI_HOSTD, "--dsn", db.dsn(), "--name", host_name, "--state-dir",
                                                 state_dir.string(), "--heartbeat-ms", "300", "--resync-ms", "700",
                                                 "--vmm", VDI_VMM, "--log-level", "info"};
    auto agent = std::make_unique<ChildProcess>(hostd_args, (dir / "hostd.log").string());
    auto& c = db.connection();
    const auto tx = [&](auto fn) { return in_transaction(c, "test step", fn, 1); };
    std::optional<Host> host;
    REQUIRE(wait_until([&] { return (host = tx([&](pqxx::work& t) { return HostRepository(t).find_by_name(host_name); })).has_value(); }, 30s));
    CHECK(host->state == HostState::online);

    constexpr int count = 20;
    const auto pool = tx([&](pqxx::work& t) {
        const auto created = vdi::test::register_image_dir(t, image_dir.string());
        const auto p = vdi::test::make_pool(t, created.id);
        DesktopRepository desktops(t);
        for (int i = 0; i < count; ++i) {
            desktops.create({p.id, "desk-" + std::to_string(i), created.id, host->id});
        }
        return p;
    });
    const auto all_ready = [&] {
        return tx([&](pqxx::work& t) { return DesktopRepository(t).counts(pool.id).ready; });
    };
    INFO(read_text_file((dir / "hostd.log").string()).substr(0, 3000));
    REQUIRE(wait_until([&] { return all_ready() == count; }, 180s));
    auto desktops = tx([&](pqxx::work& t) { return DesktopRepository(t).list_by_pool(pool.id); });
    std::set<int> pids, vnc_ports, rdp_ports;
    for (const auto& d : desktops) {
        REQUIRE(d.vmm_pid);
        CHECK(alive(*d.vmm_pid));
        pids.insert(*d.vmm_pid);
        REQUIRE(d.vnc_port);  // each desktop's display servers, recorded for the broker
        REQUIRE(d.rdp_port);
        vnc_ports.insert(*d.vnc_port);
        rdp_ports.insert(*d.rdp_port);
    }
    CHECK(pids.size() == count);
    CHECK(vnc_ports.size() == count);
    CHECK(rdp_ports.size() == count);
    CHECK(fs::exists(state_dir / "tls" / "host.crt"));  // one certificate per host
    CHECK(vmm_pids(state_dir.string()) == pids);
    // least privilege: the sandbox is on
    const auto status = read_text_file("/proc/" + std::to_string(*desktops[0].vmm_pid) + "/status");
    CHECK_THAT(status, Catch::Contains("Seccomp:\t2") && Catch::Contains("NoNewPrivs:\t1") &&
                           Catch::Contains("CapEff:\t0000000000000000"));

    // kill -9 of one VMM: reported failed with the reason, not restarted at that generation
    const Desktop victim = desktops[3];
    ::kill(*victim.vmm_pid, SIGKILL);
    REQUIRE(wait_until([&] {
        return tx([&](pqxx::work& t) { return DesktopRepository(t).find(victim.id); })->actual_state ==
               DesktopActualState::failed;
    }, 30s));
    auto failed = tx([&](pqxx::work& t) { return DesktopRepository(t).find(victim.id); });
    REQUIRE(failed->error);
    CHECK_THAT(*failed->error, Catch::Contains("signal 9"));
    CHECK_FALSE(wait_until([&] { return vmm_pids(state_dir.string()).size() == count; }, 3s));

    // a refresh (new generation) replaces it
    tx([&](pqxx::work& t) { DesktopRepository(t).bump_generation(victim.id, victim.generation); });
    REQUIRE(wait_until([&] {
        const auto d = tx([&](pqxx::work& t) { return DesktopRepository(t).find(victim.id); });
        return d->is_ready() && d->generation == victim.generation + 1;
    }, 60s));
    const auto refreshed = tx([&](pqxx::work& t) { return DesktopRepository(t).find(victim.id); });
    CHECK(*refreshed->vmm_pid != *victim.vmm_pid);
    CHECK_FALSE(refreshed->error);

    // desired stopped: its VMM goes away
    const Desktop stopped = desktops[5];
    tx([&](pqxx::work& t) { DesktopRepository(t).set_desired_state(stopped.id, DesktopDesiredState::stopped); });
    REQUIRE(wait_until([&] {
        return tx([&](pqxx::work& t) { return DesktopRepository(t).find(stopped.id); })->actual_state ==
               DesktopActualState::stopped;
    }, 30s));
    CHECK(wait_until([&] { return !alive(*stopped.vmm_pid); }, 10s));

    // the agent restarts: the 19 running VMMs are adopted, none lost, none duplicated
    const auto before = vmm_pids(state_dir.string());
    CHECK(before.size() == count - 1);
    agent->signal(SIGTERM);
    REQUIRE(agent->wait(30s) == 0);
    CHECK(vmm_pids(state_dir.string()) == before);  // VMMs outlive the agent
    agent = std::make_unique<ChildProcess>(hostd_args, (dir / "hostd2.log").string());
    REQUIRE(wait_until([&] { return read_text_file((dir / "hostd2.log").string()).find("adopted") != std::string::npos; }, 30s));
    CHECK_FALSE(wait_until([&] { return vmm_pids(state_dir.string()) != before; }, 4s));
    CHECK(all_ready() == count - 1);
    const auto adopted = read_text_file((dir / "hostd2.log").string());
    std::size_t adoptions = 0;
    for (std::size_t at = adopted.find("adopted running VMM"); at != std::string::npos;
         at = adopted.find("adopted running VMM", at + 1)) {
        ++adoptions;
    }
    CHECK(adoptions == count - 1);

    // heartbeats keep coming
    const auto beat = tx([&](pqxx::work& t) { return HostRepository(t).find(host->id)->last_heartbeat_at; });
    CHECK(wait_until([&] {
        return tx([&](pqxx::work& t) { return HostRepository(t).find(host->id)->last_heartbeat_at; }) > beat;
    }, 10s));

    // tear down through the agent: everything desired stopped
    tx([&](pqxx::work& t) { t.exec_params("UPDATE desktops SET desired_state = 'stopped' WHERE pool_id = $1", pool.id); });
    CHECK(wait_until([&] { return vmm_pids(state_dir.string()).empty(); }, 60s));
    agent->signal(SIGTERM);
    CHECK(agent->wait(30s) == 0);
}

TEST_CASE("vdi-hostd survives a PostgreSQL restart: it reconnects, heartbeats and reconciles again",
          "[kvm][hostd][postgres-restart]")
{
    // a private cluster: restarting the shared one would disturb the other tests
    const fs::path dir = fs::temp_directory_path() / ("vdi-hostd-pgr-" + std::to_string(::getpid()));
    const fs::path pg_root = dir / "pg";
    const fs::path state_dir = dir / "state";
    Cleanup cleanup{state_dir.string(), dir};
    struct ClusterGuard {
        fs::path root;
        ~ClusterGuard() { vdi::test::run_process({PG_CLUSTER, "destroy", root.string()}); }
    } guard{pg_root};
    const auto started = vdi::test::run_process({PG_CLUSTER, "start", pg_root.string(), "--throwaway"}, "", 120s);
    REQUIRE(started.exit_code == 0);
    std::string clean_dsn = read_text_file((pg_root / "db.dsn").string());
    clean_dsn = clean_dsn.substr(0, clean_dsn.find('\n'));
    REQUIRE(vdi::test::run_process({VDICTL_FOR_TESTS, "--dsn", clean_dsn, "migrate"}).exit_code == 0);

    const fs::path image_dir = dir / "image";
    REQUIRE(vdi::test::run_process({VDI_VMM, "--kernel", VDI_DEMO_GUEST, "--memory", "64", "--serial", "/dev/null",
                                    "--golden-out", image_dir.string()},
                                   "", 120s)
                .exit_code == 0);
    const std::string host_name = "pg-restart-" + std::to_string(::getpid());
    ChildProcess agent({VDI_HOSTD, "--dsn", clean_dsn, "--name", host_name, "--state-dir", state_dir.string(),
                        "--heartbeat-ms", "300", "--resync-ms", "500", "--vmm", VDI_VMM},
                       (dir / "hostd.log").string());

    auto connection = connect(clean_dsn, "test");
    const auto tx = [&](auto fn) { return in_transaction(*connection, "test step", fn, 1); };
    std::optional<Host> host;
    REQUIRE(wait_until([&] { return (host = tx([&](pqxx::work& t) { return HostRepository(t).find_by_name(host_name); })).has_value(); }, 30s));
    Id image_id = 0, pool_id = 0;
    tx([&](pqxx::work& t) {
        image_id = vdi::test::register_image_dir(t, image_dir.string()).id;
        pool_id = vdi::test::make_pool(t, image_id).id;
        DesktopRepository(t).create({pool_id, "before", image_id, host->id});
    });
    const auto ready = [&] { return tx([&](pqxx::work& t) { return DesktopRepository(t).counts(pool_id).ready; }); };
    REQUIRE(wait_until([&] { return ready() == 1; }, 60s));

    // restart PostgreSQL under the agent (same port, same data)
    connection.reset();
    REQUIRE(vdi::test::run_process({PG_CLUSTER, "stop", pg_root.string()}, "", 60s).exit_code == 0);
    REQUIRE(vdi::test::run_process({PG_CLUSTER, "start", pg_root.string()}, "", 60s).exit_code == 0);
    REQUIRE(read_text_file((pg_root / "db.dsn").string()).find(clean_dsn) == 0);
    connection = connect(clean_dsn, "test");

    // a desktop placed after the restart is started: the agent reconnected and listens again
    tx([&](pqxx::work& t) { DesktopRepository(t).create({pool_id, "after", image_id, host->id}); });
    INFO(read_text_file((dir / "hostd.log").string()));
    CHECK(wait_until([&] { return ready() == 2; }, 60s));
    CHECK_THAT(read_text_file((dir / "hostd.log").string()), Catch::Contains("reconnected to the database"));
    const auto beat = tx([&](pqxx::work& t) { return HostRepository(t).find(host->id)->last_heartbeat_at; });
    CHECK(wait_until([&] {
        return tx([&](pqxx::work& t) { return HostRepository(t).find(host->id)->last_heartbeat_at; }) > beat;
    }, 10s));

    tx([&](pqxx::work& t) { t.exec_params("UPDATE desktops SET desired_state = 'stopped' WHERE pool_id = $1", pool_id); });
    CHECK(wait_until([&] { return vmm_pids(state_dir.string()).empty(); }, 30s));
    agent.signal(SIGTERM);
    CHECK(agent.wait(30s) == 0);
}
