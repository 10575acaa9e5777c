// Running real vdi-broker processes against a test database, and what they need around them:
// seeded users, a host with ready desktop rows, and a stand-in for the host agent's ticket
// delivery (the real one is tested with VMs in e2e_tests).
#pragma once

#include <atomic>
#include <map>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "vdi/common/db/desktop_repository.h"
#include "vdi/common/db/host_repository.h"
#include "vdi/common/db/pool_repository.h"
#include "vdi/common/db/user_repository.h"
#include "vdi/test/https_client.h"
#include "vdi/test/process.h"

namespace vdi::test {

// A vdi-broker child process with its own config; cheap Argon2id and short locks for tests.
class BrokerProcess {
public:
    // `extra_config`: more [broker.*] tables (throttle, limits, argon2); `same_tls_as`: serve
    // with that broker's certificate (replicas behind one name); `broker_keys`: more [broker] keys.
    BrokerProcess(const std::string& dsn, const std::string& name, const std::string& extra_config = "",
                  const BrokerProcess* same_tls_as = nullptr, const std::string& broker_keys = "");
    ~BrokerProcess();
    unsigned short port() const { return port_; }
    const std::filesystem::path& certificate() const { return certificate_; }
    std::unique_ptr<HttpsClient> client() const;
    std::string log() const;
    ChildProcess& process() { return *process_; }
    const std::filesystem::path& dir() const { return dir_; }

private:
    std::filesystem::path dir_;
    std::filesystem::path certificate_;
    std::unique_ptr<ChildProcess> process_;
    unsigned short port_ = 0;
};

// Plays the host agent's part in ticket delivery for a host with no VMs: LISTENs on
// 'vdi_tickets_<host>', checks each ticket against its stored hash and records it delivered
// (or, with fail_with set, refused). Remembers every plaintext it received.
class TicketAcker {
public:
    TicketAcker(const std::string& dsn, db::Id host_id);
    ~TicketAcker();
    std::vector<std::string> received();
    void fail_with(const std::string& error);
    void pause(bool paused) { paused_ = paused; }

private:
    void loop();
    std::string dsn_;
    db::Id host_id_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> paused_{false};
    std::atomic<bool> listening_{false};
    std::mutex mutex_;  // guards received_ and error_
    std::vector<std::string> received_;
    std::string error_;
    std::thread thread_;
};

// A registered host and `count` desktops of `pool` on it, running and ready, with both ports.
db::Host make_host(pqxx::transaction_base& tx, const std::string& name = "host-1");
std::vector<db::Desktop> make_ready_desktops(pqxx::transaction_base& tx, const db::Pool& pool, const db::Host& host,
                                             int count, const std::string& prefix = "desk");
// A user whose password is `password` (hashed cheaply).
db::User make_user_with_password(pqxx::transaction_base& tx, const std::string& username, const std::string& password,
                                 db::UserRole role = db::UserRole::user);

}  // namespace vdi::test

namespace vdi::test {

// A logon storm: `users` accounts (user-0 ... with password "pw-N") log in and connect to
// `pool` concurrently from `threads` client threads, each user on its own TLS connection,
// spread over the given broker ports. Counts what came back; the caller checks the database.
struct StormResult {
    int succeeded = 0;
    int failed = 0;
    std::vector<std::string> failures;  // the first few, for messages
    std::map<std::string, int> desktops_given;  // desktop name -> times handed out
    double seconds = 0;
};
StormResult run_logon_storm(const std::vector<unsigned short>& ports, const std::filesystem::path& certificate,
                            const std::string& pool, int users, int threads);

// Seeds `users` users (user-N / pw-N, cheap hashes), entitled to `pool`, in one transaction.
void make_storm_users(pqxx::transaction_base& tx, const db::Pool& pool, int users);

}  // namespace vdi::test
