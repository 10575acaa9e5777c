// Hypervisor hosts (table hosts): registration by host agents, heartbeats, loss detection.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "vdi/common/db/database.h"
#include "vdi/common/db/enums.h"

namespace vdi::db {

struct Host {
    Id id = 0;
    std::string name;
    std::string address;
    int vcpus_total = 0;
    std::int64_t memory_mib_total = 0;
    int max_concurrent_ops = 4;
    HostState state = HostState::online;
    bool drained = false;  // an admin's: no new desktops placed here (kept across restarts and loss)
    std::string agent_version;
    Timestamp registered_at;
    Timestamp last_heartbeat_at;
};

// A host as the admin API lists it: with how many desktops are placed on it (not deleted).
struct HostSummary : Host {
    std::int64_t desktops = 0;
};

struct HostRegistration {
    std::string name;
    std::string address;
    int vcpus_total = 0;
    std::int64_t memory_mib_total = 0;
    int max_concurrent_ops = 4;
    std::string agent_version;
};

class HostRepository {
public:
    explicit HostRepository(pqxx::transaction_base& tx) : tx_(tx) {}

    // Creates the host or updates it (by name) and marks it online with a fresh heartbeat: an
    // agent restarting on the same machine keeps its host id and its desktops.
    Host register_host(const HostRegistration& registration);
    // Records a heartbeat; false if the host is unknown. A lost host that beats again comes back
    // online (its desktops were already replaced; the agent reconciles them away).
    bool heartbeat(Id id);
    std::optional<Host> find(Id id);
    std::optional<Host> find_by_name(const std::string& name);
    std::vector<Host> list();
    // Every host with its desktop count, newest first.
    std::vector<HostSummary> list_summaries();
    bool set_state(Id id, HostState state);
    // Drains a host (no new desktops placed on it) or ends its drain. False if there is none.
    bool set_drained(Id id, bool drained);
    // Marks every online/draining host whose last heartbeat is older than `max_age` as lost,
    // returning them. Uses the database clock, so hosts and pool managers need no clock agreement.
    std::vector<Host> mark_stale_lost(std::chrono::milliseconds max_age);

    // The pool manager's loss detection, on its clock: every online host whose last heartbeat is
    // older than `heartbeat_before` is marked lost; returns them.
    std::vector<Host> mark_silent_lost(Timestamp heartbeat_before);
    // Where a new desktop of `vcpus` and `memory_mib` goes: the online host that beat after
    // `heartbeat_after`, has room for it (vCPUs overcommitted `vcpu_overcommit` times, memory
    // not) and a free provisioning slot (fewer than max_concurrent_ops of its desktops are not
    // up to date yet), least used memory first. nullopt when no host qualifies.
    std::optional<Id> place_new_desktop(Timestamp heartbeat_after, int vcpus, int memory_mib, int vcpu_overcommit);

private:
    pqxx::transaction_base& tx_;
};

}  // namespace vdi::db
