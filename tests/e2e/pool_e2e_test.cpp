// The pool manager with real host agents and VMM clones of the demo image: sizing converges,
// assignments are topped up, and when a host agent dies its desktops come back on the other
// host within the heartbeat timeout.
#include <atomic>
#include <csignal>
#include <thread>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "e2e_backend.h"
#include "vdi/common/db/database.h"
#include "vdi/common/db/desktop_repository.h"
#include "vdi/common/db/host_repository.h"
#include "vdi/common/db/image_repository.h"
#include "vdi/test/fixtures.h"
#include "vdi/test/process.h"
#include "vdi/test/test_database.h"

using namespace std::chrono_literals;
using namespace vdi::db;
namespace fs = std::filesystem;

using e2e::kill_recorded_vmms;

TEST_CASE("pool manager with two real host agents: min_ready reached, topped up, a dead agent's desktops replaced",
          "[kvm][hostd][pool]")
{
    vdi::test::TestDatabase db;
    const fs::path dir = fs::temp_directory_path() / ("vdi-pool-e2e-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::vector<std::unique_ptr<vdi::test::ChildProcess>> processes;
    struct Cleanup {
        fs::path dir;
        std::vector<std::unique_ptr<vdi::test::ChildProcess>>& processes;
        ~Cleanup()
        {
            for (auto& p : processes) if (p) p->signal(SIGKILL);
            kill_recorded_vmms(dir / "state-a");
            kill_recorded_vmms(dir / "state-b");
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    } cleanup{dir, processes};

    const fs::path image_dir = dir / "image";
    REQUIRE(vdi::test::run_process({VDI_VMM, "--kernel", VDI_DEMO_GUEST, "--memory", "64", "--serial", "/dev/null",
                                    "--golden-out", image_dir.string()},
                                   "", 120s)
                .exit_code == 0);
    const auto agent = [&](const std::string& name) {
        return std::make_unique<vdi::test::ChildProcess>(
            std::vector<std::string>{VDI_HOSTD, "--dsn", db.dsn(), "--name", name, "--state-dir",
                                     (dir / ("state-" + name.substr(name.size() - 1))).string(), "--vmm", VDI_VMM,
                                     "--heartbeat-ms", "300", "--resync-ms", "1000", "--vcpus", "16"},
            (dir / (name + ".log")).string());
    };
    processes.push_back(agent("host-a"));
    processes.push_back(agent("host-b"));
    auto& c = db.connection();
    const auto tx = [&](auto fn) { return in_transaction(c, "test step", fn, 1); };
    REQUIRE(vdi::test::wait_until([&] { return tx([](pqxx::work& t) { return HostRepository(t).list().size(); }) == 2; }, 30s));

    const auto pool = tx([&](pqxx::work& t) {
        auto p = vdi::test::make_pool(t, vdi::test::register_image_dir(t, image_dir.string()).id, "demo");
        PoolRepository(t).set_sizing(p.id, 5, 12);
        return p;
    });
    {
        std::ofstream(dir / "pm.toml") << "[database]\ndsn = \"" << db.dsn() << "\"\n[pool_manager]\nname = \"pm-e2e\"\n"
                                        << "interval_ms = 200\nheartbeat_timeout_s = 3\ntrim_grace_s = 600\n";
    }
    processes.push_back(std::make_unique<vdi::test::ChildProcess>(
        std::vector<std::string>{VDI_POOL_MANAGER, "--config", (dir / "pm.toml").string()}, (dir / "pm.log").string()));
    const auto ready = [&] { return tx([&](pqxx::work& t) { return DesktopRepository(t).counts(pool.id).ready; }); };
    INFO(vdi::test::read_text_file((dir / "pm.log").string()).substr(0, 3000));
    const auto started = std::chrono::steady_clock::now();
    REQUIRE(vdi::test::wait_until([&] { return ready() == 5; }, 120s));
    WARN("5 ready desktops from nothing in "
         << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() << " s");
    // both hosts used (least loaded first)
    CHECK(tx([&](pqxx::work& t) { return t.exec1("SELECT count(DISTINCT host_id) FROM desktops")[0].as<int>(); }) == 2);

    // two users take desktops: the pool tops up to 5 spares again
    tx([&](pqxx::work& t) {
        for (const char* name : {"ann", "ben"}) {
            REQUIRE(DesktopRepository(t).claim_floating(pool.id, vdi::test::make_user(t, name).id));
        }
    });
    CHECK(vdi::test::wait_until([&] { return ready() == 5; }, 60s));
    CHECK(tx([&](pqxx::work& t) { return DesktopRepository(t).counts(pool.id).total; }) == 7);

    // host-a's agent dies: after the 3 s heartbeat timeout its desktops are lost and replaced on host-b
    processes[0]->signal(SIGKILL);
    processes[0]->wait(10s);
    const auto killed = std::chrono::steady_clock::now();
    REQUIRE(vdi::test::wait_until(
        [&] {
            return tx([&](pqxx::work& t) {
                return t.exec1("SELECT count(*) FROM desktops d JOIN hosts h ON h.id = d.host_id WHERE h.name = 'host-b' "
                               "AND d.desired_state = 'running' AND d.assigned_user_id IS NULL AND d.actual_state = 'running' "
                               "AND d.ready_generation = d.generation")[0]
                    .as<int>();
            }) >= 5;
        },
        60s));
    const double recovery = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
    WARN("back to 5 ready desktops on host-b " << recovery << " s after host-a's agent died (heartbeat timeout 3 s)");
    CHECK(recovery < 30);
    CHECK(tx([&](pqxx::work& t) { return t.exec1("SELECT state FROM hosts WHERE name = 'host-a'")[0].as<std::string>(); }) == "lost");
    CHECK(tx([&](pqxx::work& t) { return t.exec1("SELECT count(*) FROM audit_log WHERE action = 'host.lost'")[0].as<int>(); }) == 1);
}

TEST_CASE("pool manager and broker: a burst of 100 connects grows the pool to max_size and no further",
          "[kvm][hostd][pool][broker]")
{
    e2e::Backend backend(1, {});
    auto& c = backend.db.connection();
    const auto tx = [&](auto fn) { return in_transaction(c, "test step", fn, 1); };
    tx([&](pqxx::work& t) {
        PoolRepository(t).set_sizing(backend.pool.id, 1, 6);
        vdi::test::make_storm_users(t, backend.pool, 100);
    });
    {
        std::ofstream(backend.dir / "pm.toml") << "[database]\ndsn = \"" << backend.db.dsn()
                                                << "\"\n[pool_manager]\nname = \"pm-burst\"\ninterval_ms = 200\n";
    }
    vdi::test::ChildProcess manager({VDI_POOL_MANAGER, "--config", (backend.dir / "pm.toml").string()},
                                    (backend.dir / "pm.log").string());
    vdi::test::BrokerProcess broker(backend.db.dsn(), "burst");
    std::atomic<bool> done{false};
    int most = 0;
    std::thread watch([&] {
        pqxx::connection watcher(backend.db.dsn());
        while (!done) {
            pqxx::work t(watcher);
            most = std::max(most, t.exec1("SELECT count(*) FROM desktops WHERE desired_state = 'running'")[0].as<int>());
            t.commit();
            std::this_thread::sleep_for(20ms);  // the sampling period of this watcher, not a wait for something
        }
    });
    // 100 users connect at once (16 at a time), retrying while the answer is "none ready"
    const auto storm = vdi::test::run_logon_storm({broker.port()}, broker.certificate(), "demo", 100, 16);
    const auto grown = vdi::test::wait_until(
        [&] { return tx([&](pqxx::work& t) { return DesktopRepository(t).counts(backend.pool.id).total; }) == 6; }, 60s);
    // and it stays there: a negative check, so it needs time; 5 of the pool manager's 200 ms passes
    // (the shortest span in which a manager that overshot would have started a seventh desktop)
    std::this_thread::sleep_for(1s);
    done = true;
    watch.join();
    INFO(vdi::test::read_text_file((backend.dir / "pm.log").string()).substr(0, 2000));
    CHECK(grown);
    CHECK(most <= 6);  // never past max_size, at any moment watched
    CHECK(storm.succeeded >= 1);
    CHECK(storm.succeeded + storm.failed == 100);  // the rest were told "none ready" (503), not hung
    for (const auto& failure : storm.failures) {
        CHECK_THAT(failure, Catch::Contains("503") && Catch::Contains("no_desktop_ready"));
    }
}
