// LISTEN on a channel for as long as the object lives; each notification's payload goes to a
// callback, called from the connection's get_notifs() / await_notification() on its thread.
#pragma once

#include <functional>
#include <string>
#include <utility>

#include <pqxx/pqxx>

namespace vdi::db {

class Listener : public pqxx::notification_receiver {
public:
    Listener(pqxx::connection_base& connection, const std::string& channel,
             std::function<void(const std::string&)> on_payload)
        : pqxx::notification_receiver(connection, channel), on_payload_(std::move(on_payload))
    {
    }
    void operator()(const std::string& payload, int) override { on_payload_(payload); }

private:
    std::function<void(const std::string&)> on_payload_;
};

}  // namespace vdi::db
