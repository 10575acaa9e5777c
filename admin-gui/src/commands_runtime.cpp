// vdictl desktop, session, host, job and audit: what runs, what ran, and who did what.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.h"
#include "views.h"

namespace vdi::admin {

namespace {

// Filters and paging of the paged lists (docs/api.md: ?limit=1..1000, ?before=ID).
struct ListOptions {
    std::optional<std::string> pool;
    std::optional<std::string> user;
    std::optional<std::string> state;
    bool live = false;
    bool ended = false;
    std::optional<std::string> action;
    int limit = 100;
    std::optional<long long> before;
    long long id = 0;

    // "?a=1&b=2" of the filters given (`extra`: already encoded) and the paging.
    std::string query(std::vector<std::string> extra) const
    {
        extra.push_back("limit=" + std::to_string(limit));
        if (before) extra.push_back("before=" + std::to_string(*before));
        std::string out;
        for (const auto& part : extra) out += (out.empty() ? "?" : "&") + part;
        return out;
    }
};

void add_paging(CLI::App* command, ListOptions& o)
{
    command->add_option("--limit", o.limit, "at most this many, newest first (1-1000, default 100)");
    command->add_option("--before", o.before, "the next page: entries older than this id (the last one shown)");
}

PoolNames known_pools(CliContext& context)
{
    return pool_names(context.get<std::vector<api::Pool>>("/api/v1/admin/pools"));
}

// Lists `target`, shown through `render` with the pools' names (fetched only for the table:
// with --json the answer is printed as it came).
template <typename Row, typename Render>
int list_with_pools(CliContext& context, const std::string& target, int limit, Render render)
{
    const auto rows = context.get<std::vector<Row>>(target);
    const std::string rendered = context.json() ? std::string() : render(rows, known_pools(context), context.table_width());
    print_list(context, rows, rendered, limit);
    return 0;
}

void add_desktops(CLI::App& app, Action& action)
{
    auto* desktop = app.add_subcommand("desktop", "desktop VMs of the pools (/api/v1/admin/desktops)");
    desktop->alias("desktops");
    desktop->require_subcommand(1);
    auto o = std::make_shared<ListOptions>();
    auto* list = add_leaf(desktop, "list", "list desktops, newest first", action, [o](CliContext& c) {
        std::vector<std::string> filters;
        if (o->pool) filters.push_back("pool_id=" + std::to_string(c.resolve("pool", *o->pool)));
        if (o->state) filters.push_back("state=" + url_encode(*o->state));
        return list_with_pools<api::Desktop>(c, "/api/v1/admin/desktops" + o->query(filters), o->limit, desktops_table);
    });
    list->add_option("--pool", o->pool, "only this pool's (name or id)");
    list->add_option("--state", o->state, "only those in this actual state (pending, starting, running, stopping, "
                                          "stopped, failed, lost)");
    add_paging(list, *o);
    auto* refresh = add_leaf(desktop, "refresh",
                             "refresh one desktop now: its session ends, it is re-cloned from the golden image", action,
                             [o](CliContext& c) {
                                 const auto done = c.call_as<api::DesktopRefreshed>(
                                     "POST", fmt::format("/api/v1/admin/desktops/{}/refresh", o->id));
                                 const auto ended = done.ended_session
                                                        ? fmt::format(", ended session {}", *done.ended_session)
                                                        : std::string();
                                 print_done(c, fmt::format("refreshing desktop {}: generation {}{}", done.id,
                                                           done.generation, ended));
                                 return 0;
                             });
    refresh->add_option("desktop", o->id, "desktop id")->required();
}

void add_sessions(CLI::App& app, Action& action)
{
    auto* session = app.add_subcommand("session", "users' sessions (/api/v1/admin/sessions)");
    session->alias("sessions");
    session->require_subcommand(1);
    auto o = std::make_shared<ListOptions>();
    auto* list = add_leaf(session, "list", "list sessions, newest first", action, [o](CliContext& c) {
        std::vector<std::string> filters;
        if (o->user) filters.push_back("user_id=" + std::to_string(c.resolve("user", *o->user)));
        if (o->pool) filters.push_back("pool_id=" + std::to_string(c.resolve("pool", *o->pool)));
        if (o->live) filters.push_back("live=true");
        if (o->ended) filters.push_back("live=false");
        return list_with_pools<api::Session>(c, "/api/v1/admin/sessions" + o->query(filters), o->limit, sessions_table);
    });
    list->add_option("--user", o->user, "only this user's (name or id)");
    list->add_option("--pool", o->pool, "only this pool's (name or id)");
    auto* live = list->add_flag("--live", o->live, "only sessions not ended (active or disconnected)");
    list->add_flag("--ended", o->ended, "only ended sessions")->excludes(live);
    add_paging(list, *o);
    auto* logoff = add_leaf(session, "logoff", "log a session off (as the user's own logoff would)", action,
                            [o](CliContext& c) {
                                const auto done = c.call_as<api::LogoffResponse>(
                                    "POST", fmt::format("/api/v1/admin/sessions/{}/logoff", o->id));
                                print_done(c, fmt::format("logged off session {}{}", done.session_id,
                                                          done.refresh ? "; its desktop is refreshed" : ""));
                                return 0;
                            });
    logoff->add_option("session", o->id, "session id")->required();
    add_leaf(session, "timing", "each connect of a session, stage by stage, beside the pool's normal", action,
             [o](CliContext& c) {
                 const auto timing = c.call("GET", fmt::format("/api/v1/admin/sessions/{}/timing", o->id));
                 if (c.json()) {
                     c.print_raw();
                 } else {
                     std::cout << timing_text(timing);
                 }
                 return 0;
             })
        ->add_option("session", o->id, "session id")
        ->required();
}

void add_hosts(CLI::App& app, Action& action)
{
    auto* host = app.add_subcommand("host", "hypervisor hosts and their agents (/api/v1/admin/hosts)");
    host->alias("hosts");
    host->require_subcommand(1);
    add_leaf(host, "list", "list hosts with their last heartbeat and desktop count", action, [](CliContext& c) {
        const auto hosts = c.get<std::vector<api::Host>>("/api/v1/admin/hosts");
        print_list(c, hosts, hosts_table(hosts, c.table_width()));
        return 0;
    });
    auto name = std::make_shared<std::string>();
    for (const bool drain : {true, false}) {
        auto* leaf = add_leaf(host, drain ? "drain" : "undrain",
                              drain ? "place no new desktops on a host (those there keep running)"
                                    : "let a drained host take new desktops again",
                              action, [name, drain](CliContext& c) {
                                  const auto id = c.resolve("host", *name);
                                  const auto done = c.call_as<api::Host>(
                                      "POST", fmt::format("/api/v1/admin/hosts/{}/{}", id, drain ? "drain" : "undrain"));
                                  print_done(c, "host " + done.name +
                                                    (drain ? " is drained: no new desktops go there"
                                                           : " takes new desktops again"));
                                  return 0;
                              });
        leaf->add_option("host", *name, "host name or id")->required();
    }
}

void add_jobs(CLI::App& app, Action& action)
{
    auto* job = app.add_subcommand("job", "refresh and image-push jobs (/api/v1/admin/jobs)");
    job->alias("jobs");
    job->require_subcommand(1);
    auto o = std::make_shared<ListOptions>();
    auto* list = add_leaf(job, "list", "list jobs with their progress, newest first", action, [o](CliContext& c) {
        std::vector<std::string> filters;
        if (o->pool) filters.push_back("pool_id=" + std::to_string(c.resolve("pool", *o->pool)));
        if (o->state) filters.push_back("state=" + url_encode(*o->state));
        return list_with_pools<api::Job>(c, "/api/v1/admin/jobs" + o->query(filters), o->limit, jobs_table);
    });
    list->add_option("--pool", o->pool, "only this pool's (name or id)");
    list->add_option("--state", o->state, "queued, running, succeeded, failed or cancelled");
    add_paging(list, *o);
    add_leaf(job, "show", "one job", action, [o](CliContext& c) {
        const auto found = c.get<api::Job>(fmt::format("/api/v1/admin/jobs/{}", o->id));
        if (c.json()) {
            c.print_raw();
        } else {
            std::cout << job_details(found, known_pools(c));
        }
        return 0;
    })->add_option("job", o->id, "job id")->required();
    add_leaf(job, "cancel", "cancel a job (a running one stops at the pool manager's next pass)", action,
             [o](CliContext& c) {
                 const auto done = c.call_as<api::Job>("POST", fmt::format("/api/v1/admin/jobs/{}/cancel", o->id));
                 print_done(c, fmt::format("job {}: {}, cancel requested", done.id, done.state));
                 return 0;
             })
        ->add_option("job", o->id, "job id")
        ->required();
}

void add_audit(CLI::App& app, Action& action)
{
    auto* audit = app.add_subcommand("audit", "the audit log (/api/v1/admin/audit)");
    audit->require_subcommand(1);
    auto o = std::make_shared<ListOptions>();
    auto* list = add_leaf(audit, "list", "list audit entries, newest first", action, [o](CliContext& c) {
        std::vector<std::string> filters;
        if (o->user) filters.push_back("actor_user_id=" + std::to_string(c.resolve("user", *o->user)));
        if (o->action) filters.push_back("action=" + url_encode(*o->action));
        const auto entries = c.get<std::vector<api::AuditEntry>>("/api/v1/admin/audit" + o->query(filters));
        print_list(c, entries, audit_table(entries, c.table_width()), o->limit);
        return 0;
    });
    list->add_option("--actor", o->user, "only what this user did (name or id)");
    list->add_option("--action", o->action, "only actions starting so: 'pool.' is every pool action");
    add_paging(list, *o);
}

}  // namespace

void add_runtime_commands(CLI::App& app, Action& action)
{
    add_desktops(app, action);
    add_sessions(app, action);
    add_hosts(app, action);
    add_jobs(app, action);
    add_audit(app, action);
}

}  // namespace vdi::admin
