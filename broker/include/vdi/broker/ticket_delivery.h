// Waiting for host agents to acknowledge display tickets.
//
// The broker sends a ticket's plaintext to the desktop's host agent with NOTIFY on
// 'vdi_tickets_<host id>' in the statement that issues it (so it is sent exactly when the
// ticket exists, and is never stored). The agent checks it against the stored hash, hands it
// to the VMM and answers on 'vdi_ticket_acks'. One listener thread per broker process receives
// every acknowledgement and calls the handler registered for that ticket; no request thread
// waits. An acknowledgement can arrive before its handler is registered (the NOTIFY leaves at
// commit), so each one is held for `keep`; those of other replicas' tickets just expire. The
// listener reconnects by itself after a database outage (tickets issued meanwhile time out, and
// the client gets a 503 to retry).
//
// The same channel later carries the display server's logon stages of the client that used a
// ticket ({"ticket_id", "display"}, docs/logon-timing.md): they go to the handler on_display()
// registered for it, on the replica that served the connect; the others have none and ignore them.
//
// Threads: on_ack() from any thread; handlers run on the listener thread (or on the caller's,
// when the ack was already there); deliver() and expire() from the listener (or a test).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>
#include <thread>
#include <unordered_map>
#include <utility>

#include "vdi/common/db/logon_timing_repository.h"

namespace vdi::broker {

struct TicketAck {
    bool ok = false;
    std::string error;
    // the host agent's stages of the delivery, on its clock (logon timing; empty when it sent none)
    std::vector<db::LogonStage> host_stages;
};

class TicketDelivery {
public:
    using Clock = std::chrono::steady_clock;
    // Gets the ack, or nullopt when none came in time. Must be quick and must not throw.
    using AckHandler = std::function<void(std::optional<TicketAck>)>;
    // Gets the display server's stages of the ticket's client. Quick, never throws.
    using DisplayHandler = std::function<void(std::vector<db::LogonStage>)>;

    // Listens on `dsn`; with an empty dsn it does not listen, and deliver()/expire() are fed by
    // the caller.
    explicit TicketDelivery(std::string dsn, std::chrono::milliseconds keep = std::chrono::seconds(10));
    ~TicketDelivery();
    TicketDelivery(const TicketDelivery&) = delete;
    TicketDelivery& operator=(const TicketDelivery&) = delete;

    // Calls `handler` exactly once: with the ticket's ack when it arrives (at once if it came
    // already), or with nullopt once `timeout` has passed (checked every 50 ms).
    void on_ack(std::int64_t ticket_id, std::chrono::milliseconds timeout, AckHandler handler);
    // Calls `handler` once if the display's stages of the ticket's client come within `timeout`
    // (a client that never comes: never). Register it once the ticket was acknowledged.
    void on_display(std::int64_t ticket_id, std::chrono::milliseconds timeout, DisplayHandler handler);
    // Stops listening and drops the handlers still waiting, uncalled (at shutdown, while what
    // they hold is still alive).
    void stop();
    // True while the listener holds a live LISTEN connection.
    bool listening() const { return listening_.load(); }
    // Handlers waiting, and acks held for handlers not registered yet.
    std::size_t waiting();
    std::size_t held();
    std::size_t awaiting_display();

    // A payload from 'vdi_ticket_acks' (from the listener, or a test).
    void deliver(const std::string& payload);
    // Calls the handlers whose timeout has passed, and forgets acks held longer than `keep`.
    void expire(Clock::time_point now);

private:
    void listen_loop();

    struct Waiter {
        Clock::time_point deadline;
        AckHandler handler;
    };

    std::string dsn_;
    const std::chrono::milliseconds keep_;
    struct DisplayWaiter {
        Clock::time_point deadline;
        DisplayHandler handler;
    };

    std::mutex mutex_;  // guards waiters_, display_waiters_, display_deadlines_, acks_ and arrivals_
    std::unordered_map<std::int64_t, Waiter> waiters_;
    std::unordered_map<std::int64_t, DisplayWaiter> display_waiters_;
    // (deadline, ticket) in registration order, which is deadline order (one timeout for all)
    std::deque<std::pair<Clock::time_point, std::int64_t>> display_deadlines_;
    // acks that came before their handler
    std::unordered_map<std::int64_t, TicketAck> acks_;
    // (arrival, ticket) in arrival order, to forget acks nobody asked for
    std::deque<std::pair<Clock::time_point, std::int64_t>> arrivals_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> listening_{false};
    std::thread thread_;
};

}  // namespace vdi::broker
