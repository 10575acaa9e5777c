// Desktop pools and entitlements (tables pools, entitlements).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vdi/common/db/database.h"
#include "vdi/common/db/enums.h"

namespace vdi::db {

struct PoolSettings {
    std::string name;
    std::string display_name;
    PoolAssignment assignment = PoolAssignment::floating;
    Id golden_image_id = 0;
    int min_ready = 1;
    int max_size = 10;
    std::vector<DisplayProtocol> protocols{DisplayProtocol::vnc, DisplayProtocol::rdp};
    RefreshPolicy refresh_policy = RefreshPolicy::on_logoff;
    std::optional<std::string> refresh_cron;  // five-field cron expression
    std::optional<int> idle_timeout_s;
    std::optional<int> disconnected_timeout_s;
    std::optional<int> max_session_s;
    bool enabled = true;
};

struct Pool : PoolSettings {
    Id id = 0;
    Timestamp created_at;
    Timestamp updated_at;
};

struct Entitlement {
    Id id = 0;
    Id pool_id = 0;
    std::optional<Id> user_id;
    std::optional<Id> group_id;
};

// A pool as the admin API lists it, with its desktop counts.
struct PoolSummary : Pool {
    std::int64_t desktops = 0;  // not deleted
    std::int64_t ready = 0;     // ready to hand out (ready_desktop_sql())
    std::int64_t in_use = 0;    // assigned to a user
};

// An entitlement with the name of the user or group it is for.
struct NamedEntitlement : Entitlement {
    std::optional<std::string> username;
    std::optional<std::string> group_name;
};

class PoolRepository {
public:
    explicit PoolRepository(pqxx::transaction_base& tx) : tx_(tx) {}

    // ConflictError for a taken name, an unknown image or inconsistent sizes.
    Pool create(const PoolSettings& settings);
    std::optional<Pool> find(Id id);
    std::optional<Pool> find_by_name(const std::string& name);
    std::vector<Pool> list();
    // Every pool with its desktop counts, newest first; one pool with its counts.
    std::vector<PoolSummary> list_summaries();
    std::optional<PoolSummary> find_summary(Id id);
    // Replaces every setting (the name too); false if the pool does not exist.
    bool update(Id id, const PoolSettings& settings);
    bool set_sizing(Id id, int min_ready, int max_size);
    bool set_golden_image(Id id, Id golden_image_id);

    Entitlement entitle_user(Id pool_id, Id user_id);
    Entitlement entitle_group(Id pool_id, Id group_id);
    bool revoke_entitlement(Id entitlement_id);
    std::vector<Entitlement> entitlements_of(Id pool_id);
    // The pool's entitlements with their users' and groups' names, newest first.
    std::vector<NamedEntitlement> named_entitlements_of(Id pool_id);
    // Enabled pools the user may use, directly or through any of their groups.
    std::vector<Pool> entitled_pools(Id user_id);
    bool is_entitled(Id pool_id, Id user_id);
    // The enabled pool `name` if the user is entitled to it (one query for the broker's connect).
    std::optional<Pool> find_entitled(const std::string& name, Id user_id);
    // Deletes the pool with its entitlements and desktop rows; false if there was no such pool.
    // The caller checks first that no desktop is left and no session ran in it.
    bool remove(Id id);

    // The pool manager's reconciliation.
    // Every pool's id, ascending.
    std::vector<Id> list_ids();
    // Enabled pools with a refresh_cron, by id.
    std::vector<Pool> list_refresh_scheduled();
    // Locks the pool's row for this transaction (FOR UPDATE SKIP LOCKED): false if another
    // transaction holds it (or the pool does not exist), so one pool manager works on a pool.
    bool try_lock(Id id);
    // The pool's provisioning error (set when an image keeps failing), nullopt when there is none.
    std::optional<std::string> provisioning_error(Id id);
    bool set_provisioning_error(Id id, const std::string& error);
    // An image push: the pool moves to `golden_image_id` and its provisioning error is cleared.
    bool switch_image(Id id, Id golden_image_id);

private:
    pqxx::transaction_base& tx_;
};

}  // namespace vdi::db
