// SQL for one-time display tickets.
#include "vdi/common/db/ticket_repository.h"

namespace vdi::db {
namespace {

constexpr const char* ticket_columns = "id, session_id, desktop_id, protocol, created_at, expires_at, used_at";

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

int TicketRepository::purge_expired(std::chrono::seconds keep)
{
    return static_cast<int>(tx_.exec_params("DELETE FROM display_tickets WHERE expires_at < now() - $1 * interval "
                                            "'1 second'",
                                            static_cast<std::int64_t>(keep.count()))
                                .affected_rows());
}

}  // namespace vdi::db
