// The broker's connection pool against a real PostgreSQL: bounded, first come first served,
// and a timeout when every connection stays busy.
#include <catch2/catch.hpp>

#include <mutex>
#include <optional>
#include <thread>

#include "vdi/broker/connection_pool.h"
#include "vdi/common/error.h"
#include "vdi/test/process.h"
#include "vdi/test/test_database.h"

using namespace std::chrono_literals;

TEST_CASE("connection pool: waiters are served in arrival order, and time out when none comes free", "[broker]")
{
    vdi::test::TestDatabase db;
    vdi::broker::ConnectionPool pool(db.dsn(), "pool-test", 1, 3s);
    auto held = std::make_optional(pool.acquire());

    // five requests queue up one after another behind the held connection
    std::mutex mutex;
    std::vector<int> served;
    std::vector<std::thread> waiting;
    for (int i = 0; i < 5; ++i) {
        waiting.emplace_back([&, i] {
            auto lease = pool.acquire();
            pqxx::nontransaction(*lease).exec("SELECT 1");
            std::lock_guard lock(mutex);
            served.push_back(i);
        });
        // the next one starts only once this one is queued, which fixes the arrival order
        REQUIRE(vdi::test::wait_until([&] { return pool.waiting() == static_cast<std::size_t>(i + 1); }, 10s));
    }
    held.reset();
    for (auto& t : waiting) t.join();
    CHECK(served == std::vector<int>{0, 1, 2, 3, 4});

    // nothing comes free: a clear error after the timeout, and the pool still works afterwards
    vdi::broker::ConnectionPool tight(db.dsn(), "pool-test", 1, 200ms);
    {
        auto busy = tight.acquire();
        const auto started = std::chrono::steady_clock::now();
        CHECK_THROWS_AS(tight.acquire(), vdi::DbError);
        CHECK(std::chrono::steady_clock::now() - started >= 200ms);
    }
    auto again = tight.acquire();
    CHECK(pqxx::nontransaction(*again).exec1("SELECT 2")[0].as<int>() == 2);
}
