// The pool manager against a real PostgreSQL, on simulated time, with host agents played by row
// updates (tests/e2e/pool_e2e_test.cpp runs it with real agents and VMs).
#include <thread>

#include <catch2/catch.hpp>

#include "vdi/common/db/database.h"
#include "vdi/common/db/desktop_repository.h"
#include "vdi/common/db/host_repository.h"
#include "vdi/common/db/image_repository.h"
#include "vdi/common/db/job_repository.h"
#include "vdi/common/db/session_repository.h"
#include "vdi/pool/pool_manager.h"
#include "vdi/test/fixtures.h"
#include "vdi/test/test_clock.h"
#include "vdi/test/test_database.h"

using namespace std::chrono_literals;
using namespace vdi::db;
using vdi::pool::PoolManager;
using vdi::pool::PoolManagerConfig;
using vdi::pool::TimePoint;
using vdi::test::TestClock;

namespace {

PoolManagerConfig config_for(const vdi::test::TestDatabase& db, const std::string& name = "pm-test")
{
    PoolManagerConfig c;
    c.dsn = db.dsn();
    c.name = name;
    c.trim_grace = 0s;
    return c;
}

template <typename Fn>
auto tx(vdi::test::TestDatabase& db, Fn fn)
{
    return in_transaction(db.connection(), "test step", fn, 1);
}

long long scalar(vdi::test::TestDatabase& db, const std::string& sql)
{
    return tx(db, [&](pqxx::work& t) { return t.exec1(sql)[0].as<long long>(); });
}

Host add_host(pqxx::work& t, const std::string& name, int ops)
{
    HostRegistration r{name, "127.0.0.1", 8, 16384, ops, "test"};
    return HostRepository(t).register_host(r);
}

// What a host agent would do: every wanted desktop runs its current generation and is ready.
void agents_bring_up(vdi::test::TestDatabase& db)
{
    tx(db, [&](pqxx::work& t) {
        DesktopRepository desktops(t);
        for (const auto& row : t.exec("SELECT id, generation FROM desktops WHERE desired_state = 'running' AND host_id IS NOT NULL "
                                      "AND (actual_generation IS DISTINCT FROM generation OR ready_generation IS DISTINCT FROM generation "
                                      "OR actual_state <> 'running')")) {
            ActualReport report;
            report.generation = row[1].as<std::int64_t>();
            report.state = DesktopActualState::running;
            report.vnc_port = 5900;
            desktops.report_actual(row[0].as<Id>(), report);
            desktops.mark_guest_ready(row[0].as<Id>(), report.generation);
        }
    });
}

}  // namespace

TEST_CASE("pool manager: spares placed on live hosts within provisioning slots, topped up, capped, trimmed",
          "[pool]")
{
    vdi::test::TestDatabase db;
    TestClock clock;
    const auto pool = tx(db, [&](pqxx::work& t) {
        auto p = vdi::test::make_pool(t, vdi::test::make_image(t).id, "office");
        PoolRepository(t).set_sizing(p.id, 5, 7);
        add_host(t, "busy-host", 2);
        add_host(t, "roomy-host", 4);
        auto silent = add_host(t, "silent-host", 8);
        t.exec_params("UPDATE hosts SET last_heartbeat_at = now() - interval '10 minutes' WHERE id = $1", silent.id);
        return p;
    });
    PoolManager manager(config_for(db), clock);
    const auto first = manager.run_once();
    CHECK(first.hosts_lost == 1);  // the silent one
    // 5 wanted, but only 2 + 4 provisioning slots: all 5 placed, none on the lost host
    CHECK(first.desktops_created == 5);
    CHECK(scalar(db, "SELECT count(*) FROM desktops d JOIN hosts h ON h.id = d.host_id WHERE h.name = 'busy-host'") <= 2);
    CHECK(scalar(db, "SELECT count(*) FROM desktops d JOIN hosts h ON h.id = d.host_id WHERE h.name = 'silent-host'") == 0);
    CHECK(manager.run_once().desktops_created == 0);  // provisioning ones count as spares
    agents_bring_up(db);
    CHECK(tx(db, [&](pqxx::work& t) { return DesktopRepository(t).counts(pool.id).ready; }) == 5);

    // three users take desktops: the spares are topped up, but never past max_size 7
    tx(db, [&](pqxx::work& t) {
        for (const char* name : {"u1", "u2", "u3"}) {
            REQUIRE(DesktopRepository(t).claim_floating(pool.id, vdi::test::make_user(t, name).id));
        }
    });
    CHECK(manager.run_once().desktops_created == 2);
    CHECK(scalar(db, "SELECT count(*) FROM desktops WHERE desired_state = 'running'") == 7);
    agents_bring_up(db);
    CHECK(manager.run_once().desktops_created == 0);

    // they give them back: 7 spares, 5 wanted; after the grace period the 2 newest go
    tx(db, [&](pqxx::work& t) {
        t.exec("UPDATE desktops SET assigned_user_id = NULL, assigned_at = NULL");
    });
    CHECK(manager.run_once().desktops_trimmed == 2);
    CHECK(scalar(db, "SELECT count(*) FROM desktops WHERE desired_state = 'running'") == 5);
}

TEST_CASE("pool manager: demand from the broker grows the pool up to max_size", "[pool]")
{
    vdi::test::TestDatabase db;
    TestClock clock;
    const auto pool = tx(db, [&](pqxx::work& t) {
        auto p = vdi::test::make_pool(t, vdi::test::make_image(t).id, "burst");
        PoolRepository(t).set_sizing(p.id, 1, 6);
        add_host(t, "h1", 50);
        return p;
    });
    PoolManagerConfig config = config_for(db);
    config.trim_grace = 3600s;  // (burst spares stay a while once the burst is served)
    PoolManager manager(config, clock);
    manager.run_once();
    agents_bring_up(db);
    // a burst of 100 connects found nothing ready: the pool grows to max_size, not beyond
    manager.add_demand(pool.id, 100);
    for (int i = 0; i < 5; ++i) {
        manager.run_once();
        CHECK(scalar(db, "SELECT count(*) FROM desktops WHERE desired_state = 'running'") <= 6);
    }
    CHECK(scalar(db, "SELECT count(*) FROM desktops WHERE desired_state = 'running'") == 6);
}

TEST_CASE("pool manager: two managers at once never double-provision or double-run a job", "[pool]")
{
    vdi::test::TestDatabase db;
    TestClock clock;
    const auto pool = tx(db, [&](pqxx::work& t) {
        auto p = vdi::test::make_pool(t, vdi::test::make_image(t).id, "shared");
        PoolRepository(t).set_sizing(p.id, 10, 10);
        add_host(t, "h1", 100);
        NewJob job;
        job.pool_id = p.id;
        JobRepository(t).enqueue(job);
        return p;
    });
    PoolManager one(config_for(db, "pm-1"), clock);
    PoolManager two(config_for(db, "pm-2"), clock);
    std::thread a([&] { for (int i = 0; i < 15; ++i) one.run_once(); });
    std::thread b([&] { for (int i = 0; i < 15; ++i) two.run_once(); });
    a.join();
    b.join();
    CHECK(scalar(db, "SELECT count(*) FROM desktops WHERE pool_id = " + std::to_string(pool.id)) == 10);
    CHECK(scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'job.start'") == 1);
    CHECK(scalar(db, "SELECT count(*) FROM jobs WHERE state = 'succeeded'") == 1);
}

TEST_CASE("pool manager: a silent host's desktops are lost, their sessions ended, the pool re-provisioned", "[pool]")
{
    vdi::test::TestDatabase db;
    TestClock clock;
    PoolManagerConfig config = config_for(db);
    config.heartbeat_timeout = 5s;
    const auto [pool, doomed] = tx(db, [&](pqxx::work& t) {
        auto p = vdi::test::make_pool(t, vdi::test::make_image(t).id, "ha");
        PoolRepository(t).set_sizing(p.id, 2, 10);
        return std::make_pair(p, add_host(t, "doomed", 10));
    });
    PoolManager manager(config, clock);
    manager.run_once();
    agents_bring_up(db);
    const auto session = tx(db, [&](pqxx::work& t) {
        const auto user = vdi::test::make_user(t, "victim");
        const auto desktop = DesktopRepository(t).claim_floating(pool.id, user.id);
        return SessionRepository(t).open({user.id, desktop->id, pool.id, desktop->generation, DisplayProtocol::vnc, {}});
    });
    manager.run_once();
    agents_bring_up(db);
    // the host goes silent; another one joins
    tx(db, [&](pqxx::work& t) {
        add_host(t, "survivor", 10);
        t.exec_params("UPDATE hosts SET last_heartbeat_at = now() - interval '1 minute' WHERE id = $1", doomed.id);
    });
    const auto report = manager.run_once();
    CHECK(report.hosts_lost == 1);
    CHECK(report.sessions_ended == 0);  // (ended by the host loss itself, audited below)
    CHECK(scalar(db, "SELECT count(*) FROM sessions WHERE id = " + std::to_string(session.id) + " AND state = 'ended'") == 1);
    CHECK(scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'session.end' AND details->>'reason' LIKE 'host doomed%'") == 1);
    CHECK(scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'host.lost'") == 1);
    CHECK(scalar(db, "SELECT count(*) FROM desktops WHERE host_id = " + std::to_string(doomed.id) + " AND desired_state = 'running'") == 0);
    CHECK(report.desktops_created == 2);
    CHECK(scalar(db, "SELECT count(*) FROM desktops d JOIN hosts h ON h.id = d.host_id WHERE h.name = 'survivor' "
                     "AND d.desired_state = 'running'") == 2);
}

TEST_CASE("pool manager: session limits end sessions and refresh floating desktops", "[pool]")
{
    vdi::test::TestDatabase db;
    TestClock clock;
    const auto [pool, session] = tx(db, [&](pqxx::work& t) {
        auto p = vdi::test::make_pool(t, vdi::test::make_image(t).id, "limits");
        t.exec_params("UPDATE pools SET disconnected_timeout_s = 600, max_session_s = 36000 WHERE id = $1", p.id);
        add_host(t, "h", 10);
        const auto desktop = vdi::test::make_ready_desktop(t, p, "d1");
        const auto user = vdi::test::make_user(t, "sleepy");
        DesktopRepository(t).claim_floating(p.id, user.id);
        auto s = SessionRepository(t).open({user.id, desktop.id, p.id, desktop.generation, DisplayProtocol::vnc, {}});
        SessionRepository(t).mark_disconnected(s.id);
        return std::make_pair(p, s);
    });
    PoolManager manager(config_for(db), clock);
    CHECK(manager.run_once().sessions_ended == 0);
    clock.advance(601s);
    CHECK(manager.run_once().sessions_ended == 1);
    CHECK(scalar(db, "SELECT count(*) FROM sessions WHERE state = 'ended' AND end_reason = 'disconnected too long'") == 1);
    CHECK(scalar(db, "SELECT generation FROM desktops WHERE id = " + std::to_string(session.desktop_id)) == 2);
    CHECK(scalar(db, "SELECT count(*) FROM desktops WHERE assigned_user_id IS NOT NULL") == 0);
}

TEST_CASE("pool manager: an image that keeps failing stops provisioning with a visible error", "[pool]")
{
    vdi::test::TestDatabase db;
    TestClock clock;
    const auto pool = tx(db, [&](pqxx::work& t) {
        auto p = vdi::test::make_pool(t, vdi::test::make_image(t).id, "broken");
        PoolRepository(t).set_sizing(p.id, 3, 10);
        add_host(t, "h", 10);
        return p;
    });
    PoolManager manager(config_for(db), clock);
    for (int round = 0; round < 3; ++round) {
        manager.run_once();
        // every clone crashes
        tx(db, [&](pqxx::work& t) {
            for (const auto& row : t.exec("SELECT id, generation FROM desktops WHERE desired_state = 'running'")) {
                ActualReport report;
                report.generation = row[1].as<std::int64_t>();
                report.state = DesktopActualState::failed;
                report.error = "the guest triple-faulted";
                DesktopRepository(t).report_actual(row[0].as<Id>(), report);
            }
        });
    }
    manager.run_once();
    const auto created = scalar(db, "SELECT count(*) FROM desktops");
    for (int i = 0; i < 3; ++i) manager.run_once();
    CHECK(scalar(db, "SELECT count(*) FROM desktops") == created);  // no more looping
    const auto error = tx(db, [&](pqxx::work& t) { return t.exec1("SELECT error FROM pools")[0].as<std::string>(""); });
    CHECK_THAT(error, Catch::Contains("provisioning stopped") && Catch::Contains("the guest triple-faulted"));
    CHECK(scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'pool.error'") == 1);
    // an admin changes the pool (a fixed image, say): the error clears and provisioning resumes
    tx(db, [&](pqxx::work& t) {
        auto p = *PoolRepository(t).find(pool.id);
        PoolRepository(t).update(pool.id, p);
        t.exec("UPDATE desktops SET state_changed_at = now() - interval '1 hour'");
    });
    CHECK(manager.run_once().desktops_created == 3);
}

TEST_CASE("pool manager: a refresh job refreshes unassigned desktops at once, warns in-use ones, forces at the deadline",
          "[pool]")
{
    vdi::test::TestDatabase db;
    TestClock clock;
    const auto [pool, job] = tx(db, [&](pqxx::work& t) {
        auto p = vdi::test::make_pool(t, vdi::test::make_image(t).id, "nightly");
        PoolRepository(t).set_sizing(p.id, 1, 10);
        add_host(t, "h", 10);
        NewJob j;
        j.pool_id = p.id;
        j.force_after = std::chrono::system_clock::now() + 1h;
        return std::make_pair(p, j);
    });
    PoolManagerConfig config = config_for(db);
    config.trim_grace = 3600s;
    PoolManager manager(config, clock);
    manager.run_once();
    tx(db, [&](pqxx::work& t) { PoolRepository(t).set_sizing(pool.id, 1, 10); t.exec("UPDATE pools SET min_ready = 3"); });
    manager.run_once();
    agents_bring_up(db);
    const auto session = tx(db, [&](pqxx::work& t) {
        const auto user = vdi::test::make_user(t, "worker");
        const auto desktop = DesktopRepository(t).claim_floating(pool.id, user.id);
        return SessionRepository(t).open({user.id, desktop->id, pool.id, desktop->generation, DisplayProtocol::vnc, {}});
    });
    tx(db, [&](pqxx::work& t) { t.exec("UPDATE pools SET min_ready = 1"); });
    const auto job_id = tx(db, [&](pqxx::work& t) { return JobRepository(t).enqueue(job).id; });
    const long long total = scalar(db, "SELECT count(*) FROM desktops WHERE desired_state = 'running'");
    for (int i = 0; i < 6; ++i) {
        manager.run_once();
        agents_bring_up(db);
    }
    // everything but the desktop in use is refreshed; min_ready stayed available throughout
    CHECK(scalar(db, "SELECT count(*) FROM desktops WHERE refresh_job_id IS NOT NULL") == 1);
    CHECK(scalar(db, "SELECT progress_done FROM jobs WHERE id = " + std::to_string(job_id)) == total - 1);
    const auto warning = tx(db, [&](pqxx::work& t) {
        return t.exec1("SELECT warning FROM sessions WHERE id = " + std::to_string(session.id))[0].as<std::string>("");
    });
    CHECK_THAT(warning, Catch::Contains("will be refreshed at"));
    CHECK(scalar(db, "SELECT count(*) FROM sessions WHERE state <> 'ended'") == 1);
    // the deadline passes: the session is ended and its desktop refreshed; the job is done
    clock.advance(3601s);
    manager.run_once();
    CHECK(scalar(db, "SELECT count(*) FROM sessions WHERE state <> 'ended'") == 0);
    CHECK(scalar(db, "SELECT count(*) FROM jobs WHERE id = " + std::to_string(job_id) + " AND state = 'succeeded' "
                     "AND progress_done = progress_total") == 1);
}

TEST_CASE("pool manager: cron ticks over simulated time, a missed window runs once, across a DST change", "[pool][cron]")
{
    vdi::test::TestDatabase db;
    TestClock clock;
    tx(db, [&](pqxx::work& t) {
        auto p = vdi::test::make_pool(t, vdi::test::make_image(t).id, "cron");
        t.exec_params("UPDATE pools SET refresh_cron = '30 2 * * *', min_ready = 0, created_at = '2027-03-26 23:00+00' WHERE id = $1", p.id);
    });
    PoolManagerConfig config = config_for(db);
    config.time_zone = "Europe/Berlin";
    PoolManager manager(config, clock);
    // hour by hour from Friday to Monday across the spring-forward night
    for (auto t = parse_timestamp("2027-03-27 00:00:00+00"); t <= parse_timestamp("2027-03-29 12:00:00+00"); t += 1h) {
        clock.set(t);
        manager.run_once();
    }
    const auto ticks = [&] {
        return tx(db, [&](pqxx::work& t) {
            std::vector<std::string> out;
            for (const auto& row : t.exec("SELECT scheduled_for FROM jobs ORDER BY scheduled_for")) {
                out.push_back(to_sql(parse_timestamp(row[0].as<std::string>())).substr(0, 16));
            }
            return out;
        });
    };
    CHECK(ticks() == std::vector<std::string>{"2027-03-27 01:30", "2027-03-28 01:00", "2027-03-29 00:30"});
    // the pool manager is down from Monday noon to Thursday noon: one run, for Thursday's tick
    clock.set(parse_timestamp("2027-04-01 12:00:00+00"));
    manager.run_once();
    manager.run_once();
    CHECK(ticks().size() == 4);
    CHECK(ticks().back() == "2027-04-01 00:30");
}

TEST_CASE("pool manager: an image push rolls through the pool keeping min_ready ready, and a failing image stops it",
          "[pool]")
{
    vdi::test::TestDatabase db;
    TestClock clock;
    const auto [pool, v1] = tx(db, [&](pqxx::work& t) {
        const auto image = vdi::test::make_image(t, "desk");
        auto p = vdi::test::make_pool(t, image.id, "rolling");
        PoolRepository(t).set_sizing(p.id, 2, 5);
        add_host(t, "h", 20);
        return std::make_pair(p, image);
    });
    PoolManagerConfig config = config_for(db);
    config.trim_grace = 3600s;
    PoolManager manager(config, clock);
    manager.run_once();
    agents_bring_up(db);
    const auto new_version = [&](const char* note) {
        return tx(db, [&](pqxx::work& t) {
            NewGoldenImage image;
            image.name = "desk";
            image.state_path = std::string("/images/desk/") + note;
            image.memory_path = image.state_path + ".mem";
            image.memory_mib = 64;
            image.state = ImageState::ready;
            return ImageRepository(t).create(image);
        });
    };
    const auto v2 = new_version("v2");
    CHECK(v2.version == 2);
    const auto push = [&](const GoldenImage& target) {
        return tx(db, [&](pqxx::work& t) {
            NewJob job;
            job.type = JobType::image_push;
            job.pool_id = pool.id;
            job.target_image_id = target.id;
            return JobRepository(t).enqueue(job).id;
        });
    };
    const auto ready = [&] { return tx(db, [&](pqxx::work& t) { return DesktopRepository(t).counts(pool.id).ready; }); };
    const auto job = push(v2);
    int passes = 0;
    while (scalar(db, "SELECT count(*) FROM jobs WHERE id = " + std::to_string(job) + " AND state IN ('running', 'queued')") > 0 &&
           passes++ < 30) {
        manager.run_once();
        CHECK(ready() >= 2);  // the rollout never takes the pool below min_ready
        agents_bring_up(db);
    }
    CHECK(scalar(db, "SELECT count(*) FROM jobs WHERE id = " + std::to_string(job) + " AND state = 'succeeded'") == 1);
    CHECK(scalar(db, "SELECT count(*) FROM desktops WHERE desired_state = 'running' AND golden_image_id <> " +
                     std::to_string(v2.id)) == 0);
    CHECK(scalar(db, "SELECT golden_image_id FROM pools WHERE id = " + std::to_string(pool.id)) == v2.id);

    // v3's clones crash: the pool's error stops provisioning and the push fails, visibly
    const auto v3 = new_version("v3");
    const auto bad = push(v3);
    for (int i = 0; i < 30 && scalar(db, "SELECT count(*) FROM jobs WHERE id = " + std::to_string(bad) + " AND state IN ('queued', 'running')") > 0; ++i) {
        manager.run_once();
        agents_bring_up(db);  // (the v2 desktops come up; the v3 clones then crash)
        tx(db, [&](pqxx::work& t) {
            for (const auto& row : t.exec_params("SELECT id, generation FROM desktops WHERE desired_state = 'running' "
                                                 "AND golden_image_id = $1 AND actual_state <> 'failed'", v3.id)) {
                ActualReport report;
                report.generation = row[1].as<std::int64_t>();
                report.state = DesktopActualState::failed;
                report.error = "kernel panic";
                DesktopRepository(t).report_actual(row[0].as<Id>(), report);
            }
        });
    }
    const auto error = tx(db, [&](pqxx::work& t) {
        return t.exec1("SELECT coalesce(error, '') FROM jobs WHERE id = " + std::to_string(bad))[0].as<std::string>();
    });
    CHECK(scalar(db, "SELECT count(*) FROM jobs WHERE id = " + std::to_string(bad) + " AND state = 'failed'") == 1);
    CHECK_THAT(error, Catch::Contains("rollout stopped") && Catch::Contains("kernel panic"));
}

TEST_CASE("pool manager: idle and maximum-length limits, and a running job cancelled", "[pool]")
{
    vdi::test::TestDatabase db;
    TestClock clock;
    const auto [pool, idle, long_one] = tx(db, [&](pqxx::work& t) {
        auto p = vdi::test::make_pool(t, vdi::test::make_image(t).id, "limits2");
        PoolRepository(t).set_sizing(p.id, 0, 10);
        t.exec_params("UPDATE pools SET idle_timeout_s = 900, max_session_s = 7200 WHERE id = $1", p.id);
        add_host(t, "h", 10);
        std::vector<Session> opened;
        for (const char* name : {"idler", "worker"}) {
            const auto desktop = vdi::test::make_ready_desktop(t, p, std::string("d-") + name);
            const auto user = vdi::test::make_user(t, name);
            DesktopRepository(t).claim_floating(p.id, user.id);
            opened.push_back(SessionRepository(t).open({user.id, desktop.id, p.id, desktop.generation, DisplayProtocol::vnc, {}}));
        }
        return std::make_tuple(p, opened[0], opened[1]);
    });
    PoolManagerConfig config = config_for(db);
    config.trim_grace = 3600s;
    PoolManager manager(config, clock);
    // 16 minutes on: the worker's desktop saw input a minute ago (the host agent moves
    // last_activity_at), the idler's not since connecting
    clock.advance(960s);
    tx(db, [&](pqxx::work& t) {
        t.exec_params("UPDATE sessions SET last_activity_at = $2::timestamptz WHERE id = $1", long_one.id,
                      to_sql(clock.now() - 60s));
    });
    CHECK(manager.run_once().sessions_ended == 1);
    CHECK(scalar(db, "SELECT count(*) FROM sessions WHERE id = " + std::to_string(idle.id) + " AND end_reason = 'idle too long'") == 1);
    // two hours after it started the worker's session ends too, busy or not
    clock.advance(7200s - 960s + 1s);
    tx(db, [&](pqxx::work& t) {
        t.exec_params("UPDATE sessions SET last_activity_at = $2::timestamptz WHERE id = $1", long_one.id,
                      to_sql(clock.now()));
    });
    CHECK(manager.run_once().sessions_ended == 1);
    CHECK(scalar(db, "SELECT count(*) FROM sessions WHERE id = " + std::to_string(long_one.id) +
                     " AND end_reason = 'maximum session length reached'") == 1);
    CHECK(scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'session.end'") == 2);

    // a running refresh job waiting on a user's session is cancelled: flags cleared, job cancelled
    // (back to real time, where the new session is young)
    clock.set(std::chrono::system_clock::now());
    const auto [session, job] = tx(db, [&](pqxx::work& t) {
        const auto desktop = vdi::test::make_ready_desktop(t, pool, "d-late");
        const auto user = vdi::test::make_user(t, "late");
        DesktopRepository(t).claim_floating(pool.id, user.id);
        auto s = SessionRepository(t).open({user.id, desktop.id, pool.id, desktop.generation, DisplayProtocol::vnc, {}});
        NewJob j;
        j.pool_id = pool.id;
        j.force_after = std::chrono::system_clock::now() + 24h;
        return std::make_pair(s, JobRepository(t).enqueue(j).id);
    });
    manager.run_once();
    CHECK(scalar(db, "SELECT count(*) FROM jobs WHERE id = " + std::to_string(job) + " AND state = 'running'") == 1);
    CHECK(scalar(db, "SELECT count(*) FROM desktops WHERE refresh_job_id IS NOT NULL") >= 1);
    tx(db, [&](pqxx::work& t) { REQUIRE(JobRepository(t).request_cancel(job)); });
    manager.run_once();
    CHECK(scalar(db, "SELECT count(*) FROM jobs WHERE id = " + std::to_string(job) + " AND state = 'cancelled'") == 1);
    CHECK(scalar(db, "SELECT count(*) FROM desktops WHERE refresh_job_id IS NOT NULL") == 0);
    CHECK(scalar(db, "SELECT count(*) FROM sessions WHERE id = " + std::to_string(session.id) + " AND state = 'active'") == 1);
}
