// One-time display tickets (table display_tickets). Only a ticket's SHA-256 is stored; the
// plaintext travels to the host agent and the client and nowhere else.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "vdi/common/db/database.h"
#include "vdi/common/db/enums.h"

namespace vdi::db {

struct DisplayTicket {
    Id id = 0;
    Id session_id = 0;
    Id desktop_id = 0;
    DisplayProtocol protocol = DisplayProtocol::vnc;
    Timestamp created_at;
    Timestamp expires_at;
    std::optional<Timestamp> used_at;
    std::optional<Timestamp> delivered_at;      // the host agent handed it to the VMM
    std::optional<std::string> delivery_error;  // or could not, and why
};

// A ticket a host agent may hand to its VMM, with the name of the session's user (the agent
// tells the desktop who is about to connect before the ticket lets them in).
struct DeliverableTicket : DisplayTicket {
    std::string username;
};

class TicketRepository {
public:
    explicit TicketRepository(pqxx::transaction_base& tx) : tx_(tx) {}

    // `ticket_hash_hex`: sha256_hex() of the plaintext ticket.
    DisplayTicket issue(Id session_id, Id desktop_id, DisplayProtocol protocol, const std::string& ticket_hash_hex,
                        std::chrono::seconds ttl);
    // Burns the ticket if it is unused and unexpired and returns it; nullopt otherwise (unknown,
    // used or expired alike). Two racing consumers: exactly one wins.
    std::optional<DisplayTicket> consume(const std::string& ticket_hash_hex);
    // Host agents: the ticket `id` and its session's user if `ticket_hash_hex` is its hash and it
    // is still deliverable (unused, undelivered, unexpired); nullopt otherwise. Not locked:
    // record_delivery() records only the first outcome, so the two can run as separate statements.
    std::optional<DeliverableTicket> find_for_delivery(Id id, const std::string& ticket_hash_hex);
    // Records that the ticket reached its VMM (error empty) or could not, and notifies
    // 'vdi_ticket_acks' at commit, with `host_stages` (the agent's logon stages, a JSON array of
    // [stage, start_us, duration_us]) in the notice. False if an outcome was already recorded.
    bool record_delivery(Id id, const std::optional<std::string>& error, const std::string& host_stages = "[]");
    // What the desktop's display server saw of the client that used ticket `id` (its logon
    // stages, a JSON array like host_stages), to the broker that issued it, on 'vdi_ticket_acks'
    // as {"ticket_id", "display"}: that broker stores them with its trace. Only for a ticket
    // that was delivered.
    void report_display_stages(Id id, const std::string& display_stages);
    // Deletes tickets that expired more than `keep` ago; returns how many.
    int purge_expired(std::chrono::seconds keep);

private:
    pqxx::transaction_base& tx_;
};

}  // namespace vdi::db
