// SQL for hypervisor hosts.
#include "vdi/common/db/host_repository.h"


namespace vdi::db {
namespace {

constexpr const char* host_columns =
    "id, name, address, vcpus_total, memory_mib_total, max_concurrent_ops, state, drained, agent_version, "
    "registered_at, last_heartbeat_at";

Host host_from_row(const pqxx::row& row)
{
    Host host;
    host.id = get<Id>(row, "id");
    host.name = get<std::string>(row, "name");
    host.address = get<std::string>(row, "address");
    host.vcpus_total = get<int>(row, "vcpus_total");
    host.memory_mib_total = get<std::int64_t>(row, "memory_mib_total");
    host.max_concurrent_ops = get<int>(row, "max_concurrent_ops");
    host.state = enum_from_string<HostState>(get<std::string>(row, "state"));
    host.drained = get<bool>(row, "drained");
    host.agent_version = get<std::string>(row, "agent_version");
    host.registered_at = get_time(row, "registered_at");
    host.last_heartbeat_at = get_time(row, "last_heartbeat_at");
    return host;
}

}  // namespace

Host HostRepository::register_host(const HostRegistration& r)
{
    return host_from_row(tx_.exec_params1(
        std::string("INSERT INTO hosts (name, address, vcpus_total, memory_mib_total, max_concurrent_ops, "
                    "agent_version) VALUES ($1, $2, $3, $4, $5, $6) "
                    "ON CONFLICT (name) DO UPDATE SET address = EXCLUDED.address, vcpus_total = EXCLUDED.vcpus_total, "
                    "memory_mib_total = EXCLUDED.memory_mib_total, max_concurrent_ops = EXCLUDED.max_concurrent_ops, "
                    "agent_version = EXCLUDED.agent_version, state = 'online', last_heartbeat_at = now() "
                    "RETURNING ") + host_columns,
        r.name, r.address, r.vcpus_total, r.memory_mib_total, r.max_concurrent_ops, r.agent_version));
}

bool HostRepository::heartbeat(Id id)
{
    return tx_.exec_params("UPDATE hosts SET last_heartbeat_at = now(), "
                           "state = CASE WHEN state = 'lost' THEN 'online'::host_state ELSE state END WHERE id = $1",
                           id)
               .affected_rows() == 1;
}

std::optional<Host> HostRepository::find(Id id)
{
    return first_row(tx_.exec_params(std::string("SELECT ") + host_columns + " FROM hosts WHERE id = $1", id),
                     host_from_row);
}

std::optional<Host> HostRepository::find_by_name(const std::string& name)
{
    return first_row(tx_.exec_params(std::string("SELECT ") + host_columns + " FROM hosts WHERE name = $1", name),
                     host_from_row);
}

std::vector<Host> HostRepository::list()
{
    return map_rows(tx_.exec(std::string("SELECT ") + host_columns + " FROM hosts ORDER BY name"), host_from_row);
}

std::vector<HostSummary> HostRepository::list_summaries()
{
    return map_rows(tx_.exec(std::string("SELECT ") + host_columns +
                             ", (SELECT count(*) FROM desktops d WHERE d.host_id = hosts.id "
                             "AND d.desired_state <> 'deleted') AS desktops FROM hosts ORDER BY id DESC"),
                    [](const pqxx::row& row) {
                        HostSummary summary{host_from_row(row)};
                        summary.desktops = get<std::int64_t>(row, "desktops");
                        return summary;
                    });
}

bool HostRepository::set_state(Id id, HostState state)
{
    return tx_.exec_params("UPDATE hosts SET state = $2::host_state WHERE id = $1", id, to_string(state))
               .affected_rows() == 1;
}

bool HostRepository::set_drained(Id id, bool drained)
{
    return tx_.exec_params("UPDATE hosts SET drained = $2 WHERE id = $1", id, drained).affected_rows() == 1;
}

std::vector<Host> HostRepository::mark_stale_lost(std::chrono::milliseconds max_age)
{
    return map_rows(tx_.exec_params(std::string("UPDATE hosts SET state = 'lost' "
                                                "WHERE state IN ('online', 'draining') "
                                                "AND last_heartbeat_at < now() - $1 * interval '1 millisecond' "
                                                "RETURNING ") + host_columns,
                                    static_cast<std::int64_t>(max_age.count())),
                    host_from_row);
}

std::vector<Host> HostRepository::mark_silent_lost(Timestamp heartbeat_before)
{
    return map_rows(tx_.exec_params(std::string("UPDATE hosts SET state = 'lost' WHERE state = 'online' "
                                                "AND last_heartbeat_at < $1::timestamptz RETURNING ") + host_columns,
                                    to_sql(heartbeat_before)),
                    host_from_row);
}

std::optional<Id> HostRepository::place_new_desktop(Timestamp heartbeat_after, int vcpus, int memory_mib,
                                                    int vcpu_overcommit)
{
    const auto host = tx_.exec_params(
        "SELECT h.id FROM hosts h LEFT JOIN LATERAL ("
                    " SELECT coalesce(sum(i.vcpus), 0) AS vcpus, coalesce(sum(i.memory_mib), 0) AS memory, "
                    // in flight: the host agent has not yet confirmed the current generation
                    // running (a restore under way); a guest still booting to "ready" is not an
                    // operation of the agent's and does not count against max_concurrent_ops
                    " count(*) FILTER (WHERE d.actual_state <> 'running' "
                    "  OR d.actual_generation IS DISTINCT FROM d.generation) AS in_flight "
        " FROM desktops d JOIN golden_images i ON i.id = d.golden_image_id "
        " WHERE d.host_id = h.id AND d.desired_state = 'running') u ON true "
        "WHERE h.state = 'online' AND NOT h.drained AND h.last_heartbeat_at > $1::timestamptz "
        "AND u.vcpus + $2 <= h.vcpus_total * $3 AND u.memory + $4 <= h.memory_mib_total "
        "AND u.in_flight < h.max_concurrent_ops "
        "ORDER BY u.memory::float8 / h.memory_mib_total, u.in_flight, h.id LIMIT 1",
        to_sql(heartbeat_after), vcpus, vcpu_overcommit, memory_mib);
    if (host.empty()) {
        return std::nullopt;
    }
    return host[0][0].as<Id>();
}

}  // namespace vdi::db
