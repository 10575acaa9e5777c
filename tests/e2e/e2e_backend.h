// The real backend for end-to-end tests: a throwaway database, the demo golden image, a
// vdi-hostd running VMM clones on KVM, and a pool of desktops on it for users with passwords:
// made here directly, or kept by the real pool manager (start_pool_manager).
// Everything started is stopped (VMMs included: they outlive their agent by design).
#pragma once

#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "broker_harness.h"
#include "vdi/common/db/database.h"
#include "vdi/common/db/desktop_repository.h"
#include "vdi/common/db/host_repository.h"
#include "vdi/common/db/image_repository.h"
#include "vdi/test/fixtures.h"
#include "vdi/test/process.h"
#include "vdi/test/test_database.h"

namespace e2e {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Kills every VMM a host agent's state directory records (they outlive their agent by design).
inline void kill_recorded_vmms(const fs::path& state_dir)
{
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(state_dir, ec)) {
        if (entry.path().extension() != ".json") continue;
        const auto record = nlohmann::json::parse(vdi::test::read_text_file(entry.path()), nullptr, false);
        if (record.is_object() && record.contains("pid")) ::kill(record["pid"].get<int>(), SIGKILL);
    }
}

struct Backend {
    vdi::test::TestDatabase db;
    fs::path dir = fs::temp_directory_path() / ("vdi-e2e-" + std::to_string(::getpid()));
    fs::path state_dir = dir / "state";
    fs::path image_dir = dir / "image";
    std::unique_ptr<vdi::test::ChildProcess> agent;
    std::unique_ptr<vdi::test::ChildProcess> manager;
    vdi::db::Host host;
    vdi::db::Pool pool;

    template <typename Fn>
    auto tx(Fn fn)
    {
        return vdi::db::in_transaction(db.connection(), "e2e step", fn, 1);
    }

    int ready()
    {
        return tx([&](pqxx::work& t) { return vdi::db::DesktopRepository(t).counts(pool.id).ready; });
    }

    // `desktops` desktops in pool "demo" on the agent's host, each user entitled (password
    // "<name>-secret"). Returns once every desktop is ready.
    Backend(int desktops, const std::vector<std::string>& users, const std::vector<std::string>& agent_args = {})
    {
        fs::create_directories(state_dir);
        REQUIRE(vdi::test::run_process({VDI_VMM, "--kernel", VDI_DEMO_GUEST, "--memory", "64", "--serial",
                                        "/dev/null", "--golden-out", image_dir.string()},
                                       "", 120s)
                    .exit_code == 0);
        const std::string host_name = "e2e-" + std::to_string(::getpid());
        std::vector<std::string> argv{VDI_HOSTD, "--dsn", db.dsn(), "--name", host_name, "--address", "127.0.0.1",
                                      "--state-dir", state_dir.string(), "--vmm", VDI_VMM, "--heartbeat-ms", "500",
                                      "--resync-ms", "1000"};
        argv.insert(argv.end(), agent_args.begin(), agent_args.end());
        agent = std::make_unique<vdi::test::ChildProcess>(argv, (dir / "hostd.log").string());
        std::optional<vdi::db::Host> found;
        REQUIRE(vdi::test::wait_until(
            [&] { return (found = tx([&](pqxx::work& t) { return vdi::db::HostRepository(t).find_by_name(host_name); }))
                      .has_value(); },
            30s));
        host = *found;
        pool = tx([&](pqxx::work& t) {
            const auto created = vdi::test::register_image_dir(t, image_dir.string());
            const auto p = vdi::test::make_pool(t, created.id, "demo");
            for (int i = 1; i <= desktops; ++i) {
                vdi::db::DesktopRepository(t).create({p.id, "demo-" + std::to_string(i), created.id, host.id});
            }
            for (const auto& name : users) {
                const auto user = vdi::test::make_user_with_password(t, name, name + "-secret");
                vdi::db::PoolRepository(t).entitle_user(p.id, user.id);
            }
            return p;
        });
        INFO(vdi::test::read_text_file((dir / "hostd.log").string()).substr(0, 3000));
        REQUIRE(vdi::test::wait_until([&] { return ready() == desktops; }, 120s));
    }

#ifdef VDI_POOL_MANAGER
    // The real pool manager keeps pool "demo" between `min_ready` ready desktops and `max_size`
    // (naming the desktops it makes, replacing those logged off); returns once min_ready are ready.
    void start_pool_manager(int min_ready, int max_size)
    {
        tx([&](pqxx::work& t) { vdi::db::PoolRepository(t).set_sizing(pool.id, min_ready, max_size); });
        std::ofstream(dir / "pm.toml") << "[database]\ndsn = \"" << db.dsn()
                                       << "\"\n[pool_manager]\nname = \"pm-e2e\"\ninterval_ms = 200\n";
        manager = std::make_unique<vdi::test::ChildProcess>(
            std::vector<std::string>{VDI_POOL_MANAGER, "--config", (dir / "pm.toml").string()}, (dir / "pm.log").string());
        INFO(vdi::test::read_text_file((dir / "pm.log").string()).substr(0, 3000));
        REQUIRE(vdi::test::wait_until([&] { return ready() >= min_ready; }, 120s));
    }
#endif

    ~Backend()
    {
        manager.reset();  // first: it would replace the desktops going away
        if (agent) agent->signal(SIGKILL, true);
        kill_recorded_vmms(state_dir);
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    std::string login(vdi::test::HttpsClient& client, const std::string& user)
    {
        const auto r = client.post("/api/v1/login", {{"user", user}, {"password", user + "-secret"}});
        REQUIRE(r.status == 200);
        return r.json()["token"];
    }
};

}  // namespace e2e
