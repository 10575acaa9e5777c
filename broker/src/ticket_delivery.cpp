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
    std::unordered_map<std::int64_t, DisplayWaiter> dropped_display;
    {
        std::lock_guard lock(mutex_);
        dropped.swap(waiters_);
        dropped_display.swap(display_waiters_);
        display_deadlines_.clear();
    }
}

void TicketDelivery::on_display(std::int64_t ticket_id, std::chrono::milliseconds timeout, DisplayHandler handler)
{
    const auto deadline = Clock::now() + timeout;
    std::lock_guard lock(mutex_);
    display_waiters_[ticket_id] = DisplayWaiter{deadline, std::move(handler)};
    display_deadlines_.emplace_back(deadline, ticket_id);
}

std::size_t TicketDelivery::awaiting_display()
{
    std::lock_guard lock(mutex_);
    return display_waiters_.size();
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
    // [[stage, start_us, duration_us], ...] of `component`: anything else in it is ignored
    const auto stages_of = [&](const char* field, const char* component) {
        std::vector<db::LogonStage> out;
        const auto list = message.find(field);
        if (list == message.end() || !list->is_array() || list->size() > 16) return out;
        for (const auto& s : *list) {
            if (s.is_array() && s.size() == 3 && s[0].is_string() &&
                db::valid_stage_name(s[0].get_ref<const std::string&>()) && s[1].is_number_integer() &&
                s[2].is_number_integer() && s[1].get<std::int64_t>() >= 0 && s[2].get<std::int64_t>() >= 0) {
                out.push_back({component, s[0].get<std::string>(), s[1].get<std::int64_t>(), s[2].get<std::int64_t>()});
            }
        }
        return out;
    };
    if (message.contains("display") && !message.contains("ok")) {
        DisplayHandler handler;
        {
            std::lock_guard lock(mutex_);
            const auto it = display_waiters_.find(id);
            if (it == display_waiters_.end()) return;  // another replica's connect, or one gone
            handler = std::move(it->second.handler);
            display_waiters_.erase(it);
        }
        handler(stages_of("display", "display"));
        return;
    }
    TicketAck ack;
    ack.ok = message.value("ok", false);
    if (message.contains("error") && message["error"].is_string()) {
        ack.error = message["error"].get<std::string>();
    }
    ack.host_stages = stages_of("host", "host");
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
        // (most connects' clients come; a waiter already called is gone from the map)
        while (!display_deadlines_.empty() && display_deadlines_.front().first <= now) {
            const auto it = display_waiters_.find(display_deadlines_.front().second);
            if (it != display_waiters_.end() && it->second.deadline <= now) display_waiters_.erase(it);
            display_deadlines_.pop_front();
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
