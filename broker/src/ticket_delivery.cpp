// The broker's listener for display-ticket acknowledgements.
#include "vdi/broker/ticket_delivery.h"

#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "vdi/common/db/database.h"
#include "vdi/common/db/listener.h"
#include "vdi/common/logging.h"

namespace vdi::broker {
TicketDelivery::TicketDelivery(std::string dsn, std::chrono::milliseconds keep) : dsn_(std::move(dsn)), keep_(keep)
{
    if (!dsn_.empty()) {
        thread_ = std::thread([this] { listen_loop(); });
    }
}

TicketDelivery::~TicketDelivery()
{
    stop();
}

void TicketDelivery::stop()
{
    stop_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
    std::unordered_map<std::int64_t, Waiter> dropped;
    {
        std::lock_guard lock(mutex_);
        dropped.swap(waiters_);
    }
}

void TicketDelivery::on_ack(std::int64_t ticket_id, std::chrono::milliseconds timeout, AckHandler handler)
{
    std::optional<TicketAck> ack;
    {
        std::lock_guard lock(mutex_);
        if (const auto it = acks_.find(ticket_id); it != acks_.end()) {
            ack = std::move(it->second);
            acks_.erase(it);
        } else {
            waiters_[ticket_id] = Waiter{Clock::now() + timeout, std::move(handler)};
            return;
        }
    }
    handler(std::move(ack));
}

std::size_t TicketDelivery::waiting()
{
    std::lock_guard lock(mutex_);
    return waiters_.size();
}

std::size_t TicketDelivery::held()
{
    std::lock_guard lock(mutex_);
    return acks_.size();
}

void TicketDelivery::deliver(const std::string& payload)
{
    const auto message = nlohmann::json::parse(payload, nullptr, false);
    if (!message.is_object() || !message.contains("ticket_id") || !message["ticket_id"].is_number_integer()) {
        return;
    }
    const auto id = message["ticket_id"].get<std::int64_t>();
    TicketAck ack;
    ack.ok = message.value("ok", false);
    if (message.contains("error") && message["error"].is_string()) {
        ack.error = message["error"].get<std::string>();
    }
    // [[stage, start_us, duration_us], ...]: anything else in it is ignored
    if (const auto host = message.find("host"); host != message.end() && host->is_array() && host->size() <= 16) {
        for (const auto& s : *host) {
            if (s.is_array() && s.size() == 3 && s[0].is_string() &&
                db::valid_stage_name(s[0].get_ref<const std::string&>()) && s[1].is_number_integer() &&
                s[2].is_number_integer() && s[1].get<std::int64_t>() >= 0 && s[2].get<std::int64_t>() >= 0) {
                ack.host_stages.push_back({"host", s[0].get<std::string>(), s[1].get<std::int64_t>(),
                                           s[2].get<std::int64_t>()});
            }
        }
    }
    AckHandler handler;
    {
        std::lock_guard lock(mutex_);
        if (const auto it = waiters_.find(id); it != waiters_.end()) {
            handler = std::move(it->second.handler);
            waiters_.erase(it);
        } else {
            // held for a handler not registered yet; those nobody asks for (other replicas'
            // tickets, requests that gave up) are forgotten by expire()
            acks_[id] = std::move(ack);
            arrivals_.emplace_back(Clock::now(), id);
            return;
        }
    }
    handler(std::move(ack));  // (outside the lock: it may take a moment)
}

void TicketDelivery::expire(Clock::time_point now)
{
    std::vector<AckHandler> late;
    {
        std::lock_guard lock(mutex_);
        for (auto it = waiters_.begin(); it != waiters_.end();) {
            if (it->second.deadline <= now) {
                late.push_back(std::move(it->second.handler));
                it = waiters_.erase(it);
            } else {
                ++it;
            }
        }
        while (!arrivals_.empty() && now - arrivals_.front().first > keep_) {
            acks_.erase(arrivals_.front().second);
            arrivals_.pop_front();
        }
    }
    for (auto& handler : late) {
        handler(std::nullopt);
    }
}

void TicketDelivery::listen_loop()
{
    while (!stop_) {
        try {
            auto connection = db::connect(dsn_, "vdi-broker-tickets", 3);
            db::Listener acks(*connection, "vdi_ticket_acks", [this](const std::string& payload) { deliver(payload); });
            listening_ = true;
            while (!stop_) {
                connection->await_notification(0, 50'000);  // wakes at least every 50 ms for timeouts
                expire(Clock::now());
            }
        } catch (const std::exception& e) {
            if (listening_.exchange(false)) {
                logger("broker.tickets")->warn("lost the database connection; reconnecting error=\"{}\"", e.what());
            }
            for (int i = 0; i < 10 && !stop_; ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                expire(Clock::now());
            }
        }
    }
    listening_ = false;
}

}  // namespace vdi::broker
