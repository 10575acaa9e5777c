// Desktops (table desktops): placement, desired/actual state, generations, and assignment.
//
// The generation is a fencing token. Every refresh bumps it; a host agent reports what it runs
// together with the generation it instantiated, and reports for any other generation are
// ignored. A desktop is *ready* (may be handed to a user) only when it runs the current
// generation, its guest said "ready" for that generation, and nobody holds it:
//   desired_state = running AND actual_state = running AND actual_generation = generation
//   AND ready_generation = generation AND assigned_user_id IS NULL AND owner_user_id IS NULL
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vdi/common/db/database.h"
#include "vdi/common/db/enums.h"

namespace vdi::db {

struct Desktop {
    Id id = 0;
    Id pool_id = 0;
    std::string name;
    std::optional<Id> host_id;
    Id golden_image_id = 0;
    DesktopDesiredState desired_state = DesktopDesiredState::running;
    DesktopActualState actual_state = DesktopActualState::pending;
    std::int64_t generation = 1;
    std::optional<std::int64_t> actual_generation;
    std::optional<std::int64_t> ready_generation;
    std::optional<int> vnc_port;
    std::optional<int> rdp_port;
    std::optional<int> vmm_pid;
    std::optional<Id> owner_user_id;
    std::optional<Id> assigned_user_id;
    std::optional<Timestamp> assigned_at;
    std::optional<std::string> error;
    Timestamp created_at;
    Timestamp state_changed_at;
    // desktop_is_ready() of the row as read (the one ready predicate, in SQL)
    bool ready = false;

    bool is_ready() const { return ready; }
};

// Which desktops the admin API lists (every condition given must hold; deleted desktops too).
struct DesktopFilter {
    std::optional<Id> pool_id;
    std::optional<DesktopActualState> actual_state;
};

struct NewDesktop {
    Id pool_id = 0;
    std::string name;
    Id golden_image_id = 0;
    std::optional<Id> host_id;
};

// What a host agent observed about one desktop.
struct ActualReport {
    std::int64_t generation = 0;  // the generation the running clone was made for
    DesktopActualState state = DesktopActualState::running;
    std::optional<int> vnc_port;
    std::optional<int> rdp_port;
    std::optional<int> vmm_pid;
    std::optional<std::string> error;  // reason for failed/lost
};

struct PoolDesktopCounts {
    int total = 0;         // not deleted
    int ready = 0;
    int in_use = 0;        // assigned (floating) or owned (dedicated)
    int provisioning = 0;  // wanted running, not running the current generation yet
    int failed = 0;
};

// Per pool, the desktops ready to hand out and those assigned (the broker's /metrics gauges).
struct PoolDesktopGauges {
    std::string pool;  // name
    long ready = 0;
    long in_use = 0;   // assigned to a user now
};

// The "ready" condition above as SQL over a desktops row aliased `d` (the SQL function
// desktop_is_ready(d), sql/0005), for queries elsewhere (counts, metrics) that must agree with it.
const char* ready_desktop_sql();

// The part of "ready" that is about the clone, not about who holds it: the desktop runs its
// current generation and its guest said ready for it. SQL over a desktops row aliased `d`
// (desktop_is_up_to_date(d), never NULL).
const char* up_to_date_desktop_sql();

// Failed desktops of one image in a pool (pool manager: an image that keeps failing).
struct RecentFailures {
    int count = 0;
    std::optional<std::string> an_error;  // the greatest of their errors (max(error))
};

// The pool's desktops that are wanted running (pool manager: how many spares to add or trim).
struct RunningDesktopCounts {
    int total = 0;
    int in_use = 0;           // assigned (floating) or owned (dedicated)
    int waiting_refresh = 0;  // unused, flagged by a running job
};

// A desktop flagged by a job, as the job sees it.
struct JobDesktop {
    Desktop desktop;
    std::optional<Id> live_session_id;  // its session that has not ended
    bool up_to_date = false;            // up_to_date_desktop_sql()
};

class DesktopRepository {
public:
    explicit DesktopRepository(pqxx::transaction_base& tx) : tx_(tx) {}

    Desktop create(const NewDesktop& desktop);
    std::optional<Desktop> find(Id id);
    // The desktops matching `filter`, newest (highest id) first, one page.
    std::vector<Desktop> list(const DesktopFilter& filter, const Page& page);
    std::vector<Desktop> list_by_pool(Id pool_id);
    std::vector<Desktop> list_by_host(Id host_id);
    PoolDesktopCounts counts(Id pool_id);

    bool place(Id id, std::optional<Id> host_id);
    bool set_desired_state(Id id, DesktopDesiredState state);
    // Applies a host agent's report if report.generation is the desktop's current generation;
    // false for a stale report (or an unknown desktop), which changes nothing.
    bool report_actual(Id id, const ActualReport& report);
    // The guest of `generation` signalled "desktop ready"; false if stale.
    bool mark_guest_ready(Id id, std::int64_t generation);

    // Floating pools: atomically takes one ready desktop of the pool for the user, or nullopt
    // when none is ready. Concurrent callers never get the same desktop (FOR UPDATE SKIP
    // LOCKED); a user who already holds a desktop in the pool gets ConflictError.
    std::optional<Desktop> claim_floating(Id pool_id, Id user_id);
    // Dedicated pools: the user's own desktop, or else a ready one that becomes theirs for good.
    std::optional<Desktop> claim_dedicated(Id pool_id, Id user_id);
    // Gives a floating desktop back; false unless `user_id` held it. The caller decides whether a
    // refresh (bump_generation) follows, per the pool's refresh policy.
    bool release(Id id, Id user_id);
    // Fenced bump: succeeds only if the desktop is still at `expected_generation`, returning the
    // new generation. The old clone may not be handed out again: it is no longer ready.
    std::optional<std::int64_t> bump_generation(Id id, std::int64_t expected_generation);
    // Every desktop on a lost host is marked lost; returns them.
    std::vector<Desktop> mark_lost_on_host(Id host_id, const std::string& reason);
    // Every pool (by name), with its ready and assigned desktops among those not deleted.
    std::vector<PoolDesktopGauges> gauges_by_pool();

    // The pool manager's reconciliation.
    // Desktops of the pool that failed or were lost and are still wanted (not deleted), by id.
    std::vector<Desktop> list_broken(Id pool_id);
    // The desktop is to be deleted: unassigned and out of any job. False if it does not exist.
    bool retire(Id id);
    // Failed desktops of the pool's `golden_image_id` whose state changed after `since`.
    RecentFailures recent_failures(Id pool_id, Id golden_image_id, Timestamp since);
    RunningDesktopCounts running_counts(Id pool_id);
    // One more than the greatest number N of the pool's desktops named "<anything>-N" (1 if none).
    int next_name_number(Id pool_id);
    // Marks up to `count` of the pool's ready spares (newest first) to be deleted: those outside
    // any job whose state has not changed since `unchanged_before`. Returns how many.
    int trim_spares(Id pool_id, Timestamp unchanged_before, int count);
    // Flags every desktop of the pool that is wanted running for the job; returns how many.
    int flag_for_job(Id pool_id, Id job_id);
    // Unflags the job's desktops (cancelled or failed job); returns how many.
    int unflag_job(Id job_id);
    // A refreshed desktop leaves its job and runs `golden_image_id` from now on.
    bool finish_refresh(Id id, Id golden_image_id);
    // The job's desktops, by id.
    std::vector<JobDesktop> list_for_job(Id job_id);
    int count_for_job(Id job_id);

private:
    pqxx::transaction_base& tx_;
};

}  // namespace vdi::db
