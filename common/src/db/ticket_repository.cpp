// SQL for one-time display tickets.
#include "vdi/common/db/ticket_repository.h"

namespace vdi::db {
namespace {

constexpr const char* ticket_columns = "id, session_id, desktop_id, protocol, created_at, expires_at, used_at, delivered_at, delivery_error";

DisplayTicket ticket_from_row(const pqxx::row& row)
{
    DisplayTicket t;
    t.id = get<Id>(row, "id");
    t.session_id = get<Id>(row, "session_id");
    t.desktop_id = get<Id>(row, "desktop_id");
    t.protocol = enum_from_string<DisplayProtocol>(get<std::string>(row, "protocol"));
    t.created_at = get_time(row, "created_at");
    t.expires_at = get_time(row, "expires_at");
    t.used_at = get_optional_time(row, "used_at");
    t.delivered_at = get_optional_time(row, "delivered_at");
    t.delivery_error = get_optional<std::string>(row, "delivery_error");
    return t;
}

}  // namespace

DisplayTicket TicketRepository::issue(Id session_id, Id desktop_id, DisplayProtocol protocol,
                                      const std::string& ticket_hash_hex, std::chrono::seconds ttl)
{
    return ticket_from_row(tx_.exec_params1(
        std::string("INSERT INTO display_tickets (session_id, desktop_id, protocol, ticket_hash, expires_at) "
                    "VALUES ($1, $2, $3::display_protocol, decode($4, 'hex'), now() + $5 * interval '1 second') "
                    "RETURNING ") + ticket_columns,
        session_id, desktop_id, to_string(protocol), ticket_hash_hex, static_cast<std::int64_t>(ttl.count())));
}

std::optional<DisplayTicket> TicketRepository::consume(const std::string& ticket_hash_hex)
{
    return first_row(tx_.exec_params(std::string("UPDATE display_tickets SET used_at = clock_timestamp() "
                                                 "WHERE ticket_hash = decode($1, 'hex') AND used_at IS NULL "
                                                 "AND expires_at > clock_timestamp() RETURNING ") +
                                         ticket_columns,
                                     ticket_hash_hex),
                     ticket_from_row);
}

std::optional<DeliverableTicket> TicketRepository::find_for_delivery(Id id, const std::string& ticket_hash_hex)
{
    return first_row(exec_cached(tx_, "vdi_ticket_for_delivery_with_user",
                                 "SELECT t.id, t.session_id, t.desktop_id, t.protocol, t.created_at, t.expires_at, "
                                 "t.used_at, t.delivered_at, t.delivery_error, u.username "
                                 "FROM display_tickets t JOIN sessions s ON s.id = t.session_id "
                                 "JOIN users u ON u.id = s.user_id "
                                 "WHERE t.id = $1 AND t.ticket_hash = decode($2, 'hex') "
                                 "AND t.used_at IS NULL AND t.delivered_at IS NULL AND t.delivery_error IS NULL "
                                 "AND t.expires_at > now()",
                                 id, ticket_hash_hex),
                     [](const pqxx::row& row) {
                         DeliverableTicket t;
                         static_cast<DisplayTicket&>(t) = ticket_from_row(row);
                         t.username = get<std::string>(row, "username");
                         return t;
                     });
}

bool TicketRepository::record_delivery(Id id, const std::optional<std::string>& error, const std::string& host_stages)
{
    // one statement: the outcome, and (only if it was recorded now) the notice the waiting
    // broker hears at commit
    return !exec_cached(tx_, "vdi_ticket_record_delivery", "WITH u AS (UPDATE display_tickets SET delivered_at = CASE WHEN $2::text IS NULL "
                            "THEN now() END, delivery_error = $2 WHERE id = $1 AND delivered_at IS NULL "
                            "AND delivery_error IS NULL RETURNING id) "
                            "SELECT pg_notify('vdi_ticket_acks', json_build_object('ticket_id', u.id, 'ok', "
                            "$2::text IS NULL, 'error', $2::text, 'host', $3::json)::text) FROM u",
                            id, error, host_stages)
                .empty();
}

void TicketRepository::report_display_stages(Id id, const std::string& display_stages)
{
    exec_cached(tx_, "vdi_ticket_report_display",
                "SELECT pg_notify('vdi_ticket_acks', json_build_object('ticket_id', id, 'display', $2::json)::text) "
                "FROM display_tickets WHERE id = $1 AND delivered_at IS NOT NULL",
                id, display_stages);
}

int TicketRepository::purge_expired(std::chrono::seconds keep)
{
    return static_cast<int>(tx_.exec_params("DELETE FROM display_tickets WHERE expires_at < now() - $1 * interval "
                                            "'1 second'",
                                            static_cast<std::int64_t>(keep.count()))
                                .affected_rows());
}

}  // namespace vdi::db
