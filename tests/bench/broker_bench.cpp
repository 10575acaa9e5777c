// broker_bench: vdi-broker under 64 concurrent HTTPS clients on this machine, with one and with
// two replicas sharing a private PostgreSQL (started here, destroyed at the end).
//
//   login_rps / login_p50_ms / login_p99_ms     POST /login, Argon2id at the default cost
//                                               (ops_limit 3, 64 MiB), 256 logins
//   list_rps / list_p99_ms                      GET /desktops with already-issued tokens
//   connect_rps / connect_p50_ms / connect_p99_ms  POST /desktops/{pool}/connect with issued
//                                               tokens: each client's first connect claims a
//                                               desktop, the rest reconnect; every answer waits
//                                               for the ticket's acknowledgement from the host
//                                               (stand-ins on 8 hosts here: no VMs)
//   connect_cpu_ms                              the whole machine's busy CPU time per connect
//   *_2r                                        the same with two replicas
//   connect_rps_traced / connect_rps_untraced   connect with logon tracing on (the default) and
//                                               off ([broker] trace_logons = false), one replica,
//                                               three alternating 5 s runs of each; tracing_cost_pct
//   storm_users / storm_failures / storm_double_assignments / storm_s
//                                               10,000 users log in and connect at once against
//                                               10,000 ready desktops (two replicas, Argon2id at
//                                               ops_limit 1 / 8 KiB so the storm measures the
//                                               brokering, not 10,000 x 64 MiB of hashing)
// Clients, brokers and PostgreSQL share the same 2 cores. Ends with: RESULT {json}
//
// Usage: broker_bench [PHASE...]   PHASE: login, list, connect, tracing, storm (default: all of them)
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "bench_support.h"
#include "broker_harness.h"
#include "vdi/common/crypto.h"
#include "vdi/common/db/api_token_repository.h"
#include "vdi/common/db/database.h"
#include "vdi/test/fixtures.h"
#include "vdi/test/process.h"
#include "vdi/test/test_database.h"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

constexpr int clients = 64;
constexpr int hosts = 8;

struct Phase {
    double rps = 0, p50_ms = 0, p99_ms = 0;
    double cpu_ms_per_request = 0;  // the whole machine's busy CPU time (clients included) per request
    int errors = 0;
    std::string first_error;
};

// `clients` threads, each with its own keep-alive connection, call `request(client_index, http)`
// until `duration` passes (or `total` requests were made, if set). Latency per request.
Phase run_phase(const std::vector<unsigned short>& ports, const fs::path& certificate, std::chrono::seconds duration,
                int total, const std::function<vdi::test::HttpResult(int, vdi::test::HttpsClient&)>& request,
                int expected_status = 200)
{
    std::mutex mutex;
    std::vector<double> latencies;
    Phase phase;
    std::atomic<int> issued{0};
    const double busy_before = bench::machine_busy_seconds();
    const auto start = Clock::now();
    const auto end = start + duration;
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
            vdi::test::HttpsClient http("127.0.0.1", ports[static_cast<std::size_t>(c) % ports.size()], certificate);
            std::vector<double> mine;
            int errors = 0;
            std::string first_error;
            while (Clock::now() < end && (total == 0 || issued++ < total)) {
                const auto t0 = Clock::now();
                const auto result = request(c, http);
                mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
                if (result.status != expected_status) {
                    if (errors++ == 0) first_error = std::to_string(result.status) + " " + result.body;
                }
            }
            std::lock_guard lock(mutex);
            latencies.insert(latencies.end(), mine.begin(), mine.end());
            phase.errors += errors;
            if (phase.first_error.empty()) phase.first_error = first_error;
        });
    }
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    phase.rps = static_cast<double>(latencies.size()) / seconds;
    if (!latencies.empty()) {
        phase.cpu_ms_per_request =
            (bench::machine_busy_seconds() - busy_before) * 1000.0 / static_cast<double>(latencies.size());
    }
    if (!latencies.empty()) {
        phase.p50_ms = bench::percentile(latencies, 50);
        phase.p99_ms = bench::percentile(latencies, 99);
    }
    return phase;
}

void print(const char* name, const Phase& p)
{
    std::printf("%-26s %8.1f req/s   p50 %7.2f ms   p99 %7.2f ms   CPU %5.3f ms/req   errors %d%s%s\n", name, p.rps,
                p.p50_ms, p.p99_ms, p.cpu_ms_per_request, p.errors, p.first_error.empty() ? "" : "  first: ", p.first_error.substr(0, 120).c_str());
}

}  // namespace

int main(int argc, char** argv)
{
    std::set<std::string> only(argv + 1, argv + argc);
    const auto wanted = [&](const std::string& phase) { return only.empty() || only.count(phase) > 0; };
    // a private PostgreSQL for the run
    const fs::path pg_root = "/tmp/vdi-bench-pg-" + std::to_string(::getpid());
    const auto started = vdi::test::run_process({PG_CLUSTER, "start", pg_root.string(), "--throwaway"}, "", 120s);
    if (started.exit_code != 0) {
        std::cerr << "broker_bench: could not start PostgreSQL: " << started.output << "\n";
        return 1;
    }
    ::setenv("VDI_TEST_PG_ROOT", pg_root.c_str(), 1);
    nlohmann::json result;
    std::vector<std::string> notes;
    {
        vdi::test::TestDatabase db;
        std::vector<vdi::db::Host> host_rows;
        vdi::db::Pool pool, storm_pool;
        std::vector<std::string> tokens;
        const auto seed_start = Clock::now();
        vdi::db::in_transaction(db.connection(), "seed", [&](pqxx::work& tx) {
            const auto image = vdi::test::make_image(tx);
            pool = vdi::test::make_pool(tx, image.id, "bench");
            storm_pool = vdi::test::make_pool(tx, image.id, "storm");
            tx.exec("UPDATE pools SET max_size = 20000");
            for (int h = 0; h < hosts; ++h) host_rows.push_back(vdi::test::make_host(tx, "host-" + std::to_string(h)));
            for (int h = 0; h < hosts; ++h) {
                vdi::test::make_ready_desktops(tx, pool, host_rows[h], 2 * clients / hosts, "b" + std::to_string(h));
                vdi::test::make_ready_desktops(tx, storm_pool, host_rows[h], 10000 / hosts, "s" + std::to_string(h));
            }
            vdi::test::make_storm_users(tx, storm_pool, 10000);
            // the bench pool's users: the first 2 x 64 storm users are entitled to it too, with tokens
            tx.exec_params("INSERT INTO entitlements (pool_id, group_id) SELECT $1, id FROM groups WHERE name = 'storm-storm'",
                           pool.id);
            for (int i = 0; i < 2 * clients; ++i) {
                const std::string token = vdi::random_token(32);
                const auto user = vdi::db::UserRepository(tx).find_by_username("user-" + std::to_string(i));
                vdi::db::ApiTokenRepository(tx).create(user->id, vdi::sha256_hex(token), std::chrono::hours(2), "127.0.0.1");
                tokens.push_back(token);
            }
        });
        // the seed's pages go to disk now, not in the middle of a measured phase
        pqxx::nontransaction(db.connection()).exec("CHECKPOINT");
        ::sync();
        std::printf("seeded 10,000 users, %d hosts, %d + 10,000 ready desktops in %.1f s\n", hosts, 2 * clients,
                    std::chrono::duration<double>(Clock::now() - seed_start).count());
        std::vector<std::unique_ptr<vdi::test::TicketAcker>> ackers;
        for (const auto& h : host_rows) ackers.push_back(std::make_unique<vdi::test::TicketAcker>(db.dsn(), h.id));

        // --- logins at the default Argon2id cost, one replica
        Phase login, login_2r;
        if (wanted("login")) {
            const std::string cost = "[broker.argon2]\nops_limit = 3\nmem_limit_kib = 65536\n";
            const auto log_in = [](int c, vdi::test::HttpsClient& http) {
                return http.post("/api/v1/login", {{"user", "user-" + std::to_string(1000 + c)},
                                                   {"password", "pw-" + std::to_string(1000 + c)}});
            };
            {
                vdi::test::BrokerProcess broker(db.dsn(), "login", cost);
                login = run_phase({broker.port()}, broker.certificate(), 60s, 256, log_in);
                print("login (Argon2id 64 MiB, t=3)", login);
            }
            vdi::test::BrokerProcess first(db.dsn(), "login-1", cost);
            vdi::test::BrokerProcess second(db.dsn(), "login-2", cost, &first);
            login_2r = run_phase({first.port(), second.port()}, first.certificate(), 60s, 256, log_in);
            print("login, 2 replicas", login_2r);
        }

        // --- list and connect with issued tokens, one and two replicas
        std::map<std::string, Phase> phases;
        for (int replicas : {1, 2}) {
            // two replicas on one machine split its statements-in-flight budget (the default,
            // 2 per core, assumes one broker per machine), as an operator would
            const std::string keys = replicas == 2 ? "db_connections = 2" : "";
            vdi::test::BrokerProcess first(db.dsn(), "r1-" + std::to_string(replicas), "", nullptr, keys);
            std::unique_ptr<vdi::test::BrokerProcess> second;
            std::vector<unsigned short> ports{first.port()};
            if (replicas == 2) {
                second = std::make_unique<vdi::test::BrokerProcess>(db.dsn(), "r2", "", &first, keys);
                ports.push_back(second->port());
            }
            const std::string suffix = replicas == 1 ? "" : "_2r";
            const int offset = replicas == 1 ? 0 : clients;  // fresh users (and claims) per run
            if (wanted("list")) {
                phases["list" + suffix] = run_phase(ports, first.certificate(), 5s, 0, [&](int c, vdi::test::HttpsClient& http) {
                    return http.get("/api/v1/desktops", tokens[static_cast<std::size_t>(offset + c)]);
                });
                print(("list, " + std::to_string(replicas) + " replica(s)").c_str(), phases["list" + suffix]);
            }
            if (wanted("connect")) {
                phases["connect" + suffix] = run_phase(ports, first.certificate(), 8s, 0, [&](int c, vdi::test::HttpsClient& http) {
                    return http.post("/api/v1/desktops/bench/connect", {{"protocol", "vnc"}},
                                     tokens[static_cast<std::size_t>(offset + c)]);
                });
                print(("connect, " + std::to_string(replicas) + " replica(s)").c_str(), phases["connect" + suffix]);
            }
        }

        // --- what logon tracing costs a connect: on and off, alternating, the same users (their
        //     connects reconnect after the first), one replica
        double traced_rps = 0, untraced_rps = 0;
        if (wanted("tracing")) {
            std::vector<double> on, off;
            for (int round = 0; round < 3; ++round) {
                for (const bool traced : {false, true}) {
                    vdi::test::BrokerProcess broker(db.dsn(), (traced ? "traced-" : "untraced-") + std::to_string(round),
                                                    "", nullptr, traced ? "" : "trace_logons = false");
                    const auto phase = run_phase({broker.port()}, broker.certificate(), 5s, 0, [&](int c, vdi::test::HttpsClient& http) {
                        return http.post("/api/v1/desktops/bench/connect", {{"protocol", "vnc"}},
                                         tokens[static_cast<std::size_t>(c)]);
                    });
                    (traced ? on : off).push_back(phase.rps);
                    print(traced ? "connect, traced" : "connect, untraced", phase);
                }
            }
            traced_rps = bench::percentile(on, 50);
            untraced_rps = bench::percentile(off, 50);
            std::printf("logon tracing: connect %.0f req/s traced, %.0f untraced (medians of 3): %+.1f%%\n", traced_rps,
                        untraced_rps, 100.0 * (traced_rps - untraced_rps) / untraced_rps);
            pqxx::work tx(db.connection());
            std::printf("  traces stored: %lld, stages %lld\n",
                        tx.exec1("SELECT count(*) FROM logon_traces")[0].as<long long>(),
                        tx.exec1("SELECT count(*) FROM logon_stages")[0].as<long long>());
        }

        // --- the 10,000-user logon storm, two replicas
        vdi::test::StormResult storm;
        int double_assigned = 0, sessions = 0;
        if (wanted("storm")) {
            vdi::test::BrokerProcess first(db.dsn(), "storm-1");
            vdi::test::BrokerProcess second(db.dsn(), "storm-2", "", &first);
            // (the first 128 storm users already hold bench-pool sessions; all 10,000 get a storm desktop)
            storm = vdi::test::run_logon_storm({first.port(), second.port()}, first.certificate(), "storm", 10000, clients);
            for (const auto& [desktop, times] : storm.desktops_given) double_assigned += times > 1 ? 1 : 0;
            pqxx::work tx(db.connection());
            sessions = tx.exec1("SELECT count(*) FROM sessions WHERE pool_id = " + std::to_string(storm_pool.id))[0].as<int>();
            double_assigned += tx.exec1("SELECT count(*) FROM (SELECT desktop_id FROM sessions GROUP BY desktop_id "
                                        "HAVING count(*) > 1) d")[0].as<int>();
            std::printf("storm: %d users in %.1f s (%.0f users/s), %d failures, %d desktops given twice, %d sessions recorded\n",
                        10000, storm.seconds, 10000 / storm.seconds, storm.failed, double_assigned, sessions);
            if (!storm.failures.empty()) std::printf("  first failure: %s\n", storm.failures.front().substr(0, 200).c_str());
        }

        const auto& connect = phases["connect"];
        if (wanted("connect") && connect.rps < 2000) {
            notes.push_back("connect_rps below the 2,000/s target on this 2-core machine");
        }
        if (wanted("connect") && connect.p99_ms >= 50) notes.push_back("connect_p99_ms not under the 50 ms target on this 2-core machine");
        result = {{"clients", clients},
                  {"login_rps", login.rps},
                  {"login_p50_ms", login.p50_ms},
                  {"login_p99_ms", login.p99_ms},
                  {"login_errors", login.errors},
                  {"login_rps_2r", login_2r.rps},
                  {"login_p99_ms_2r", login_2r.p99_ms},
                  {"list_rps", phases["list"].rps},
                  {"list_p99_ms", phases["list"].p99_ms},
                  {"connect_rps", connect.rps},
                  {"connect_p50_ms", connect.p50_ms},
                  {"connect_p99_ms", connect.p99_ms},
                  {"connect_cpu_ms", connect.cpu_ms_per_request},
                  {"connect_errors", connect.errors},
                  {"list_rps_2r", phases["list_2r"].rps},
                  {"list_p99_ms_2r", phases["list_2r"].p99_ms},
                  {"connect_rps_2r", phases["connect_2r"].rps},
                  {"connect_p99_ms_2r", phases["connect_2r"].p99_ms},
                  {"connect_errors_2r", phases["connect_2r"].errors},
                  {"connect_rps_traced", traced_rps},
                  {"connect_rps_untraced", untraced_rps},
                  {"tracing_cost_pct", untraced_rps > 0 ? 100.0 * (untraced_rps - traced_rps) / untraced_rps : 0.0},
                  {"storm_users", 10000},
                  {"storm_failures", storm.failed},
                  {"storm_double_assignments", double_assigned},
                  {"storm_sessions", sessions},
                  {"storm_s", storm.seconds},
                  {"notes", notes}};
        ackers.clear();
    }
    vdi::test::run_process({PG_CLUSTER, "destroy", pg_root.string()}, "", 120s);
    std::cout << "RESULT " << result.dump() << std::endl;
    return 0;
}
