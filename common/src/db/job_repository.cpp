// SQL for refresh and image-push jobs.
#include "vdi/common/db/job_repository.h"

namespace vdi::db {
namespace {

constexpr const char* job_columns =
    "j.id, j.type, j.pool_id, j.target_image_id, j.state, j.run_at, j.scheduled_for, j.force_after, j.progress_done, "
    "j.progress_total, j.cancel_requested, j.error, j.created_by, j.claimed_by, j.created_at, j.started_at, "
    "j.finished_at";

Job job_from_row(const pqxx::row& row)
{
    Job j;
    j.id = get<Id>(row, "id");
    j.type = enum_from_string<JobType>(get<std::string>(row, "type"));
    j.pool_id = get<Id>(row, "pool_id");
    j.target_image_id = get_optional<Id>(row, "target_image_id");
    j.state = enum_from_string<JobState>(get<std::string>(row, "state"));
    j.run_at = get_time(row, "run_at");
    j.scheduled_for = get_optional_time(row, "scheduled_for");
    j.force_after = get_optional_time(row, "force_after");
    j.progress_done = get<int>(row, "progress_done");
    j.progress_total = get<int>(row, "progress_total");
    j.cancel_requested = get<bool>(row, "cancel_requested");
    j.error = get_optional<std::string>(row, "error");
    j.created_by = get_optional<Id>(row, "created_by");
    j.claimed_by = get_optional<std::string>(row, "claimed_by");
    j.created_at = get_time(row, "created_at");
    j.started_at = get_optional_time(row, "started_at");
    j.finished_at = get_optional_time(row, "finished_at");
    return j;
}

std::optional<std::string> optional_time(const std::optional<Timestamp>& t)
{
    return t ? std::optional<std::string>(to_sql(*t)) : std::nullopt;
}

constexpr const char* insert_job =
    "INSERT INTO jobs AS j (type, pool_id, target_image_id, run_at, scheduled_for, force_after, created_by) "
    "VALUES ($1::job_type, $2, $3, coalesce($4::timestamptz, now()), $5::timestamptz, $6::timestamptz, $7) ";

}  // namespace

Job JobRepository::enqueue(const NewJob& job)
{
    return job_from_row(tx_.exec_params1(std::string(insert_job) + "RETURNING " + job_columns, to_string(job.type),
                                         job.pool_id, job.target_image_id, optional_time(job.run_at),
                                         optional_time(job.scheduled_for), optional_time(job.force_after),
                                         job.created_by));
}

std::optional<Job> JobRepository::enqueue_scheduled(const NewJob& job)
{
    return first_row(tx_.exec_params(std::string(insert_job) +
                                         "ON CONFLICT (pool_id, type, scheduled_for) WHERE scheduled_for IS NOT NULL "
                                         "DO NOTHING RETURNING " +
                                         job_columns,
                                     to_string(job.type), job.pool_id, job.target_image_id, optional_time(job.run_at),
                                     optional_time(job.scheduled_for), optional_time(job.force_after),
                                     job.created_by),
                     job_from_row);
}

std::optional<Job> JobRepository::claim_due(const std::string& worker)
{
    return first_row(tx_.exec_params(std::string("UPDATE jobs AS j SET state = 'running', claimed_by = $1, "
                                                 "started_at = coalesce(j.started_at, now()), updated_at = now() "
                                                 "WHERE j.id = (SELECT id FROM jobs WHERE state = 'queued' "
                                                 "AND run_at <= now() ORDER BY run_at, id LIMIT 1 "
                                                 "FOR UPDATE SKIP LOCKED) RETURNING ") +
                                         job_columns,
                                     worker),
                     job_from_row);
}

std::optional<Job> JobRepository::find(Id id)
{
    return first_row(tx_.exec_params(std::string("SELECT ") + job_columns + " FROM jobs j WHERE j.id = $1", id),
                     job_from_row);
}

std::vector<Job> JobRepository::list_for_pool(Id pool_id, int limit)
{
    return map_rows(tx_.exec_params(std::string("SELECT ") + job_columns +
                                        " FROM jobs j WHERE j.pool_id = $1 ORDER BY j.created_at DESC, j.id DESC "
                                        "LIMIT $2",
                                    pool_id, limit),
                    job_from_row);
}

std::vector<Job> JobRepository::list_recent(int limit)
{
    return map_rows(tx_.exec_params(std::string("SELECT ") + job_columns +
                                        " FROM jobs j ORDER BY j.created_at DESC, j.id DESC LIMIT $1",
                                    limit),
                    job_from_row);
}

std::vector<Job> JobRepository::list(const JobFilter& filter, const Page& page)
{
    std::optional<std::string> state;
    if (filter.state) state = to_string(*filter.state);
    return map_rows(tx_.exec_params(std::string("SELECT ") + job_columns +
                                        " FROM jobs j WHERE ($1::bigint IS NULL OR j.pool_id = $1) "
                                        "AND ($2::job_state IS NULL OR j.state = $2::job_state) "
                                        "AND ($3::bigint IS NULL OR j.id < $3) ORDER BY j.id DESC LIMIT $4",
                                    filter.pool_id, state, page.before, page.limit),
                    job_from_row);
}

std::optional<Timestamp> JobRepository::last_scheduled_tick(Id pool_id, JobType type)
{
    const auto row = tx_.exec_params1("SELECT max(scheduled_for) AS tick FROM jobs WHERE pool_id = $1 "
                                      "AND type = $2::job_type",
                                      pool_id, to_string(type));
    return get_optional_time(row, "tick");
}

bool JobRepository::update_progress(Id id, int done, int total)
{
    return tx_.exec_params("UPDATE jobs SET progress_done = $2, progress_total = $3, updated_at = now() "
                           "WHERE id = $1 AND state = 'running'",
                           id, done, total)
               .affected_rows() == 1;
}

bool JobRepository::finish(Id id, JobState state, const std::optional<std::string>& error)
{
    if (state != JobState::succeeded && state != JobState::failed && state != JobState::cancelled) {
        throw Error("a job can only finish as succeeded, failed or cancelled");
    }
    return tx_.exec_params("UPDATE jobs SET state = $2::job_state, error = $3, finished_at = now(), "
                           "updated_at = now() WHERE id = $1 AND state = 'running'",
                           id, to_string(state), error)
               .affected_rows() == 1;
}

bool JobRepository::request_cancel(Id id)
{
    return tx_.exec_params("UPDATE jobs SET cancel_requested = true, updated_at = now(), "
                           "state = CASE WHEN state = 'queued' THEN 'cancelled'::job_state ELSE state END, "
                           "finished_at = CASE WHEN state = 'queued' THEN now() ELSE finished_at END "
                           "WHERE id = $1 AND state IN ('queued', 'running')",
                           id)
               .affected_rows() == 1;
}

int JobRepository::requeue_claimed_by(const std::string& worker)
{
    return static_cast<int>(tx_.exec_params("UPDATE jobs SET state = 'queued', claimed_by = NULL, updated_at = now() "
                                            "WHERE state = 'running' AND claimed_by = $1",
                                            worker)
                                .affected_rows());
}

std::vector<Id> JobRepository::list_running_ids()
{
    return map_rows(tx_.exec("SELECT id FROM jobs WHERE state = 'running' ORDER BY id"),
                    [](const pqxx::row& row) { return get<Id>(row, "id"); });
}

bool JobRepository::try_lock_running(Id id)
{
    return !tx_.exec_params("SELECT id FROM jobs WHERE id = $1 AND state = 'running' FOR UPDATE SKIP LOCKED", id).empty();
}

}  // namespace vdi::db
