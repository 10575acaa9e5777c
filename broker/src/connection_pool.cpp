// The broker's PostgreSQL connection pool.
#include "vdi/broker/connection_pool.h"

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

ConnectionPool::Lease ConnectionPool::acquire()
{
    std::unique_lock lock(mutex_);
    if (!released_.wait_for(lock, acquire_timeout_, [&] { return !idle_.empty() || open_ < size_; })) {
        throw DbError("all " + std::to_string(size_) + " database connections are busy");
    }
    if (!idle_.empty()) {
        auto connection = std::move(idle_.back());
        idle_.pop_back();
        return Lease(*this, std::move(connection));
    }
    ++open_;
    lock.unlock();
    try {
        return Lease(*this, db::connect(dsn_, application_name_, 3));
    } catch (...) {
        lock.lock();
        --open_;
        released_.notify_one();
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
    released_.notify_one();
}

}  // namespace vdi::broker
