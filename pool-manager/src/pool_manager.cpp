// The pool reconciler and job runner.
#include "vdi/pool/pool_manager.h"

#include <poll.h>

#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vdi/common/db/audit_repository.h"
#include "vdi/common/db/database.h"
#include "vdi/common/db/desktop_repository.h"
#include "vdi/common/db/host_repository.h"
#include "vdi/common/db/image_repository.h"
#include "vdi/common/db/job_repository.h"
#include "vdi/common/db/listener.h"
#include "vdi/common/db/pool_repository.h"
#include "vdi/common/db/session_repository.h"
#include "vdi/common/logging.h"

namespace vdi::pool {
namespace {

std::string timestamp(TimePoint t)
{
    return db::to_sql(t);
}

}  // namespace

// NOTIFY channels that mean "look again": counted; the main loop only needs to wake.
struct PoolManager::Listeners {
    std::atomic<int> wakeups{0};
    std::unique_ptr<db::Listener> desktops, pools, jobs;
};

PoolManager::PoolManager(PoolManagerConfig config, const Clock& clock) : config_(std::move(config)), clock_(clock)
{
}

PoolManager::~PoolManager()
{
    listeners_.reset();
}

void PoolManager::add_demand(long long pool_id, int count)
{
    std::lock_guard lock(demand_mutex_);
    demand_[pool_id] += count;
}

void PoolManager::connect()
{
    listeners_.reset();
    db_ = db::connect(config_.dsn, "vdi-pool-manager@" + config_.name);
    listeners_ = std::make_unique<Listeners>();
    auto& wakeups = listeners_->wakeups;
    const auto wake = [&wakeups](const std::string&) { ++wakeups; };
    listeners_->desktops = std::make_unique<db::Listener>(*db_, "vdi_desktops", wake);
    listeners_->jobs = std::make_unique<db::Listener>(*db_, "vdi_jobs", wake);
    listeners_->pools = std::make_unique<db::Listener>(*db_, "vdi_pools", [this, &wakeups](const std::string& payload) {
        ++wakeups;
        const auto message = nlohmann::json::parse(payload, nullptr, false);
        if (message.is_object() && message.value("event", "") == "demand" && message.contains("pool_id") &&
            message["pool_id"].is_number_integer()) {
            add_demand(message["pool_id"].get<long long>(), 1);
        }
    });
}

namespace {

// Ends a live session (audited with `actor`), gives a floating desktop back, and refreshes it
// when `refresh` (the next user must not see this one's state).
void end_session(pqxx::work& tx, const db::Session& session, const std::string& reason, bool refresh,
                 const std::string& actor)
{
    db::SessionRepository(tx).end(session.id, reason);
    db::DesktopRepository desktops(tx);
    const auto desktop = desktops.find(session.desktop_id);
    bool refreshed = false;
    if (desktop && desktop->assigned_user_id == session.user_id && !desktop->owner_user_id) {
        desktops.release(desktop->id, session.user_id);
        if (refresh) refreshed = desktops.bump_generation(desktop->id, desktop->generation).has_value();
    }
    db::AuditEntry entry;
    entry.actor = actor;
    entry.action = "session.end";
    entry.target_type = "session";
    entry.target_id = std::to_string(session.id);
    entry.details = {{"reason", reason}, {"user_id", session.user_id}, {"desktop_id", session.desktop_id},
                     {"refresh", refreshed}};
    db::AuditRepository(tx).append(entry);
}

db::Session session_from(const pqxx::row& row)
{
    db::Session s;
    s.id = row["id"].as<db::Id>();
    s.user_id = row["user_id"].as<db::Id>();
    s.desktop_id = row["desktop_id"].as<db::Id>();
    s.pool_id = row["pool_id"].as<db::Id>();
    return s;
}

}  // namespace

int PoolManager::lose_silent_hosts(pqxx::work& tx)
{
    const auto now = clock_.now();
    const auto lost = tx.exec_params(
        "UPDATE hosts SET state = 'lost' WHERE state = 'online' AND last_heartbeat_at < $1::timestamptz "
        "RETURNING id, name",
        timestamp(now - config_.heartbeat_timeout));
    const std::string actor = "pool-manager@" + config_.name;
    for (const auto& host : lost) {
        const auto host_id = host["id"].as<db::Id>();
        const std::string reason = fmt::format("host {} stopped sending heartbeats", host["name"].as<std::string>());
        logger("pool")->warn("host lost host={} id={}", host["name"].as<std::string>(), host_id);
        const auto desktops = db::DesktopRepository(tx).mark_lost_on_host(host_id, reason);
        for (const auto& desktop : desktops) {
            if (const auto live = db::SessionRepository(tx).live_for_desktop(desktop.id)) {
                end_session(tx, *live, reason, false, actor);
            }
        }
        db::AuditEntry entry;
        entry.actor = actor;
        entry.action = "host.lost";
        entry.target_type = "host";
        entry.target_id = std::to_string(host_id);
        entry.details = {{"desktops", desktops.size()}};
        db::AuditRepository(tx).append(entry);
    }
    return static_cast<int>(lost.size());
}

int PoolManager::enforce_session_policies(pqxx::work& tx)
{
    const std::string now = timestamp(clock_.now());
    const auto due = tx.exec_params(
        "SELECT s.id, s.user_id, s.desktop_id, s.pool_id, "
        "CASE WHEN p.max_session_s IS NOT NULL AND s.started_at < $1::timestamptz - p.max_session_s * interval '1 second' "
        "       THEN 'maximum session length reached' "
        "     WHEN s.state = 'disconnected' AND p.disconnected_timeout_s IS NOT NULL "
        "       AND s.disconnected_at < $1::timestamptz - p.disconnected_timeout_s * interval '1 second' "
        "       THEN 'disconnected too long' "
        "     ELSE 'idle too long' END AS reason, p.refresh_policy, p.assignment "
        "FROM sessions s JOIN pools p ON p.id = s.pool_id WHERE s.state <> 'ended' AND ("
        " (p.max_session_s IS NOT NULL AND s.started_at < $1::timestamptz - p.max_session_s * interval '1 second') OR"
        " (s.state = 'disconnected' AND p.disconnected_timeout_s IS NOT NULL"
        "   AND s.disconnected_at < $1::timestamptz - p.disconnected_timeout_s * interval '1 second') OR"
        " (s.state = 'active' AND p.idle_timeout_s IS NOT NULL"
        "   AND s.last_activity_at < $1::timestamptz - p.idle_timeout_s * interval '1 second'))"
        "FOR UPDATE OF s SKIP LOCKED",
        now);
    for (const auto& row : due) {
        const bool refresh = row["refresh_policy"].as<std::string>() == "on_logoff";
        end_session(tx, session_from(row), row["reason"].as<std::string>(), refresh, "pool-manager@" + config_.name);
    }
    return static_cast<int>(due.size());
}

void PoolManager::reconcile_pool(long long pool_id, PassReport& report)
{
    const std::string actor = "pool-manager@" + config_.name;
    const auto now = clock_.now();
    int demand = 0;
    {
        std::lock_guard lock(demand_mutex_);
        demand = demand_[pool_id];
    }
    bool used_demand = false;
    db::in_transaction(*db_, "reconcile a pool", [&](pqxx::work& tx) {
        // one pool manager per pool at a time; the others skip it this pass
        if (tx.exec_params("SELECT id FROM pools WHERE id = $1 FOR UPDATE SKIP LOCKED", pool_id).empty()) {
            return;
        }
        auto pool = db::PoolRepository(tx).find(pool_id);
        const auto image = db::ImageRepository(tx).find(pool->golden_image_id);
        db::DesktopRepository desktops(tx);
        db::SessionRepository sessions(tx);

        // 1. failed and lost desktops are retired (a dedicated user's is re-cloned for them)
        for (const auto& row : tx.exec_params(
                 "SELECT id, generation, owner_user_id FROM desktops WHERE pool_id = $1 AND desired_state <> 'deleted' "
                 "AND actual_state IN ('failed', 'lost')",
                 pool_id)) {
            const auto id = row["id"].as<db::Id>();
            if (const auto live = sessions.live_for_desktop(id)) {
                end_session(tx, *live, "the desktop failed", false, actor);
            }
            if (!row["owner_user_id"].is_null()) {
                desktops.bump_generation(id, row["generation"].as<std::int64_t>());
            } else {
                tx.exec_params("UPDATE desktops SET desired_state = 'deleted', assigned_user_id = NULL, "
                               "assigned_at = NULL, refresh_job_id = NULL, updated_at = now() WHERE id = $1",
                               id);
            }
            ++report.desktops_retired;
        }

        // 2. an image that keeps failing stops provisioning, visibly, instead of looping
        const auto failures = tx.exec_params1(
            "SELECT count(*), max(error) FROM desktops WHERE pool_id = $1 AND golden_image_id = $2 "
            "AND actual_state = 'failed' AND state_changed_at > $3::timestamptz",
            pool_id, pool->golden_image_id, timestamp(now - config_.failure_window));
        if (failures[0].as<int>() >= config_.failures_before_stop && tx.exec_params1(
                "SELECT error IS NULL FROM pools WHERE id = $1", pool_id)[0].as<bool>()) {
            const std::string error = fmt::format(
                "provisioning stopped: {} desktops of image {} v{} failed within {} s (last: {}); fix or change the "
                "image, then update the pool",
                failures[0].as<int>(), image ? image->name : "?", image ? image->version : 0,
                config_.failure_window.count(), failures[1].is_null() ? "" : failures[1].as<std::string>());
            tx.exec_params("UPDATE pools SET error = $2, error_at = now() WHERE id = $1", pool_id, error);
            db::AuditEntry entry;
            entry.actor = actor;
            entry.action = "pool.error";
            entry.target_type = "pool";
            entry.target_id = std::to_string(pool_id);
            entry.success = false;
            entry.details = {{"error", error}};
            db::AuditRepository(tx).append(entry);
            logger("pool")->error("pool={} {}", pool->name, error);
        }
        const bool stopped = !tx.exec_params1("SELECT error IS NULL FROM pools WHERE id = $1", pool_id)[0].as<bool>();

        // 3. top up the spares: min_ready (plus recent demand) within max_size
        const auto counts = tx.exec_params1(
            "SELECT count(*) AS total, count(*) FILTER (WHERE assigned_user_id IS NOT NULL OR owner_user_id IS NOT NULL) "
            "AS in_use, count(*) FILTER (WHERE refresh_job_id IS NOT NULL AND assigned_user_id IS NULL "
            "AND owner_user_id IS NULL) AS waiting_refresh FROM desktops WHERE pool_id = $1 AND desired_state = 'running'",
            pool_id);
        const int total = counts["total"].as<int>();
        const int in_use = counts["in_use"].as<int>();
        const int spare = total - in_use;
        // a rolling refresh needs one spare of headroom to keep min_ready available throughout
        const int rollout = counts["waiting_refresh"].as<int>() > 0 ? 1 : 0;
        const int want = pool->enabled ? pool->min_ready + demand + rollout : 0;
        const int need = std::min(want - spare, pool->max_size - total);
        if (need > 0 && !stopped && image && image->state == db::ImageState::ready) {
            int next = tx.exec_params1("SELECT coalesce(max(substring(name from '-(\\d+)$')::int), 0) + 1 FROM desktops "
                                       "WHERE pool_id = $1",
                                       pool_id)[0]
                           .as<int>();
            for (int i = 0; i < need; ++i) {
                // least loaded first, with room for the image and a free provisioning slot
                const auto host = tx.exec_params(
                    "SELECT h.id FROM hosts h LEFT JOIN LATERAL ("
                    " SELECT coalesce(sum(i.vcpus), 0) AS vcpus, coalesce(sum(i.memory_mib), 0) AS memory, "
                    " count(*) FILTER (WHERE NOT (d.actual_state = 'running' AND d.actual_generation = d.generation "
                    "   AND d.ready_generation = d.generation)) AS in_flight "
                    " FROM desktops d JOIN golden_images i ON i.id = d.golden_image_id "
                    " WHERE d.host_id = h.id AND d.desired_state = 'running') u ON true "
                    "WHERE h.state = 'online' AND h.last_heartbeat_at > $1::timestamptz "
                    "AND u.vcpus + $2 <= h.vcpus_total * $3 AND u.memory + $4 <= h.memory_mib_total "
                    "AND u.in_flight < h.max_concurrent_ops "
                    "ORDER BY u.memory::float8 / h.memory_mib_total, u.in_flight, h.id LIMIT 1",
                    timestamp(now - config_.heartbeat_timeout), image->vcpus, config_.vcpu_overcommit, image->memory_mib);
                if (host.empty()) break;  // no capacity (or every host busy provisioning): next pass
                const auto created = desktops.create(
                    {pool_id, pool->name + "-" + std::to_string(next++), pool->golden_image_id, host[0][0].as<db::Id>()});
                (void)created;
                ++report.desktops_created;
            }
            used_demand = demand > 0;
        }

        // 4. trim spares above the target that stayed unassigned past the grace period
        const int surplus = spare - want;
        if (surplus > 0) {
            const auto trimmed = tx.exec_params(
                std::string("UPDATE desktops SET desired_state = 'deleted', updated_at = now() WHERE id IN ("
                            "SELECT d.id FROM desktops d WHERE d.pool_id = $1 AND d.refresh_job_id IS NULL AND ") +
                    db::ready_desktop_sql() +
                    " AND d.state_changed_at < $2::timestamptz ORDER BY d.id DESC LIMIT $3)",
                pool_id, timestamp(now - config_.trim_grace), surplus);
            report.desktops_trimmed += static_cast<int>(trimmed.affected_rows());
        }
    });
    if (used_demand) {
        std::lock_guard lock(demand_mutex_);
        demand_[pool_id] = std::max(0, demand_[pool_id] - demand);
    }
}

int PoolManager::schedule_jobs(pqxx::work& tx)
{
    int created = 0;
    const auto now = clock_.now();
    for (const auto& row : tx.exec("SELECT id, refresh_cron, created_at FROM pools WHERE enabled AND refresh_cron IS NOT NULL")) {
        const auto pool_id = row["id"].as<db::Id>();
        try {
            const auto schedule = CronSchedule::parse(row["refresh_cron"].as<std::string>());
            db::JobRepository jobs(tx);
            auto since = db::get_time(row, "created_at");
            if (const auto last = jobs.last_scheduled_tick(pool_id, db::JobType::refresh_pool)) since = std::max(since, *last);
            const auto tick = schedule.latest_in(since, now, config_.time_zone);
            if (!tick) continue;
            db::NewJob job;
            job.type = db::JobType::refresh_pool;
            job.pool_id = pool_id;
            job.run_at = *tick;
            job.scheduled_for = *tick;
            job.force_after = *tick + config_.refresh_deadline;
            if (jobs.enqueue_scheduled(job)) ++created;
        } catch (const CronError& e) {
            logger("pool")->warn("pool={} has an unusable refresh_cron: {}", pool_id, e.what());
        }
    }
    return created;
}

void PoolManager::advance_jobs(PassReport& report)
{
    const std::string actor = "pool-manager@" + config_.name;
    // a due job starts: the pool moves to the target image (image push), every desktop is flagged
    while (const auto job = db::in_transaction(*db_, "start a job", [&](pqxx::work& tx) {
               auto claimed = db::JobRepository(tx).claim_due(config_.name);
               if (!claimed) return claimed;
               if (claimed->type == db::JobType::image_push) {
                   tx.exec_params("UPDATE pools SET golden_image_id = $2, error = NULL, error_at = NULL, updated_at = now() "
                                  "WHERE id = $1",
                                  claimed->pool_id, *claimed->target_image_id);
               }
               const auto flagged = tx.exec_params("UPDATE desktops SET refresh_job_id = $2 WHERE pool_id = $1 "
                                                   "AND desired_state = 'running'",
                                                   claimed->pool_id, claimed->id);
               db::JobRepository(tx).update_progress(claimed->id, 0, static_cast<int>(flagged.affected_rows()));
               db::AuditEntry entry;
               entry.actor = actor;
               entry.action = "job.start";
               entry.target_type = "job";
               entry.target_id = std::to_string(claimed->id);
               entry.details = {{"type", db::to_string(claimed->type)}, {"pool_id", claimed->pool_id},
                                {"desktops", flagged.affected_rows()}};
               db::AuditRepository(tx).append(entry);
               return claimed;
           })) {
        (void)job;
    }
    // running jobs advance, whoever started them (state is all in the database)
    const auto running = db::in_transaction(*db_, "list running jobs", [&](pqxx::work& tx) {
        std::vector<db::Id> ids;
        for (const auto& row : tx.exec("SELECT id FROM jobs WHERE state = 'running' ORDER BY id")) ids.push_back(row[0].as<db::Id>());
        return ids;
    });
    for (const auto job_id : running) {
        db::in_transaction(*db_, "advance a job", [&](pqxx::work& tx) {
            const auto locked = tx.exec_params("SELECT id FROM jobs WHERE id = $1 AND state = 'running' FOR UPDATE SKIP LOCKED", job_id);
            if (locked.empty()) return;
            db::JobRepository jobs(tx);
            const auto job = jobs.find(job_id);
            const auto pool = db::PoolRepository(tx).find(job->pool_id);
            if (job->cancel_requested) {
                tx.exec_params("UPDATE desktops SET refresh_job_id = NULL WHERE refresh_job_id = $1", job_id);
                jobs.finish(job_id, db::JobState::cancelled);
                return;
            }
            const bool pool_error = !tx.exec_params1("SELECT error IS NULL FROM pools WHERE id = $1", job->pool_id)[0].as<bool>();
            if (pool_error && job->type == db::JobType::image_push) {
                tx.exec_params("UPDATE desktops SET refresh_job_id = NULL WHERE refresh_job_id = $1", job_id);
                const auto error = tx.exec_params1("SELECT error FROM pools WHERE id = $1", job->pool_id)[0].as<std::string>();
                jobs.finish(job_id, db::JobState::failed, "rollout stopped: " + error);
                return;
            }
            const auto now = clock_.now();
            const bool forced = job->force_after && now >= *job->force_after;
            db::DesktopRepository desktops(tx);
            db::SessionRepository sessions(tx);
            const auto refresh = [&](db::Id id, std::int64_t generation) {
                if (desktops.bump_generation(id, generation)) {
                    tx.exec_params("UPDATE desktops SET refresh_job_id = NULL, golden_image_id = $2 WHERE id = $1", id,
                                   pool->golden_image_id);
                    ++report.desktops_refreshed;
                }
            };
            // in use: warn, and at the deadline end the session (the job's purpose wins)
            if (job->force_after) {
                tx.exec_params("UPDATE sessions s SET warning = $2 FROM desktops d WHERE d.id = s.desktop_id "
                               "AND d.refresh_job_id = $1 AND s.state <> 'ended' AND s.warning IS NULL",
                               job_id, fmt::format("This desktop will be refreshed at {} UTC: save your work and log off.",
                                                   db::to_sql(*job->force_after).substr(0, 16)));
            }
            int allowed = std::max(0, desktops.counts(job->pool_id).ready - pool->min_ready);
            for (const auto& row : tx.exec_params(
                     "SELECT d.id, d.generation, d.owner_user_id, d.assigned_user_id, "
                     "(SELECT s.id FROM sessions s WHERE s.desktop_id = d.id AND s.state <> 'ended') AS session_id, "
                     "(d.actual_state = 'running' AND d.actual_generation = d.generation "
                     " AND d.ready_generation = d.generation) AS ready "
                     "FROM desktops d WHERE d.refresh_job_id = $1 ORDER BY d.id",
                     job_id)) {
                const auto id = row["id"].as<db::Id>();
                const auto generation = row["generation"].as<std::int64_t>();
                if (!row["session_id"].is_null()) {
                    if (!forced) continue;
                    const auto live = sessions.find(row["session_id"].as<db::Id>());
                    end_session(tx, *live, "scheduled refresh deadline", false, actor);
                    refresh(id, generation);
                    continue;
                }
                if (!row["assigned_user_id"].is_null() && row["owner_user_id"].is_null()) {
                    desktops.release(id, row["assigned_user_id"].as<db::Id>());
                }
                // unused: refresh now, keeping min_ready desktops available (not-ready ones cost nothing)
                if (row["ready"].as<bool>() && row["owner_user_id"].is_null()) {
                    if (allowed <= 0) continue;
                    --allowed;
                }
                refresh(id, generation);
            }
            const int remaining = tx.exec_params1("SELECT count(*) FROM desktops WHERE refresh_job_id = $1", job_id)[0].as<int>();
            jobs.update_progress(job_id, std::max(0, job->progress_total - remaining), job->progress_total);
            if (remaining == 0) {
                jobs.finish(job_id, db::JobState::succeeded);
                db::AuditEntry entry;
                entry.actor = actor;
                entry.action = "job.finish";
                entry.target_type = "job";
                entry.target_id = std::to_string(job_id);
                entry.details = {{"desktops", job->progress_total}};
                db::AuditRepository(tx).append(entry);
            }
        });
    }
}

PassReport PoolManager::run_once()
{
    if (!db_ || !db_->is_open()) {
        connect();
    }
    PassReport report;
    db::in_transaction(*db_, "find lost hosts", [&](pqxx::work& tx) { report.hosts_lost = lose_silent_hosts(tx); });
    db::in_transaction(*db_, "enforce session limits",
                       [&](pqxx::work& tx) { report.sessions_ended = enforce_session_policies(tx); });
    const auto pools = db::in_transaction(*db_, "list pools", [&](pqxx::work& tx) {
        std::vector<long long> ids;
        for (const auto& row : tx.exec("SELECT id FROM pools ORDER BY id")) ids.push_back(row[0].as<long long>());
        return ids;
    });
    for (const auto pool_id : pools) {
        reconcile_pool(pool_id, report);
    }
    db::in_transaction(*db_, "schedule jobs", [&](pqxx::work& tx) { report.jobs_created = schedule_jobs(tx); });
    advance_jobs(report);
    return report;
}

void PoolManager::run()
{
    auto log = logger("pool");
    log->info("pool manager {} running (pass every {} ms, hosts lost after {} s)", config_.name, config_.interval.count(),
              config_.heartbeat_timeout.count());
    while (!stop_) {
        try {
            const auto report = run_once();
            if (report.desktops_created + report.desktops_retired + report.desktops_trimmed + report.hosts_lost +
                    report.sessions_ended + report.jobs_created + report.desktops_refreshed >
                0) {
                log->info("pass: created={} retired={} trimmed={} hosts_lost={} sessions_ended={} jobs_created={} "
                          "refreshed={}",
                          report.desktops_created, report.desktops_retired, report.desktops_trimmed, report.hosts_lost,
                          report.sessions_ended, report.jobs_created, report.desktops_refreshed);
            }
        } catch (const std::exception& e) {
            log->error("pass failed, retrying: {}", e.what());
            listeners_.reset();
            db_.reset();
        }
        // sleep until a notification or the interval
        const auto until = std::chrono::steady_clock::now() + config_.interval;
        while (!stop_ && std::chrono::steady_clock::now() < until) {
            if (!db_) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                continue;
            }
            pollfd fd{db_->sock(), POLLIN, 0};
            ::poll(&fd, 1, 100);
            try {
                const int before = listeners_->wakeups.load();
                db_->get_notifs();
                if (listeners_->wakeups.load() != before) break;
            } catch (const std::exception&) {
                listeners_.reset();
                db_.reset();
                break;
            }
        }
    }
}

}  // namespace vdi::pool
