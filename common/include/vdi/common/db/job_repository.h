// Jobs (table jobs): pool refreshes and image pushes, queued by admins or cron schedules and
// claimed by pool managers with FOR UPDATE SKIP LOCKED, so any number of pool managers can run.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vdi/common/db/database.h"
#include "vdi/common/db/enums.h"

namespace vdi::db {

struct Job {
    Id id = 0;
    JobType type = JobType::refresh_pool;
    Id pool_id = 0;
    std::optional<Id> target_image_id;
    JobState state = JobState::queued;
    Timestamp run_at;
    std::optional<Timestamp> scheduled_for;
    std::optional<Timestamp> force_after;
    int progress_done = 0;
    int progress_total = 0;
    bool cancel_requested = false;
    std::optional<std::string> error;
    std::optional<Id> created_by;
    std::optional<std::string> claimed_by;
    Timestamp created_at;
    std::optional<Timestamp> started_at;
    std::optional<Timestamp> finished_at;
};

struct NewJob {
    JobType type = JobType::refresh_pool;
    Id pool_id = 0;
    std::optional<Id> target_image_id;           // required for image_push
    std::optional<Timestamp> run_at;             // default: now
    std::optional<Timestamp> scheduled_for;      // the cron tick, for scheduled jobs
    std::optional<Timestamp> force_after;
    std::optional<Id> created_by;
};

// Which jobs the admin API lists (every condition given must hold).
struct JobFilter {
    std::optional<Id> pool_id;
    std::optional<JobState> state;
};

class JobRepository {
public:
    explicit JobRepository(pqxx::transaction_base& tx) : tx_(tx) {}

    Job enqueue(const NewJob& job);
    // For cron ticks: creates the job unless one exists for the same pool, type and tick, so
    // several pool managers seeing one tick create one job. nullopt if it existed.
    std::optional<Job> enqueue_scheduled(const NewJob& job);
    // Takes the oldest due queued job (run_at <= now) and marks it running for `worker`.
    // Concurrent claimers never get the same job.
    std::optional<Job> claim_due(const std::string& worker);
    std::optional<Job> find(Id id);
    std::vector<Job> list_for_pool(Id pool_id, int limit = 50);
    std::vector<Job> list_recent(int limit = 50);
    // The jobs matching `filter`, newest (highest id) first, one page.
    std::vector<Job> list(const JobFilter& filter, const Page& page);
    // The newest scheduled_for of the pool's jobs of `type` (where a cron evaluation resumes).
    std::optional<Timestamp> last_scheduled_tick(Id pool_id, JobType type);
    bool update_progress(Id id, int done, int total);
    // Ends a running job: succeeded, failed (with error) or cancelled.
    bool finish(Id id, JobState state, const std::optional<std::string>& error = std::nullopt);
    // Queued jobs are cancelled at once; running ones get cancel_requested for their worker.
    bool request_cancel(Id id);
    // Running jobs whose worker vanished go back to the queue (the worker's name is matched).
    int requeue_claimed_by(const std::string& worker);

    // The pool manager's job runner.
    // Every running job's id, ascending.
    std::vector<Id> list_running_ids();
    // Locks a running job's row for this transaction (FOR UPDATE SKIP LOCKED): false if another
    // transaction holds it or the job is not running.
    bool try_lock_running(Id id);

private:
    pqxx::transaction_base& tx_;
};

}  // namespace vdi::db
