// Tables and detail listings of the admin API's answers.
#include "views.h"

#include <functional>
#include <utility>

#include <fmt/format.h>

#include "table.h"

namespace vdi::admin {

namespace {

template <typename Row>
struct Column {
    TableColumn spec;
    std::function<std::string(const Row&)> cell;
};

template <typename Row>
Column<Row> col(std::string header, int priority, std::function<std::string(const Row&)> cell, bool flexible = false,
                bool right = false)
{
    return {{std::move(header), priority, flexible, right}, std::move(cell)};
}

template <typename Row>
Column<Row> number(std::string header, int priority, std::function<std::string(const Row&)> cell)
{
    return col<Row>(std::move(header), priority, std::move(cell), false, true);
}

template <typename Row>
std::string table(const std::vector<Row>& rows, const std::vector<Column<Row>>& columns, Width width)
{
    std::vector<TableColumn> specs;
    for (const auto& c : columns) specs.push_back(c.spec);
    std::vector<std::vector<std::string>> cells;
    for (const auto& row : rows) {
        std::vector<std::string> line;
        for (const auto& c : columns) line.push_back(c.cell(row));
        cells.push_back(std::move(line));
    }
    return render_table(specs, cells, width);
}

std::string text(const std::string& value)
{
    return value.empty() ? "-" : value;
}
std::string text(const std::optional<std::string>& value)
{
    return value ? text(*value) : "-";
}
template <typename T>
std::string num(const std::optional<T>& value)
{
    return value ? std::to_string(*value) : "-";
}
std::string yes_no(bool value)
{
    return value ? "yes" : "no";
}
std::string state(bool disabled)
{
    return disabled ? "disabled" : "enabled";
}
std::string join(const std::vector<std::string>& items)
{
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
    return text(out);
}
std::string limit_s(const std::optional<int>& seconds)
{
    return seconds ? std::to_string(*seconds) + " s" : "none";
}
std::string pool_of(api::Id id, const PoolNames& pools)
{
    const auto found = pools.find(id);
    return found != pools.end() ? found->second : std::to_string(id);
}

std::vector<Column<api::User>> user_columns()
{
    using U = api::User;
    return {number<U>("ID", 1, [](const U& u) { return std::to_string(u.id); }),
            col<U>("USERNAME", 1, [](const U& u) { return u.username; }),
            col<U>("ROLE", 1, [](const U& u) { return u.role; }),
            col<U>("STATE", 1, [](const U& u) { return state(u.disabled); }),
            col<U>("DISPLAY NAME", 2, [](const U& u) { return text(u.display_name); }, true),
            col<U>("LAST LOGIN", 3, [](const U& u) { return show_time(u.last_login_at); }),
            col<U>("CREATED", 4, [](const U& u) { return show_time(u.created_at); })};
}

}  // namespace

std::string show_time(const std::optional<api::Time>& time)
{
    return time ? format_timestamp(*time) : "-";
}

PoolNames pool_names(const std::vector<api::Pool>& pools)
{
    PoolNames names;
    for (const auto& pool : pools) names[pool.id] = pool.name;
    return names;
}

std::string users_table(const std::vector<api::User>& users, Width width)
{
    return table(users, user_columns(), width);
}

std::string user_details(const api::UserDetail& user)
{
    return render_fields({{"id", std::to_string(user.id)},
                          {"username", user.username},
                          {"display name", text(user.display_name)},
                          {"role", user.role},
                          {"state", state(user.disabled)},
                          {"groups", join(user.groups)},
                          {"created", show_time(user.created_at)},
                          {"last login", show_time(user.last_login_at)}});
}

std::string groups_table(const std::vector<api::Group>& groups, Width width)
{
    using G = api::Group;
    return table(groups,
                 {number<G>("ID", 1, [](const G& g) { return std::to_string(g.id); }),
                  col<G>("NAME", 1, [](const G& g) { return g.name; }),
                  number<G>("MEMBERS", 1, [](const G& g) { return std::to_string(g.members); }),
                  col<G>("DESCRIPTION", 2, [](const G& g) { return text(g.description); }, true)},
                 width);
}

std::string group_details(const api::GroupDetail& group, Width width)
{
    std::string out = render_fields(
        {{"id", std::to_string(group.id)}, {"name", group.name}, {"description", text(group.description)}});
    out += fmt::format("\nmembers ({}):\n", group.members.size());
    if (!group.members.empty()) out += table(group.members, user_columns(), width);
    return out;
}

std::string pools_table(const std::vector<api::Pool>& pools, Width width)
{
    using P = api::Pool;
    return table(pools,
                 {number<P>("ID", 1, [](const P& p) { return std::to_string(p.id); }),
                  col<P>("NAME", 1, [](const P& p) { return p.name; }),
                  col<P>("STATE", 1, [](const P& p) { return state(!p.enabled); }),
                  number<P>("READY", 1, [](const P& p) { return std::to_string(p.ready); }),
                  number<P>("IN USE", 1, [](const P& p) { return std::to_string(p.in_use); }),
                  number<P>("DESKTOPS", 2, [](const P& p) { return std::to_string(p.desktops); }),
                  number<P>("MIN/MAX", 2, [](const P& p) { return fmt::format("{}/{}", p.min_ready, p.max_size); }),
                  col<P>("ASSIGNMENT", 3, [](const P& p) { return p.assignment; }),
                  number<P>("IMAGE", 3, [](const P& p) { return std::to_string(p.golden_image_id); }),
                  col<P>("PROTOCOLS", 4, [](const P& p) { return join(p.protocols); }),
                  col<P>("REFRESH", 5, [](const P& p) { return p.refresh_policy; }),
                  col<P>("DISPLAY NAME", 6, [](const P& p) { return text(p.display_name); }, true)},
                 width);
}

std::string pool_details(const api::PoolDetail& pool, Width width)
{
    std::string out = render_fields({{"id", std::to_string(pool.id)},
                                     {"name", pool.name},
                                     {"display name", text(pool.display_name)},
                                     {"state", state(!pool.enabled)},
                                     {"assignment", pool.assignment},
                                     {"golden image", std::to_string(pool.golden_image_id)},
                                     {"min ready", std::to_string(pool.min_ready)},
                                     {"max size", std::to_string(pool.max_size)},
                                     {"desktops", std::to_string(pool.desktops)},
                                     {"ready", std::to_string(pool.ready)},
                                     {"in use", std::to_string(pool.in_use)},
                                     {"protocols", join(pool.protocols)},
                                     {"refresh policy", pool.refresh_policy},
                                     {"refresh cron", text(pool.refresh_cron)},
                                     {"idle timeout", limit_s(pool.idle_timeout_s)},
                                     {"disconnected timeout", limit_s(pool.disconnected_timeout_s)},
                                     {"max session", limit_s(pool.max_session_s)},
                                     {"created", show_time(pool.created_at)},
                                     {"updated", show_time(pool.updated_at)}});
    out += fmt::format("\nentitlements ({}):\n", pool.entitlements.size());
    if (!pool.entitlements.empty()) {
        using E = api::PoolEntitlement;
        out += table(pool.entitlements,
                     {number<E>("ID", 1, [](const E& e) { return std::to_string(e.id); }),
                      col<E>("USER", 1, [](const E& e) { return text(e.username); }),
                      col<E>("GROUP", 1, [](const E& e) { return text(e.group_name); })},
                     width);
    }
    return out;
}

std::string images_table(const std::vector<api::Image>& images, Width width)
{
    using I = api::Image;
    return table(images,
                 {number<I>("ID", 1, [](const I& i) { return std::to_string(i.id); }),
                  col<I>("NAME", 1, [](const I& i) { return i.name; }),
                  number<I>("VERSION", 1, [](const I& i) { return std::to_string(i.version); }),
                  col<I>("STATE", 1, [](const I& i) { return i.state; }),
                  number<I>("MEMORY", 2, [](const I& i) { return std::to_string(i.memory_mib) + " MiB"; }),
                  number<I>("VCPUS", 3, [](const I& i) { return std::to_string(i.vcpus); }),
                  col<I>("DISPLAY", 4, [](const I& i) { return fmt::format("{}x{}", i.fb_width, i.fb_height); }),
                  col<I>("CREATED", 3, [](const I& i) { return show_time(i.created_at); }),
                  col<I>("DESCRIPTION", 5, [](const I& i) { return text(i.description); }, true),
                  col<I>("ERROR", 2, [](const I& i) { return text(i.error); }, true)},
                 width);
}

std::string image_details(const api::Image& image)
{
    return render_fields({{"id", std::to_string(image.id)},
                          {"name", image.name},
                          {"version", std::to_string(image.version)},
                          {"state", image.state},
                          {"error", text(image.error)},
                          {"state file", image.state_path},
                          {"memory file", image.memory_path},
                          {"memory", std::to_string(image.memory_mib) + " MiB"},
                          {"vcpus", std::to_string(image.vcpus)},
                          {"display", fmt::format("{}x{}", image.fb_width, image.fb_height)},
                          {"description", text(image.description)},
                          {"created", show_time(image.created_at)}});
}

std::string desktops_table(const std::vector<api::Desktop>& desktops, const PoolNames& pools, Width width)
{
    using D = api::Desktop;
    return table(desktops,
                 {number<D>("ID", 1, [](const D& d) { return std::to_string(d.id); }),
                  col<D>("NAME", 1, [](const D& d) { return d.name; }),
                  col<D>("POOL", 1, [&pools](const D& d) { return pool_of(d.pool_id, pools); }),
                  col<D>("STATE", 1, [](const D& d) { return d.actual_state; }),
                  col<D>("DESIRED", 2, [](const D& d) { return d.desired_state; }),
                  number<D>("USER", 2, [](const D& d) { return num(d.assigned_user_id); }),
                  number<D>("HOST", 3, [](const D& d) { return num(d.host_id); }),
                  number<D>("GEN", 3, [](const D& d) { return std::to_string(d.generation); }),
                  number<D>("VNC", 4, [](const D& d) { return num(d.vnc_port); }),
                  number<D>("RDP", 4, [](const D& d) { return num(d.rdp_port); }),
                  col<D>("SINCE", 3, [](const D& d) { return show_time(d.state_changed_at); }),
                  col<D>("ERROR", 2, [](const D& d) { return text(d.error); }, true)},
                 width);
}

std::string sessions_table(const std::vector<api::Session>& sessions, const PoolNames& pools, Width width)
{
    using S = api::Session;
    return table(sessions,
                 {number<S>("ID", 1, [](const S& s) { return std::to_string(s.id); }),
                  col<S>("USER", 1, [](const S& s) { return s.username; }),
                  col<S>("POOL", 1, [&pools](const S& s) { return pool_of(s.pool_id, pools); }),
                  col<S>("STATE", 1, [](const S& s) { return s.state; }),
                  number<S>("DESKTOP", 2, [](const S& s) { return std::to_string(s.desktop_id); }),
                  col<S>("PROTOCOL", 2, [](const S& s) { return s.protocol; }),
                  col<S>("STARTED", 2, [](const S& s) { return show_time(s.started_at); }),
                  col<S>("LAST ACTIVITY", 4, [](const S& s) { return show_time(s.last_activity_at); }),
                  col<S>("ENDED", 3, [](const S& s) { return show_time(s.ended_at); }),
                  col<S>("CLIENT", 5, [](const S& s) { return text(s.client_address); }),
                  col<S>("END REASON", 4, [](const S& s) { return text(s.end_reason); }, true)},
                 width);
}

std::string hosts_table(const std::vector<api::Host>& hosts, Width width)
{
    using H = api::Host;
    return table(hosts,
                 {number<H>("ID", 1, [](const H& h) { return std::to_string(h.id); }),
                  col<H>("NAME", 1, [](const H& h) { return h.name; }),
                  col<H>("STATE", 1, [](const H& h) { return h.drained ? h.state + ", drained" : h.state; }),
                  col<H>("ADDRESS", 2, [](const H& h) { return h.address; }),
                  number<H>("DESKTOPS", 1, [](const H& h) { return std::to_string(h.desktops); }),
                  number<H>("VCPUS", 3, [](const H& h) { return std::to_string(h.vcpus_total); }),
                  number<H>("MEMORY", 3, [](const H& h) { return std::to_string(h.memory_mib_total) + " MiB"; }),
                  col<H>("HEARTBEAT", 2, [](const H& h) { return show_time(h.last_heartbeat_at); }),
                  col<H>("VERSION", 4, [](const H& h) { return text(h.agent_version); })},
                 width);
}

std::string jobs_table(const std::vector<api::Job>& jobs, const PoolNames& pools, Width width)
{
    using J = api::Job;
    return table(jobs,
                 {number<J>("ID", 1, [](const J& j) { return std::to_string(j.id); }),
                  col<J>("TYPE", 1, [](const J& j) { return j.type; }),
                  col<J>("POOL", 1, [&pools](const J& j) { return pool_of(j.pool_id, pools); }),
                  col<J>("STATE", 1, [](const J& j) { return j.state; }),
                  number<J>("PROGRESS", 1, [](const J& j) { return fmt::format("{}/{}", j.progress_done, j.progress_total); }),
                  number<J>("IMAGE", 3, [](const J& j) { return num(j.target_image_id); }),
                  col<J>("CANCEL", 3, [](const J& j) { return yes_no(j.cancel_requested); }),
                  col<J>("CREATED", 2, [](const J& j) { return show_time(j.created_at); }),
                  col<J>("FINISHED", 3, [](const J& j) { return show_time(j.finished_at); }),
                  col<J>("ERROR", 2, [](const J& j) { return text(j.error); }, true)},
                 width);
}

std::string job_details(const api::Job& job, const PoolNames& pools)
{
    return render_fields({{"id", std::to_string(job.id)},
                          {"type", job.type},
                          {"pool", pool_of(job.pool_id, pools)},
                          {"target image", num(job.target_image_id)},
                          {"state", job.state},
                          {"progress", fmt::format("{}/{}", job.progress_done, job.progress_total)},
                          {"cancel requested", yes_no(job.cancel_requested)},
                          {"error", text(job.error)},
                          {"run at", show_time(job.run_at)},
                          {"scheduled for", show_time(job.scheduled_for)},
                          {"force after", show_time(job.force_after)},
                          {"created", show_time(job.created_at)},
                          {"started", show_time(job.started_at)},
                          {"finished", show_time(job.finished_at)},
                          {"claimed by", text(job.claimed_by)}});
}

std::string audit_table(const std::vector<api::AuditEntry>& entries, Width width)
{
    using A = api::AuditEntry;
    return table(entries,
                 {number<A>("ID", 1, [](const A& a) { return std::to_string(a.id); }),
                  col<A>("AT", 1, [](const A& a) { return show_time(a.at); }),
                  col<A>("ACTOR", 1, [](const A& a) { return a.actor; }),
                  col<A>("ACTION", 1, [](const A& a) { return a.action; }),
                  col<A>("TARGET", 2,
                         [](const A& a) { return a.target_type ? *a.target_type + " " + text(a.target_id) : "-"; }),
                  col<A>("OK", 2, [](const A& a) { return yes_no(a.success); }),
                  col<A>("SOURCE", 4, [](const A& a) { return text(a.source_address); }),
                  col<A>("DETAILS", 3, [](const A& a) { return a.details.empty() ? "-" : a.details.dump(); }, true)},
                 width);
}

std::string me_details(const api::Me& me)
{
    return render_fields({{"user", me.username},
                          {"display name", text(me.display_name)},
                          {"role", me.role},
                          {"last login", show_time(me.last_login_at)}});
}

std::string status_summary(const std::vector<api::User>& users, const std::vector<api::Pool>& pools,
                           const std::vector<api::Host>& hosts, const std::vector<api::Session>& live_sessions)
{
    long long desktops = 0, ready = 0, in_use = 0;
    for (const auto& pool : pools) {
        desktops += pool.desktops;
        ready += pool.ready;
        in_use += pool.in_use;
    }
    std::size_t online = 0;
    for (const auto& host : hosts) online += host.state == "online" ? 1 : 0;
    return fmt::format("users: {}  pools: {}  hosts: {} ({} online)  desktops: {} ({} ready, {} in use)  live "
                       "sessions: {}{}\n",
                       users.size(), pools.size(), hosts.size(), online, desktops, ready, in_use, live_sessions.size(),
                       live_sessions.size() >= 1000 ? "+" : "");
}

namespace {

std::string normal_of(const nlohmann::json& node, const char* p50, const char* p95)
{
    if (!node.contains(p50)) return "";
    return fmt::format("   pool p50 {:.1f} / p95 {:.1f} ms", node[p50].get<double>(), node[p95].get<double>());
}

void stage_lines(const nlohmann::json& stages, int depth, std::string& out)
{
    for (const auto& s : stages) {
        const std::string name = s.value("component", "") + " " + s.value("stage", "");
        out += fmt::format("{:>9.1f} ms  {:<{}}{:<{}}{:>8.1f} ms{}\n", s.value("start_ms", 0.0), "", depth * 2, name,
                           34 - depth * 2, s.value("duration_ms", 0.0), normal_of(s, "pool_p50_ms", "pool_p95_ms"));
        if (s.contains("stages")) {
            stage_lines(s["stages"], depth + 1, out);
            out += fmt::format("{:>12}  {:<{}}{:<{}}{:>8.1f} ms\n", "", "", (depth + 1) * 2, "unaccounted",
                               34 - (depth + 1) * 2, s.value("unaccounted_ms", 0.0));
        }
    }
}

}  // namespace

std::string timing_text(const nlohmann::json& timing)
{
    const auto& traces = timing.at("traces");
    std::string out = fmt::format("session {}: {} connect{} traced\n", timing.value("session_id", 0LL), traces.size(),
                                  traces.size() == 1 ? "" : "s");
    for (const auto& t : traces) {
        const bool reconnect = t["reconnect"].is_boolean() && t["reconnect"].get<bool>();
        const bool resumed = t["resumed"].is_boolean() && t["resumed"].get<bool>();
        out += fmt::format("\nconnect {} at {} over {}: {}{}, {:.1f} ms to the first picture{}\n", t.value("trace_id", 0LL),
                           t.value("at", std::string()), t.value("protocol", std::string()),
                           reconnect ? "an automatic reconnect" : "a login", resumed ? " to the running session" : "",
                           t.value("total_ms", 0.0), normal_of(t, "pool_total_p50_ms", "pool_total_p95_ms"));
        if (!t.value("client_reported", false)) out += "  (the thin client did not report its stages)\n";
        stage_lines(t["stages"], 0, out);
        if (t.contains("unaccounted_ms")) {
            out += fmt::format("{:>12}  {:<34}{:>8.1f} ms\n", "", "unaccounted", t["unaccounted_ms"].get<double>());
        }
    }
    return out;
}

}  // namespace vdi::admin
