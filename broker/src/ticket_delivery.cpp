// The broker's listener for display-ticket acknowledgements.
#include "vdi/broker/ticket_delivery.h"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "vdi/common/db/database.h"
#include "vdi/common/db/listener.h"

namespace vdi::broker {
TicketDelivery::TicketDelivery(std::string dsn) : dsn_(std::move(dsn))
{
    thread_ = std::thread([this] { listen_loop(); });
}

TicketDelivery::~TicketDelivery()
{
    stop_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
}

void TicketDelivery::expect(std::int64_t ticket_id)
{
    std::lock_guard lock(mutex_);
    pending_[ticket_id] = std::nullopt;
}

void TicketDelivery::forget(std::int64_t ticket_id)
{
    std::lock_guard lock(mutex_);
    pending_.erase(ticket_id);
}

std::optional<TicketAck> TicketDelivery::wait(std::int64_t ticket_id, std::chrono::milliseconds timeout)
{
    std::unique_lock lock(mutex_);
    arrived_.wait_for(lock, timeout, [&] {
        const auto it = pending_.find(ticket_id);
        return it == pending_.end() || it->second.has_value();
    });
    std::optional<TicketAck> ack;
    if (const auto it = pending_.find(ticket_id); it != pending_.end()) {
        ack = it->second;
        pending_.erase(it);
    }
    return ack;
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
    {
        std::lock_guard lock(mutex_);
        const auto it = pending_.find(id);
        if (it == pending_.end()) {
            return;  // another replica's ticket, or one that timed out
        }
        it->second = ack;
    }
    arrived_.notify_all();
}

void TicketDelivery::listen_loop()
{
    while (!stop_) {
        try {
            auto connection = db::connect(dsn_, "vdi-broker-tickets", 3);
            db::Listener acks(*connection, "vdi_ticket_acks", [this](const std::string& payload) { deliver(payload); });
            listening_ = true;
            while (!stop_) {
                connection->await_notification(0, 200'000);  // wakes at least every 200 ms to see stop_
            }
        } catch (const std::exception& e) {
            if (listening_.exchange(false)) {
                spdlog::warn("broker.tickets lost the database connection ({}); reconnecting", e.what());
            }
            for (int i = 0; i < 10 && !stop_; ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
        }
    }
    listening_ = false;
}

}  // namespace vdi::broker
