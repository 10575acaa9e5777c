// Two processes with eight connections each race to claim 50 desktops for 400 users: every
// desktop goes to at most one user, every success is recorded, nothing deadlocks or hangs.
#include <map>
#include <thread>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "vdi/common/db/desktop_repository.h"
#include "vdi/test/fixtures.h"
#include "vdi/test/process.h"
#include "vdi/test/test_database.h"

using namespace vdi::db;

TEST_CASE("claim race: 2 processes x 8 connections, 50 desktops, 400 users", "[claim][concurrency]")
{
    constexpr int desktop_count = 50;
    constexpr int user_count = 400;
    vdi::test::TestDatabase db;
    std::vector<Id> users;
    const auto pool = in_transaction(db.connection(), "seed", [&](pqxx::work& tx) {
        const auto image = vdi::test::make_image(tx);
        const auto p = vdi::test::make_pool(tx, image.id);
        for (int i = 0; i < desktop_count; ++i) {
            vdi::test::make_ready_desktop(tx, p, "desk-" + std::to_string(i));
        }
        for (int i = 0; i < user_count; ++i) {
            users.push_back(vdi::test::make_user(tx, "user" + std::to_string(i)).id);
        }
        return p;
    });

    const auto start_at = std::chrono::duration_cast<std::chrono::milliseconds>(
                              (std::chrono::system_clock::now() + std::chrono::milliseconds(1500)).time_since_epoch())
                              .count();
    // interleave users across the processes so both compete over the whole run
    std::vector<std::vector<std::string>> argvs(2);
    for (auto& argv : argvs) {
        argv = {VDI_CLAIM_RACE_WORKER, db.dsn(), std::to_string(pool.id), "8", std::to_string(start_at)};
    }
    for (int i = 0; i < user_count; ++i) {
        argvs[i % 2].push_back(std::to_string(users[i]));
    }
    std::vector<vdi::test::ProcessResult> results(2);
    std::vector<std::thread> runners;
    for (int p = 0; p < 2; ++p) {
        runners.emplace_back(
            [&, p] { results[p] = vdi::test::run_process(argvs[p], "", std::chrono::seconds(120)); });
    }
    for (auto& r : runners) {
        r.join();
    }

    std::map<Id, Id> claimed_by_desktop;  // desktop -> user, as the workers saw it
    std::set<Id> users_answered;
    int none = 0;
    for (const auto& result : results) {
        INFO(result.output.substr(0, 2000));
        REQUIRE_FALSE(result.timed_out);  // a deadlock or hang would end here
        REQUIRE(result.exit_code == 0);
        std::istringstream lines(result.output);
        std::string kind;
        while (lines >> kind) {
            if (kind == "claimed") {
                Id user = 0, desktop = 0;
                lines >> user >> desktop;
                CHECK(claimed_by_desktop.count(desktop) == 0);  // never handed out twice
                claimed_by_desktop[desktop] = user;
                CHECK(users_answered.insert(user).second);
            } else if (kind == "none") {
                Id user = 0;
                lines >> user;
                CHECK(users_answered.insert(user).second);
                ++none;
            } else {
                std::string rest;
                std::getline(lines, rest);
                FAIL("worker reported " << kind << rest);
            }
        }
    }
    CHECK(users_answered.size() == user_count);
    // every desktop was claimed (there were more users than desktops), each exactly once
    CHECK(claimed_by_desktop.size() == desktop_count);
    CHECK(none == user_count - desktop_count);

    // no claim lost: the database holds exactly what the workers were told
    in_transaction(db.connection(), "verify", [&](pqxx::work& tx) {
        std::map<Id, Id> in_db;
        for (const auto& d : DesktopRepository(tx).list_by_pool(pool.id)) {
            REQUIRE(d.assigned_user_id);
            in_db[d.id] = *d.assigned_user_id;
        }
        CHECK(in_db == claimed_by_desktop);
        CHECK(DesktopRepository(tx).counts(pool.id).ready == 0);
    });
}
