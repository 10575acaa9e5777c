// The broker's PostgreSQL connection pool.
#include "vdi/broker/connection_pool.h"

#include <algorithm>

#include "vdi/common/db/database.h"
#include "vdi/common/error.h"

namespace vdi::broker {

ConnectionPool::ConnectionPool(std::string dsn, std::string application_name, int size,
                               std::chrono::milliseconds acquire_timeout)
    : dsn_(std::move(dsn)), application_name_(std::move(application_name)), size_(std::max(1, size)),
      acquire_timeout_(acquire_timeout)
{
}

ConnectionPool::Lease::~Lease()
{
    if (connection_) {
        pool_->give_back(std::move(connection_));
    }
}

std::unique_ptr<pqxx::connection> ConnectionPool::take()
{
    if (!idle_.empty()) {
        auto connection = std::move(idle_.back());
        idle_.pop_back();
        return connection;
    }
    ++open_;
    return nullptr;
}

std::size_t ConnectionPool::waiting() const
{
    std::lock_guard lock(mutex_);
    return queue_.size();
}

ConnectionPool::Lease ConnectionPool::acquire()
{
    std::unique_lock lock(mutex_);
    std::unique_ptr<pqxx::connection> connection;
    if (queue_.empty() && available()) {
        connection = take();
    } else {
        std::condition_variable turn;
        queue_.push_back(&turn);
        const bool got = turn.wait_for(lock, acquire_timeout_, [&] { return queue_.front() == &turn && available(); });
        if (got) {
            connection = take();
        }
        queue_.erase(std::find(queue_.begin(), queue_.end(), &turn));
        if (!queue_.empty() && available()) {
            queue_.front()->notify_one();  // (more than one connection may have come free)
        }
        if (!got) {
            throw DbError("all " + std::to_string(size_) + " database connections are busy");
        }
    }
    if (connection) {
        return Lease(*this, std::move(connection));
    }
    lock.unlock();
    try {
        return Lease(*this, db::connect(dsn_, application_name_, 3));
    } catch (...) {
        lock.lock();
        --open_;
        if (!queue_.empty()) {
            queue_.front()->notify_one();
        }
        throw;
    }
}

void ConnectionPool::give_back(std::unique_ptr<pqxx::connection> connection)
{
    std::lock_guard lock(mutex_);
    if (connection->is_open()) {
        idle_.push_back(std::move(connection));
    } else {
        --open_;  // broken: the next acquire opens a fresh one
    }
    if (!queue_.empty()) {
        queue_.front()->notify_one();
    }
}

}  // namespace vdi::broker
