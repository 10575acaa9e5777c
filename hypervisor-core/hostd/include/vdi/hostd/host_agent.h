// vdi-hostd's core: registers this host, heartbeats, and reconciles the desktops placed on it
// with the vdi-vmm processes that run them.
//
// For each desktop on this host whose desired state is `running` at generation G, exactly one
// VMM runs a clone of the pool's golden image made for G; for every other desktop none runs.
// The agent wakes on NOTIFY vdi_desktops, on a VMM exiting, and every `resync` interval. It
// records what it sees (actual state and generation, VMM pid, errors, guest readiness) through
// the fenced DesktopRepository calls, so a report about an old generation changes nothing.
// A VMM that dies is reported `failed` with the reason and is not restarted at the same
// generation (a refresh, i.e. a new generation, replaces it). VMMs outlive the agent; a new
// agent adopts them from their records.
//
// Threads: run() on one thread; request_stop() from any. The heartbeat has its own thread and
// connection. Errors: vdi::Error (exceptions) for set-up; reconcile errors are logged and the
// loop goes on (a PostgreSQL restart is survived by reconnecting).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <pqxx/connection>

#include "vdi/common/unique_fd.h"
#include "vdi/hostd/hostd_config.h"
#include "vdi/hostd/vmm_process.h"

namespace vdi::hostd {

class HostAgent {
public:
    // `config` as load_hostd_config() makes it (name, capacity and paths filled in).
    explicit HostAgent(HostdConfig config);
    ~HostAgent();
    HostAgent(const HostAgent&) = delete;
    HostAgent& operator=(const HostAgent&) = delete;

    // Registers the host, adopts surviving VMMs, then reconciles until request_stop(). VMMs are
    // left running when it returns.
    void run();
    void request_stop();
    std::int64_t host_id() const { return host_id_; }

private:
    void connect();
    void adopt_survivors();
    void reconcile();
    void reap_exited();
    // Display tickets from brokers: NOTIFY 'vdi_tickets_<host id>' carries the plaintext; the
    // agent checks it against the stored hash, hands it to the desktop's VMM and records the
    // outcome, which the waiting broker hears on 'vdi_ticket_acks'.
    void listen_for_tickets();
    void deliver_tickets();
    // Logon timing: what each desktop's display server saw of the client that came with a
    // delivered ticket (control command display_events), passed on to the broker that issued the
    // ticket (TicketRepository::report_display_stages). Polled while tickets wait for clients.
    void collect_display_stages();
    // The same, now, if a ticket of `desktop_id` waits for its client (before its VMM is stopped).
    void collect_display_stages_of(std::int64_t desktop_id);
    struct AwaitedClient {
        std::int64_t desktop_id;
        std::chrono::steady_clock::time_point deadline;  // the ticket's expiry and a margin
    };
    std::map<std::int64_t, AwaitedClient> awaiting_display_;  // by ticket id
    // Sessions follow their desktops' use: keyboard or mouse input refreshes last_activity_at
    // (which idle limits count from), and an active session whose desktop has had no display
    // client for client_grace becomes disconnected; a session's warning (a refresh deadline) is
    // shown on its desktop's screen (the agent channel's "notice"). At most once per resync period.
    void report_activity();
    std::chrono::steady_clock::time_point next_activity_report_{};
    // the notice each desktop's clone (desktop, generation) shows its user, as last sent
    std::map<std::pair<std::int64_t, std::int64_t>, std::string> notices_;
    void heartbeat_loop();
    bool wait_for_work(std::chrono::milliseconds timeout);

    HostdConfig config_;
    std::unique_ptr<pqxx::connection> db_;
    std::int64_t host_id_ = 0;
    std::map<std::int64_t, std::unique_ptr<VmmProcess>> vmms_;  // by desktop id
    std::set<std::pair<std::int64_t, std::int64_t>> failed_;    // (desktop, generation) not to retry
    std::set<std::int64_t> awaiting_ready_;
    std::filesystem::path rdp_certificate_;
    std::filesystem::path rdp_private_key_;                     // desktops whose guest has not said ready
    std::atomic<bool> stop_{false};
    UniqueFd wake_read_;  // request_stop() writes to wake_write_ to end a wait in the main loop
    UniqueFd wake_write_;
    std::thread heartbeat_;
};

}  // namespace vdi::hostd
