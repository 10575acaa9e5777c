// The host agent's registration, heartbeat and reconcile loop.
#include "vdi/hostd/host_agent.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "vdi/common/crypto.h"
#include "vdi/common/db/database.h"
#include "vdi/common/db/desktop_repository.h"
#include "vdi/common/db/host_repository.h"
#include "vdi/common/db/image_repository.h"
#include "vdi/common/db/listener.h"
#include "vdi/common/db/ticket_repository.h"
#include "vdi/common/db/user_repository.h"
#include "vdi/common/logging.h"
#include "vdi/common/tls_certificate.h"

namespace vdi::hostd {
namespace {

std::atomic<int> notifications{0};
std::unique_ptr<db::Listener> listener;         // desktops changed: wakes the reconcile loop
std::unique_ptr<db::Listener> ticket_listener;  // display tickets for this host (deliver_tickets())
// payloads not yet handled, with when they came (agent thread only)
std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> ticket_queue;

}  // namespace

HostAgent::HostAgent(HostdConfig config) : config_(std::move(config))
{
    if (config_.name.empty() || config_.vcpus_total <= 0 || config_.memory_mib_total <= 0 || config_.vmm_binary.empty()) {
        throw Error("the host agent needs its configuration from load_hostd_config() (a name, capacity and the VMM binary)");
    }
    std::filesystem::create_directories(config_.state_dir);
    // the host's RDP certificate, made once and shared by its desktops
    rdp_certificate_ = config_.state_dir / "tls" / "host.crt";
    rdp_private_key_ = config_.state_dir / "tls" / "host.key";
    vdi::ensure_certificate(rdp_certificate_, rdp_private_key_, config_.name);
    // checked here once, so that its desktops need not check it on every RDP connection
    vdi::check_private_key(rdp_private_key_);
    int wake[2];
    if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        throw Error(std::string("cannot create the host agent's wake-up pipe: ") + std::strerror(errno));
    }
    wake_read_.reset(wake[0]);
    wake_write_.reset(wake[1]);
}

HostAgent::~HostAgent()
{
    request_stop();
    if (heartbeat_.joinable()) {
        heartbeat_.join();
    }
    ticket_listener.reset();
    listener.reset();
}

void HostAgent::request_stop()
{
    stop_ = true;
    [[maybe_unused]] auto n = ::write(wake_write_.get(), "x", 1);
}

void HostAgent::connect()
{
    const bool reconnecting = host_id_ != 0;
    ticket_listener.reset();
    listener.reset();
    db_ = db::connect(config_.dsn, "vdi-hostd@" + config_.name);
    listener = std::make_unique<db::Listener>(*db_, "vdi_desktops", [](const std::string&) { ++notifications; });
    if (reconnecting) {
        listen_for_tickets();
        logger("hostd")->info("reconnected to the database; listening again");
    }
}

void HostAgent::adopt_survivors()
{
    auto log = logger("hostd");
    for (const auto& entry : std::filesystem::directory_iterator(config_.state_dir)) {
        if (entry.path().extension() != ".json" || entry.path().filename().string().rfind("desktop-", 0) != 0) {
            continue;
        }
        if (auto vmm = VmmProcess::adopt(entry.path())) {
            log->info("adopted running VMM desktop={} generation={} pid={}", vmm->desktop_id(), vmm->generation(),
                      vmm->pid());
            const auto id = vmm->desktop_id();
            vmms_[id] = std::move(vmm);
        } else {
            log->info("dropped stale VMM record file={}", entry.path().filename().string());
        }
    }
}

void HostAgent::run()
{
    auto log = logger("hostd");
    connect();
    host_id_ = db::in_transaction(*db_, "register the host", [&](pqxx::work& tx) {
        return db::HostRepository(tx)
            .register_host({config_.name, config_.address, config_.vcpus_total, config_.memory_mib_total,
                            config_.max_concurrent_ops, "0.1.0"})
            .id;
    });
    log->info("registered host={} id={} vcpus={} memory_mib={}", config_.name, host_id_, config_.vcpus_total,
              config_.memory_mib_total);
    listen_for_tickets();
    adopt_survivors();
    heartbeat_ = std::thread([this] { heartbeat_loop(); });

    auto next_resync = std::chrono::steady_clock::now();
    while (!stop_) {
        try {
            if (!db_ || !db_->is_open()) {
                connect();
            }
            deliver_tickets();
            reap_exited();
            reconcile();
            deliver_tickets();
            collect_display_stages();
            report_activity();
        } catch (const std::exception& e) {
            log->error("reconcile failed, retrying error=\"{}\"", e.what());
            ticket_listener.reset();
            listener.reset();
            db_.reset();
        }
        next_resync = std::chrono::steady_clock::now() + config_.resync;
        // poll quickly while guests are coming up or clients are expected on their displays,
        // otherwise sleep until woken or the resync
        const auto wait = awaiting_ready_.empty() && awaiting_display_.empty() ? config_.resync
                                                                                : std::chrono::milliseconds(50);
        wait_for_work(std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(
                                         next_resync - std::chrono::steady_clock::now())));
    }
    log->info("stopping; the VMMs keep running vmms={}", vmms_.size());
}

bool HostAgent::wait_for_work(std::chrono::milliseconds timeout)
{
    std::vector<pollfd> fds;
    fds.push_back({wake_read_.get(), POLLIN, 0});
    if (db_) {
        fds.push_back({db_->sock(), POLLIN, 0});
    }
    for (const auto& [id, vmm] : vmms_) {
        if (vmm->pidfd() >= 0) {
            fds.push_back({vmm->pidfd(), POLLIN, 0});
        }
    }
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long>(0, timeout.count())));
    char drain[64];
    while (::read(wake_read_.get(), drain, sizeof drain) > 0) {
    }
    if (db_) {
        try {
            db_->get_notifs();
        } catch (const std::exception& e) {
            logger("hostd")->warn("lost the database connection; reconnecting error=\"{}\"", e.what());
            ticket_listener.reset();
            listener.reset();
            db_.reset();
        }
    }
    return ready > 0;
}

void HostAgent::listen_for_tickets()
{
    ticket_listener = std::make_unique<db::Listener>(*db_, "vdi_tickets_" + std::to_string(host_id_),
                                                     [](const std::string& payload) {
                                                         ticket_queue.emplace_back(payload, std::chrono::steady_clock::now());
                                                     });
}

void HostAgent::deliver_tickets()
{
    if (!db_) {
        return;
    }
    db_->get_notifs();  // (also called from wait_for_work; cheap when nothing is pending)
    auto log = logger("hostd");
    std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> pending;
    pending.swap(ticket_queue);
    for (const auto& [payload, received] : pending) {
        // this agent's logon stages of the delivery, from the notice's arrival (docs/logon-timing.md)
        nlohmann::json stages = nlohmann::json::array();
        auto mark = std::chrono::steady_clock::now();
        const auto us = [received = received](std::chrono::steady_clock::time_point t) {
            return std::chrono::duration_cast<std::chrono::microseconds>(t - received).count();
        };
        const auto stage = [&](const char* name) {
            const auto now = std::chrono::steady_clock::now();
            stages.push_back(nlohmann::json::array({name, us(mark), us(now) - us(mark)}));
            mark = now;
        };
        stage("queued");
        const auto message = nlohmann::json::parse(payload, nullptr, false);
        if (!message.is_object() || !message.contains("ticket_id") || !message.contains("ticket") ||
            !message.contains("desktop_id") || !message["ticket"].is_string()) {
            log->warn("ignored a malformed ticket notification");
            continue;
        }
        const auto ticket_id = message["ticket_id"].get<std::int64_t>();
        const auto desktop_id = message["desktop_id"].get<std::int64_t>();
        const std::string ticket = message["ticket"];
        // two statements, each its own transaction: the check, and the outcome with its ack
        db::in_autocommit(*db_, "deliver a display ticket", [&](pqxx::nontransaction& tx) {
            db::TicketRepository tickets(tx);
            // the plaintext must match the hash the broker stored: a forged or replayed
            // notification changes nothing
            const auto stored = tickets.find_for_delivery(ticket_id, sha256_hex(ticket));
            stage("ticket_check");
            if (!stored || stored->desktop_id != desktop_id) {
                log->warn("ticket does not match a deliverable ticket; ignored ticket={}", ticket_id);
                return;
            }
            std::optional<std::string> error;
            const auto it = vmms_.find(desktop_id);
            if (it == vmms_.end() || it->second->generation() != message.value("generation", std::int64_t{0})) {
                error = "the desktop is not running on this host";
            } else {
                // the desktop learns who is about to connect before the ticket lets them in, so
                // the first picture already shows their name
                VmmProcess& vmm = *it->second;
                if (vmm.user() != stored->username) {
                    if (const auto failed = vmm.tell_user(stored->username)) {
                        log->warn("desktop did not take its user desktop={} error=\"{}\"", desktop_id, *failed);
                    } else {
                        log->info("desktop told its user desktop={} session={}", desktop_id, stored->session_id);
                    }
                    stage("identity");
                }
                const int ttl_s = message.value("ttl_s", 60);
                const nlohmann::json request = {{"cmd", "display_ticket"},
                                                {"protocol", db::to_string(stored->protocol)},
                                                {"ticket", ticket},
                                                {"ttl_s", ttl_s},
                                                {"trace", ticket_id}};
                const auto response = it->second->request(request);
                stage("ticket_to_display");
                if (!response) {
                    error = "the desktop's VMM did not answer";
                } else if (!response->value("ok", false)) {
                    error = response->value("error", std::string("the VMM refused the ticket"));
                } else {
                    awaiting_display_[ticket_id] = {desktop_id, std::chrono::steady_clock::now() +
                                                                    std::chrono::seconds(ttl_s + 5)};
                }
            }
            tickets.record_delivery(ticket_id, error, stages.dump());
            if (error) {
                log->warn("ticket not delivered ticket={} desktop={} reason=\"{}\"", ticket_id, desktop_id, *error);
            } else {
                log->info("ticket delivered ticket={} desktop={} protocol={}", ticket_id, desktop_id,
                          db::to_string(stored->protocol));
            }
        });
    }
}

void HostAgent::collect_display_stages_of(std::int64_t desktop_id)
{
    for (const auto& [ticket_id, awaited] : awaiting_display_) {
        if (awaited.desktop_id == desktop_id) {
            collect_display_stages();
            return;
        }
    }
}

void HostAgent::collect_display_stages()
{
    if (awaiting_display_.empty() || !db_) {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    std::set<std::int64_t> desktops;
    for (auto it = awaiting_display_.begin(); it != awaiting_display_.end();) {
        // no client came with the ticket (or it was never traced): nothing to report
        if (it->second.deadline < now || vmms_.count(it->second.desktop_id) == 0) {
            logger("hostd")->debug("no display stages for ticket={} desktop={} reason={}", it->first,
                                   it->second.desktop_id, it->second.deadline < now ? "no client came" : "desktop gone");
            it = awaiting_display_.erase(it);
        } else {
            desktops.insert(it->second.desktop_id);
            ++it;
        }
    }
    std::vector<std::pair<std::int64_t, std::string>> reports;
    for (const auto desktop_id : desktops) {
        const auto response = vmms_.at(desktop_id)->request({{"cmd", "display_events"}});
        if (!response || !response->value("ok", false) || !(*response)["traces"].is_array()) {
            continue;  // (an older VMM, or a busy one: asked again next time)
        }
        for (const auto& trace : (*response)["traces"]) {
            const auto ticket_id = trace.value("trace", std::int64_t{0});
            logger("hostd")->debug("display stages ticket={} desktop={}", ticket_id, desktop_id);
            if (awaiting_display_.erase(ticket_id) != 0 && trace["stages"].is_array()) {
                reports.emplace_back(ticket_id, trace["stages"].dump());
            }
        }
    }
    if (reports.empty()) {
        return;
    }
    db::in_autocommit(*db_, "report display stages", [&](pqxx::nontransaction& tx) {
        db::TicketRepository tickets(tx);
        for (const auto& [ticket_id, stages] : reports) tickets.report_display_stages(ticket_id, stages);
    });
}

void HostAgent::report_activity()
{
    const auto now = std::chrono::steady_clock::now();
    if (now < next_activity_report_) {
        return;
    }
    const auto period = std::max(config_.resync, std::chrono::milliseconds(1000));
    next_activity_report_ = now + period;
    struct Observation {
        std::int64_t desktop_id;
        std::optional<long> idle_ms;
        int clients;
    };
    std::vector<Observation> observations;
    for (const auto& [desktop_id, vmm] : vmms_) {
        const auto status = vmm->request({{"cmd", "status"}});
        if (!status || !status->value("ok", false)) {
            continue;
        }
        Observation o{desktop_id, std::nullopt, 0};
        if ((*status)["input_idle_ms"].is_number()) {
            o.idle_ms = (*status)["input_idle_ms"].get<long>();
        }
        for (const auto& [protocol, display] : (*status)["displays"].items()) {
            o.clients += display.value("clients", 0);
        }
        observations.push_back(o);
    }
    if (observations.empty()) {
        return;
    }
    // warnings for the desktops' users (a refresh deadline, say) are shown on their screens
    const auto warnings = db::in_transaction(*db_, "read session warnings", [&](pqxx::work& tx) {
        std::map<std::int64_t, std::string> out;
        for (const auto& row : tx.exec_params("SELECT s.desktop_id, coalesce(s.warning, '') FROM sessions s "
                                              "JOIN desktops d ON d.id = s.desktop_id WHERE d.host_id = $1 "
                                              "AND s.state <> 'ended'",
                                              host_id_)) {
            out[row[0].as<std::int64_t>()] = row[1].as<std::string>();
        }
        return out;
    });
    for (const auto& [desktop_id, vmm] : vmms_) {
        const auto it = warnings.find(desktop_id);
        const std::string wanted = it == warnings.end() ? "" : it->second;
        auto& shown = notices_[{desktop_id, vmm->generation()}];
        if (shown == wanted) {
            continue;
        }
        const auto response = vmm->request({{"cmd", "notice"}, {"text", wanted}});
        if (response && response->value("ok", false)) {
            shown = wanted;
        } else {
            logger("hostd")->warn("desktop did not take its notice desktop={} error=\"{}\"", desktop_id,
                                  response ? response->value("error", std::string("?")) : "no answer");
            shown = wanted;  // (not retried every period)
        }
    }
    db::in_transaction(*db_, "report session activity", [&](pqxx::work& tx) {
        for (const auto& o : observations) {
            // input since the last report: the session is in use (idle limits count from here)
            if (o.idle_ms && *o.idle_ms < period.count() + 1000) {
                tx.exec_params("UPDATE sessions SET last_activity_at = now() - $2 * interval '1 millisecond' "
                               "WHERE desktop_id = $1 AND state <> 'ended' "
                               "AND last_activity_at < now() - $2 * interval '1 millisecond'",
                               o.desktop_id, *o.idle_ms);
            }
            // no display client for client_grace since the last connect or input: the user has
            // gone (the pool's disconnected timeout runs from here)
            if (o.clients == 0) {
                tx.exec_params("UPDATE sessions SET state = 'disconnected', disconnected_at = now() "
                               "WHERE desktop_id = $1 AND state = 'active' "
                               "AND last_activity_at < now() - $2 * interval '1 second'",
                               o.desktop_id, static_cast<long>(config_.client_grace.count()));
            }
        }
    });
}

void HostAgent::reap_exited()
{
    auto log = logger("hostd");
    for (auto it = vmms_.begin(); it != vmms_.end();) {
        VmmProcess& vmm = *it->second;
        if (!vmm.exited()) {
            ++it;
            continue;
        }
        const std::string reason = vmm.exit_reason();
        log->error("VMM died desktop={} generation={} pid={} reason=\"{}\"", vmm.desktop_id(), vmm.generation(),
                   vmm.pid(), reason);
        db::in_transaction(*db_, "report a failed VMM", [&](pqxx::work& tx) {
            db::ActualReport report;
            report.generation = vmm.generation();
            report.state = db::DesktopActualState::failed;
            report.error = reason;
            db::DesktopRepository(tx).report_actual(vmm.desktop_id(), report);
        });
        failed_.insert({vmm.desktop_id(), vmm.generation()});
        awaiting_ready_.erase(vmm.desktop_id());
        vmm.stop(std::chrono::milliseconds(0));  // removes the record
        it = vmms_.erase(it);
    }
}

void HostAgent::reconcile()
{
    auto log = logger("hostd");
    const auto desktops = db::in_transaction(*db_, "list this host's desktops", [&](pqxx::work& tx) {
        return db::DesktopRepository(tx).list_by_host(host_id_);
    });
    std::set<std::int64_t> placed;
    for (const auto& d : desktops) {
        placed.insert(d.id);
        auto found = vmms_.find(d.id);
        const bool want = d.desired_state == db::DesktopDesiredState::running;

        if (found != vmms_.end() && (!want || found->second->generation() != d.generation)) {
            log->info("stopping VMM desktop={} generation={} desired={} desired_generation={}", d.id,
                      found->second->generation(), db::to_string(d.desired_state), d.generation);
            collect_display_stages_of(d.id);  // (a user who logged off at once: the connect's stages first)
            found->second->stop(std::chrono::milliseconds(3000));
            vmms_.erase(found);
            awaiting_ready_.erase(d.id);
            found = vmms_.end();
        }
        if (!want) {
            if (d.actual_state != db::DesktopActualState::stopped && d.actual_state != db::DesktopActualState::failed) {
                db::in_transaction(*db_, "report a stopped desktop", [&](pqxx::work& tx) {
                    db::ActualReport report;
                    report.generation = d.generation;
                    report.state = db::DesktopActualState::stopped;
                    db::DesktopRepository(tx).report_actual(d.id, report);
                });
            }
            continue;
        }
        if (found != vmms_.end()) {
            VmmProcess& vmm = *found->second;
            if (d.actual_state != db::DesktopActualState::running || d.actual_generation != d.generation ||
                d.vmm_pid != vmm.pid() || d.vnc_port != vmm.vnc_port() || d.rdp_port != vmm.rdp_port()) {
                // an adopted VMM, or a report that did not land: say again what runs
                db::in_transaction(*db_, "report a running desktop", [&](pqxx::work& tx) {
                    db::ActualReport report;
                    report.generation = d.generation;
                    report.state = db::DesktopActualState::running;
                    report.vmm_pid = vmm.pid();
                    report.vnc_port = vmm.vnc_port();
                    report.rdp_port = vmm.rdp_port();
                    db::DesktopRepository(tx).report_actual(d.id, report);
                });
            }
            // a desktop no one is assigned to shows no user (a floating pool that does not
            // refresh on logoff gives the same clone to the next user); a new session's user is
            // told at its ticket's delivery
            if (!d.owner_user_id && !d.assigned_user_id && vmm.user() != std::string()) {
                if (const auto failed = vmm.tell_user("")) {
                    log->warn("desktop did not forget its user desktop={} error=\"{}\"", d.id, *failed);
                } else {
                    log->info("desktop told it has no user desktop={} generation={}", d.id, d.generation);
                }
            }
            if (d.ready_generation != d.generation) {
                const auto status = vmm.request({{"cmd", "status"}});
                if (status && status->value("identity_ready", false)) {
                    db::in_transaction(*db_, "mark the guest ready", [&](pqxx::work& tx) {
                        db::DesktopRepository(tx).mark_guest_ready(d.id, d.generation);
                    });
                    awaiting_ready_.erase(d.id);
                    log->info("desktop ready desktop={} generation={}", d.id, d.generation);
                } else {
                    awaiting_ready_.insert(d.id);
                }
            } else {
                awaiting_ready_.erase(d.id);
            }
            continue;
        }
        if (failed_.count({d.id, d.generation})) {
            continue;  // failed at this generation: a refresh (new generation) replaces it
        }

        // start a clone for generation G
        const auto details = db::in_transaction(*db_, "read the desktop's image", [&](pqxx::work& tx) {
            db::ActualReport report;
            report.generation = d.generation;
            report.state = db::DesktopActualState::starting;
            db::DesktopRepository(tx).report_actual(d.id, report);
            const auto image = db::ImageRepository(tx).find(d.golden_image_id);
            std::string user;  // none (the demo desktop says "unassigned")
            const auto user_id = d.owner_user_id ? d.owner_user_id : d.assigned_user_id;
            if (user_id) {
                if (const auto u = db::UserRepository(tx).find(*user_id)) {
                    user = u->username;
                }
            }
            return std::make_pair(image, user);
        });
        VmmLaunch launch;
        launch.vmm_binary = config_.vmm_binary;
        launch.state_dir = config_.state_dir;
        launch.desktop_id = d.id;
        launch.generation = d.generation;
        launch.identity = {{"host", d.name}, {"user", details.second}};
        launch.sandbox = config_.sandbox_vmms;
        launch.vnc_bind = config_.display_bind;
        launch.rdp_bind = config_.display_bind;
        launch.rdp_certificate = rdp_certificate_;
        launch.rdp_private_key = rdp_private_key_;
        std::string error;
        if (!details.first) {
            error = fmt::format("golden image {} does not exist", d.golden_image_id);
        } else {
            launch.image_dir = std::filesystem::path(details.first->state_path).parent_path();
            try {
                auto vmm = VmmProcess::start(launch, config_.vmm_start_timeout);
                log->info("started VMM desktop={} generation={} pid={}", d.id, d.generation, vmm->pid());
                const int pid = vmm->pid();
                const auto vnc_port = vmm->vnc_port();
                const auto rdp_port = vmm->rdp_port();
                vmms_[d.id] = std::move(vmm);
                awaiting_ready_.insert(d.id);
                db::in_transaction(*db_, "report a running desktop", [&](pqxx::work& tx) {
                    db::ActualReport report;
                    report.generation = d.generation;
                    report.state = db::DesktopActualState::running;
                    report.vmm_pid = pid;
                    report.vnc_port = vnc_port;
                    report.rdp_port = rdp_port;
                    db::DesktopRepository(tx).report_actual(d.id, report);
                });
            } catch (const std::exception& e) {
                error = e.what();
            }
        }
        if (!error.empty()) {
            log->error("desktop could not start desktop={} generation={} error=\"{}\"", d.id, d.generation, error);
            failed_.insert({d.id, d.generation});
            db::in_transaction(*db_, "report a failed desktop", [&](pqxx::work& tx) {
                db::ActualReport report;
                report.generation = d.generation;
                report.state = db::DesktopActualState::failed;
                report.error = error;
                db::DesktopRepository(tx).report_actual(d.id, report);
            });
        }
    }
    // VMMs of desktops no longer placed here
    for (auto it = vmms_.begin(); it != vmms_.end();) {
        if (placed.count(it->first)) {
            ++it;
            continue;
        }
        log->info("stopping VMM of a desktop no longer on this host desktop={}", it->first);
        collect_display_stages_of(it->first);
        it->second->stop(std::chrono::milliseconds(3000));
        awaiting_ready_.erase(it->first);
        it = vmms_.erase(it);
    }
}

void HostAgent::heartbeat_loop()
{
    auto log = logger("hostd");
    std::unique_ptr<pqxx::connection> connection;
    while (!stop_) {
        try {
            if (!connection || !connection->is_open()) {
                connection = db::connect(config_.dsn, "vdi-hostd-heartbeat@" + config_.name);
            }
            db::in_transaction(*connection, "heartbeat", [&](pqxx::work& tx) {
                db::HostRepository(tx).heartbeat(host_id_);
            });
        } catch (const std::exception& e) {
            log->warn("heartbeat failed error=\"{}\"", e.what());
            connection.reset();
        }
        const auto until = std::chrono::steady_clock::now() + config_.heartbeat;
        while (!stop_ && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
}

}  // namespace vdi::hostd
