// One process of the claim race test: N connections claim floating desktops for a list of users.
//
// usage: claim_race_worker DSN POOL_ID CONNECTIONS START_AT_MS USER_ID...
// Prints one line per user: "claimed USER DESKTOP", "none USER" or "error USER MESSAGE".
// All connections are opened first; claiming starts at START_AT_MS (unix epoch) so that the
// processes of the test really race.
#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vdi/common/db/database.h"
#include "vdi/common/db/desktop_repository.h"

int main(int argc, char** argv)
{
    if (argc < 6) {
        std::cerr << "usage: claim_race_worker DSN POOL_ID CONNECTIONS START_AT_MS USER_ID...\n";
        return 2;
    }
    const std::string dsn = argv[1];
    const vdi::db::Id pool_id = std::stoll(argv[2]);
    const int connections = std::stoi(argv[3]);
    const auto start_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(std::stoll(argv[4])));
    std::vector<vdi::db::Id> users;
    for (int i = 5; i < argc; ++i) {
        users.push_back(std::stoll(argv[i]));
    }

    std::vector<std::unique_ptr<pqxx::connection>> pool;
    for (int i = 0; i < connections; ++i) {
        pool.push_back(vdi::db::connect(dsn, "claim-race"));
    }
    std::atomic<std::size_t> next{0};
    std::mutex out_mutex;  // guards std::cout
    std::vector<std::thread> threads;
    for (int i = 0; i < connections; ++i) {
        threads.emplace_back([&, i] {
            std::this_thread::sleep_until(start_at);
            for (std::size_t k = next++; k < users.size(); k = next++) {
                std::string line;
                try {
                    const auto desktop = vdi::db::in_transaction(*pool[i], "claim a desktop", [&](pqxx::work& tx) {
                        return vdi::db::DesktopRepository(tx).claim_floating(pool_id, users[k]);
                    });
                    line = desktop ? "claimed " + std::to_string(users[k]) + " " + std::to_string(desktop->id)
                                   : "none " + std::to_string(users[k]);
                } catch (const std::exception& e) {
                    line = "error " + std::to_string(users[k]) + " " + e.what();
                }
                std::lock_guard lock(out_mutex);
                std::cout << line << "\n";
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    return 0;
}
