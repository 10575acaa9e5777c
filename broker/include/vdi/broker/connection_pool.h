// A bounded pool of PostgreSQL connections shared by the broker's request threads.
//
// acquire() waits (up to a timeout) for a free connection and opens one lazily; waiters are
// served first come, first served (an unfair pool gives some requests far longer waits: a worse
// p99 under load). A connection
// that broke (PostgreSQL restarted) is dropped when returned, so the next acquire reconnects.
// While the database is unreachable acquire() throws DbError quickly, which the API turns into
// 503; nothing needs restarting when it comes back.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <pqxx/pqxx>

namespace vdi::broker {

class ConnectionPool {
public:
    ConnectionPool(std::string dsn, std::string application_name, int size,
                   std::chrono::milliseconds acquire_timeout = std::chrono::milliseconds(5000));

    class Lease {
    public:
        Lease(ConnectionPool& pool, std::unique_ptr<pqxx::connection> connection)
            : pool_(&pool), connection_(std::move(connection)) {}
        Lease(Lease&& other) noexcept = default;
        Lease& operator=(Lease&&) = delete;
        ~Lease();
        pqxx::connection& operator*() { return *connection_; }
        pqxx::connection* operator->() { return connection_.get(); }

    private:
        ConnectionPool* pool_;
        std::unique_ptr<pqxx::connection> connection_;
    };

    // DbError when no connection could be had (database down, or every one busy too long).
    Lease acquire();
    int size() const { return size_; }
    // How many acquire() calls wait in the queue now (any thread; tests wait on it).
    std::size_t waiting() const;

private:
    void give_back(std::unique_ptr<pqxx::connection> connection);
    bool available() const { return !idle_.empty() || open_ < size_; }
    // Takes an idle connection (nullptr: the caller opens a new one). Holding mutex_.
    std::unique_ptr<pqxx::connection> take();

    std::string dsn_;
    std::string application_name_;
    int size_;
    std::chrono::milliseconds acquire_timeout_;
    mutable std::mutex mutex_;  // guards idle_, open_ and queue_
    std::deque<std::condition_variable*> queue_;  // acquire() calls waiting, in arrival order
    std::vector<std::unique_ptr<pqxx::connection>> idle_;
    int open_ = 0;  // connections out of the pool or idle in it
};

}  // namespace vdi::broker
