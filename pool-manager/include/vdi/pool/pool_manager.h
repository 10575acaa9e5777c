// vdi-pool-manager: keeps every pool the way its admin configured it. All state is in
// PostgreSQL; any number of pool managers may run (a pool is reconciled under a row lock taken
// with SKIP LOCKED, jobs are claimed the same way), and killing one loses nothing.
//
// One pass (run_once) does, in order:
//   1. hosts whose heartbeat is older than heartbeat_timeout are marked lost, their desktops
//      lost and their sessions ended (audited);
//   2. session policies: disconnected, idle and maximum-length limits end sessions, which are
//      refreshed per the pool's policy;
//   3. each pool: failed and lost desktops are retired (an in-use one ends its session first);
//      an image whose desktops keep failing stops provisioning with a visible pool error; spare
//      desktops are topped up to min_ready (plus recent demand) within max_size, placed on the
//      least-loaded host with capacity and a free provisioning slot; spares above that which
//      stayed unassigned past the grace period are trimmed;
//   4. cron schedules create refresh jobs (one per tick; a missed window runs once);
//   5. jobs advance: unassigned desktops refresh at once, in-use ones when their session ends
//      or, with a warning shown to the session first, at the job's deadline.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <pqxx/pqxx>

#include "vdi/common/clock.h"
#include "vdi/pool/cron.h"
#include "vdi/pool/pool_manager_config.h"

namespace vdi::pool {

struct PassReport {
    int hosts_lost = 0;
    int sessions_ended = 0;
    int desktops_created = 0;
    int desktops_retired = 0;
    int desktops_trimmed = 0;
    int jobs_created = 0;
    int desktops_refreshed = 0;
};

class PoolManager {
public:
    PoolManager(PoolManagerConfig config, const Clock& clock);
    ~PoolManager();

    // One reconciliation pass over everything (see above). Database errors propagate.
    PassReport run_once();
    // Passes until request_stop(): woken by NOTIFY (desktops, pools, jobs) or the interval;
    // reconnects after database outages.
    void run();
    void request_stop() { stop_ = true; }

    // Connects to the broker's demand notices: pool -> connects answered "none ready".
    void add_demand(long long pool_id, int count);

private:
    void connect();
    int lose_silent_hosts(pqxx::work& tx);
    int enforce_session_policies(pqxx::work& tx);
    void reconcile_pool(long long pool_id, PassReport& report);
    int schedule_jobs(pqxx::work& tx);
    void advance_jobs(PassReport& report);

    PoolManagerConfig config_;
    const Clock& clock_;
    std::unique_ptr<pqxx::connection> db_;
    struct Listeners;
    std::unique_ptr<Listeners> listeners_;
    std::atomic<bool> stop_{false};
    std::mutex demand_mutex_;  // guards demand_
    std::map<long long, int> demand_;
};

}  // namespace vdi::pool
