// Waiting for host agents to acknowledge display tickets.
//
// The broker sends a ticket's plaintext to the desktop's host agent with NOTIFY on
// 'vdi_tickets_<host id>' in the transaction that issues it (so it is sent exactly when the
// ticket exists, and is never stored). The agent checks it against the stored hash, hands it
// to the VMM and answers on 'vdi_ticket_acks'. One listener thread per broker process receives
// every acknowledgement and wakes the request waiting for that ticket; acknowledgements for
// tickets of other replicas are ignored. The listener reconnects by itself after a database
// outage (tickets issued meanwhile time out, and the client gets a 503 to retry).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace vdi::broker {

struct TicketAck {
    bool ok = false;
    std::string error;
};

class TicketDelivery {
public:
    explicit TicketDelivery(std::string dsn);
    ~TicketDelivery();
    TicketDelivery(const TicketDelivery&) = delete;
    TicketDelivery& operator=(const TicketDelivery&) = delete;

    // Register interest before the issuing transaction commits (an ack can be very quick).
    void expect(std::int64_t ticket_id);
    // Waits for the ack of an expected ticket; nullopt on timeout. Forgets the ticket either way.
    std::optional<TicketAck> wait(std::int64_t ticket_id, std::chrono::milliseconds timeout);
    void forget(std::int64_t ticket_id);
    // True while the listener holds a live LISTEN connection.
    bool listening() const { return listening_.load(); }

    // Called by the listener (and tests) with a payload from 'vdi_ticket_acks'.
    void deliver(const std::string& payload);

private:
    void listen_loop();

    std::string dsn_;
    std::mutex mutex_;  // guards pending_
    std::condition_variable arrived_;
    std::map<std::int64_t, std::optional<TicketAck>> pending_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> listening_{false};
    std::thread thread_;
};

}  // namespace vdi::broker
