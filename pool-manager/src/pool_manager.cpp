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

}  // namespace

int PoolManager::lose_silent_hosts(pqxx::work& tx)
{
    const auto now = clock_.now();
    const auto lost = db::HostRepository(tx).mark_silent_lost(now - config_.heartbeat_timeout);
    const std::string actor = "pool-manager@" + config_.name;
    for (const auto& host : lost) {
        const auto host_id = host.id;
        const std::string reason = fmt::format("host {} stopped sending heartbeats", host.name);
        logger("pool")->warn("host lost host={} id={}", host.name, host_id);
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
    const auto due = db::SessionRepository(tx).list_expired(clock_.now());
    for (const auto& expired : due) {
        const bool refresh = expired.refresh_policy == db::RefreshPolicy::on_logoff;
        end_session(tx, expired.session, expired.reason, refresh, "pool-manager@" + config_.name);
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
        db::PoolRepository pools(tx);
        if (!pools.try_lock(pool_id)) {
            return;
        }
        auto pool = pools.find(pool_id);
        const auto image = db::ImageRepository(tx).find(pool->golden_image_id);
        db::DesktopRepository desktops(tx);
        db::SessionRepository sessions(tx);

        // 1. failed and lost desktops are retired (a dedicated user's is re-cloned for them)
        for (const auto& broken : desktops.list_broken(pool_id)) {
            if (const auto live = sessions.live_for_desktop(broken.id)) {
                end_session(tx, *live, "the desktop failed", false, actor);
            }
            if (broken.owner_user_id) {
                desktops.bump_generation(broken.id, broken.generation);
            } else {
                desktops.retire(broken.id);
            }
            ++report.desktops_retired;
        }

        // 2. an image that keeps failing stops provisioning, visibly, instead of looping
        const auto failures = desktops.recent_failures(pool_id, pool->golden_image_id, now - config_.failure_window);
        if (failures.count >= config_.failures_before_stop && !pools.provisioning_error(pool_id)) {
            const std::string error = fmt::format(
                "provisioning stopped: {} desktops of image {} v{} failed within {} s (last: {}); fix or change the "
                "image, then update the pool",
                failures.count, image ? image->name : "?", image ? image->version : 0,
                config_.failure_window.count(), failures.an_error.value_or(""));
            pools.set_provisioning_error(pool_id, error);
            db::AuditEntry entry;
            entry.actor = actor;
            entry.action = "pool.error";
            entry.target_type = "pool";
            entry.target_id = std::to_string(pool_id);
            entry.success = false;
            entry.details = {{"error", error}};
            db::AuditRepository(tx).append(entry);
            logger("pool")->error("pool stopped provisioning pool={} error=\"{}\"", pool->name, error);
        }
        const bool stopped = pools.provisioning_error(pool_id).has_value();

        // 3. top up the spares: min_ready (plus recent demand) within max_size
        const auto counts = desktops.running_counts(pool_id);
        const int total = counts.total;
        const int in_use = counts.in_use;
        const int spare = total - in_use;
        // a rolling refresh needs one spare of headroom to keep min_ready available throughout
        const int rollout = counts.waiting_refresh > 0 ? 1 : 0;
        const int want = pool->enabled ? pool->min_ready + demand + rollout : 0;
        const int need = std::min(want - spare, pool->max_size - total);
        if (need > 0 && !stopped && image && image->state == db::ImageState::ready) {
            int next = desktops.next_name_number(pool_id);
            db::HostRepository hosts(tx);
            for (int i = 0; i < need; ++i) {
                // least loaded first, with room for the image and a free provisioning slot
                const auto host = hosts.place_new_desktop(now - config_.heartbeat_timeout, image->vcpus,
                                                          image->memory_mib, config_.vcpu_overcommit);
                if (!host) break;  // no capacity (or every host busy provisioning): next pass
                const auto created = desktops.create(
                    {pool_id, pool->name + "-" + std::to_string(next++), pool->golden_image_id, *host});
                (void)created;
                ++report.desktops_created;
            }
            used_demand = demand > 0;
        }

        // 4. trim spares above the target that stayed unassigned past the grace period
        const int surplus = spare - want;
        if (surplus > 0) {
            report.desktops_trimmed += desktops.trim_spares(pool_id, now - config_.trim_grace, surplus);
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
    for (const auto& pool : db::PoolRepository(tx).list_refresh_scheduled()) {
        const auto pool_id = pool.id;
        try {
            const auto schedule = CronSchedule::parse(*pool.refresh_cron);
            db::JobRepository jobs(tx);
            auto since = pool.created_at;
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
            logger("pool")->warn("unusable refresh_cron pool={} error=\"{}\"", pool_id, e.what());
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
                   db::PoolRepository(tx).switch_image(claimed->pool_id, *claimed->target_image_id);
               }
               const int flagged = db::DesktopRepository(tx).flag_for_job(claimed->pool_id, claimed->id);
               db::JobRepository(tx).update_progress(claimed->id, 0, flagged);
               db::AuditEntry entry;
               entry.actor = actor;
               entry.action = "job.start";
               entry.target_type = "job";
               entry.target_id = std::to_string(claimed->id);
               entry.details = {{"type", db::to_string(claimed->type)}, {"pool_id", claimed->pool_id},
                                {"desktops", flagged}};
               db::AuditRepository(tx).append(entry);
               return claimed;
           })) {
        (void)job;
    }
    // running jobs advance, whoever started them (state is all in the database)
    const auto running =
        db::in_transaction(*db_, "list running jobs", [&](pqxx::work& tx) { return db::JobRepository(tx).list_running_ids(); });
    for (const auto job_id : running) {
        db::in_transaction(*db_, "advance a job", [&](pqxx::work& tx) {
            db::JobRepository jobs(tx);
            if (!jobs.try_lock_running(job_id)) return;
            const auto job = jobs.find(job_id);
            db::PoolRepository pools(tx);
            const auto pool = pools.find(job->pool_id);
            db::DesktopRepository desktops(tx);
            if (job->cancel_requested) {
                desktops.unflag_job(job_id);
                jobs.finish(job_id, db::JobState::cancelled);
                return;
            }
            const auto pool_error = pools.provisioning_error(job->pool_id);
            if (pool_error && job->type == db::JobType::image_push) {
                desktops.unflag_job(job_id);
                jobs.finish(job_id, db::JobState::failed, "rollout stopped: " + *pool_error);
                return;
            }
            const auto now = clock_.now();
            const bool forced = job->force_after && now >= *job->force_after;
            db::SessionRepository sessions(tx);
            const auto refresh = [&](db::Id id, std::int64_t generation) {
                if (desktops.bump_generation(id, generation)) {
                    desktops.finish_refresh(id, pool->golden_image_id);
                    ++report.desktops_refreshed;
                }
            };
            // in use: warn, and at the deadline end the session (the job's purpose wins)
            if (job->force_after) {
                sessions.warn_job_sessions(job_id, fmt::format("This desktop will be refreshed at {} UTC: save your work and log off.",
                                                               db::to_sql(*job->force_after).substr(0, 16)));
            }
            int allowed = std::max(0, desktops.counts(job->pool_id).ready - pool->min_ready);
            for (const auto& flagged : desktops.list_for_job(job_id)) {
                const auto& desktop = flagged.desktop;
                const auto id = desktop.id;
                const auto generation = desktop.generation;
                if (flagged.live_session_id) {
                    if (!forced) continue;
                    const auto live = sessions.find(*flagged.live_session_id);
                    end_session(tx, *live, "scheduled refresh deadline", false, actor);
                    refresh(id, generation);
                    continue;
                }
                if (desktop.assigned_user_id && !desktop.owner_user_id) {
                    desktops.release(id, *desktop.assigned_user_id);
                }
                // unused: refresh now, keeping min_ready desktops available (not-ready ones cost nothing)
                if (flagged.up_to_date && !desktop.owner_user_id) {
                    if (allowed <= 0) continue;
                    --allowed;
                }
                refresh(id, generation);
            }
            const int remaining = desktops.count_for_job(job_id);
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
    const auto pools =
        db::in_transaction(*db_, "list pools", [&](pqxx::work& tx) { return db::PoolRepository(tx).list_ids(); });
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
    log->info("running name={} interval_ms={} heartbeat_timeout_s={}", config_.name, config_.interval.count(),
              config_.heartbeat_timeout.count());
    while (!stop_) {
        try {
            const auto report = run_once();
            if (report.desktops_created + report.desktops_retired + report.desktops_trimmed + report.hosts_lost +
                    report.sessions_ended + report.jobs_created + report.desktops_refreshed >
                0) {
                log->info("pass created={} retired={} trimmed={} hosts_lost={} sessions_ended={} jobs_created={} "
                          "refreshed={}",
                          report.desktops_created, report.desktops_retired, report.desktops_trimmed, report.hosts_lost,
                          report.sessions_ended, report.jobs_created, report.desktops_refreshed);
            }
        } catch (const std::exception& e) {
            log->error("pass failed, retrying error=\"{}\"", e.what());
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
