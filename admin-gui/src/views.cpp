// Tables and detail listings of the admin API's answers.
#include "views.h"

#include <functional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "table.h"

namespace vdi::admin {

namespace {

using nlohmann::json;

// A cell: "-" for absent or null, yes/no for booleans, lists joined.
std::string text(const json& row, const char* key)
{
    if (!row.is_object() || !row.contains(key) || row[key].is_null()) return "-";
    const json& value = row[key];
    if (value.is_string()) return value.get<std::string>().empty() ? "-" : value.get<std::string>();
    if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
    if (value.is_array()) {
        std::string out;
        for (const auto& item : value) out += (out.empty() ? "" : ",") + (item.is_string() ? item.get<std::string>() : item.dump());
        return out.empty() ? "-" : out;
    }
    return value.dump();
}

std::string time_of(const json& row, const char* key)
{
    const std::string value = text(row, key);
    return value == "-" ? value : format_timestamp(value);
}

std::string pool_of(const json& row, const char* key, const PoolNames& pools)
{
    if (!row.contains(key) || !row[key].is_number_integer()) return "-";
    const auto found = pools.find(row[key].get<long long>());
    return found != pools.end() ? found->second : std::to_string(row[key].get<long long>());
}

std::string seconds(const json& row, const char* key)
{
    const std::string value = text(row, key);
    return value == "-" ? "none" : value + " s";
}

struct Column {
    TableColumn spec;
    std::function<std::string(const json&)> cell;
};

Column col(std::string header, int priority, const char* key, bool flexible = false, bool right = false)
{
    return {{std::move(header), priority, flexible, right}, [key](const json& row) { return text(row, key); }};
}
Column col(std::string header, int priority, std::function<std::string(const json&)> cell, bool flexible = false,
           bool right = false)
{
    return {{std::move(header), priority, flexible, right}, std::move(cell)};
}
Column id_col()
{
    return col("ID", 1, "id", false, true);
}

std::string table(const json& rows, const std::vector<Column>& columns, Width width)
{
    std::vector<TableColumn> specs;
    for (const auto& c : columns) specs.push_back(c.spec);
    std::vector<std::vector<std::string>> cells;
    if (rows.is_array()) {
        for (const auto& row : rows) {
            std::vector<std::string> line;
            for (const auto& c : columns) line.push_back(c.cell(row));
            cells.push_back(std::move(line));
        }
    }
    return render_table(specs, cells, width);
}

std::string enabled(const json& row, const char* disabled_key)
{
    return row.value(disabled_key, false) ? "disabled" : "enabled";
}

std::vector<Column> user_columns()
{
    return {id_col(),
            col("USERNAME", 1, "username"),
            col("ROLE", 1, "role"),
            col("STATE", 1, [](const json& r) { return enabled(r, "disabled"); }),
            col("DISPLAY NAME", 2, "display_name", true),
            col("LAST LOGIN", 3, [](const json& r) { return time_of(r, "last_login_at"); }),
            col("CREATED", 4, [](const json& r) { return time_of(r, "created_at"); })};
}

}  // namespace

PoolNames pool_names(const json& pools)
{
    PoolNames names;
    if (pools.is_array()) {
        for (const auto& pool : pools) names[pool.value("id", 0LL)] = pool.value("name", "");
    }
    return names;
}

std::string users_table(const json& users, Width width)
{
    return table(users, user_columns(), width);
}

std::string user_details(const json& user)
{
    return render_fields({{"id", text(user, "id")},
                          {"username", text(user, "username")},
                          {"display name", text(user, "display_name")},
                          {"role", text(user, "role")},
                          {"state", enabled(user, "disabled")},
                          {"groups", text(user, "groups")},
                          {"created", time_of(user, "created_at")},
                          {"last login", time_of(user, "last_login_at")}});
}

std::string groups_table(const json& groups, Width width)
{
    return table(groups,
                 {id_col(), col("NAME", 1, "name"), col("MEMBERS", 1, "members", false, true),
                  col("DESCRIPTION", 2, "description", true)},
                 width);
}

std::string group_details(const json& group, Width width)
{
    std::string out = render_fields(
        {{"id", text(group, "id")}, {"name", text(group, "name")}, {"description", text(group, "description")}});
    const json members = group.value("members", json::array());
    out += fmt::format("\nmembers ({}):\n", members.size());
    if (!members.empty()) out += table(members, user_columns(), width);
    return out;
}

std::string pools_table(const json& pools, Width width)
{
    return table(pools,
                 {id_col(), col("NAME", 1, "name"),
                  col("STATE", 1, [](const json& r) { return r.value("enabled", true) ? "enabled" : "disabled"; }),
                  col("READY", 1, "ready", false, true), col("IN USE", 1, "in_use", false, true),
                  col("DESKTOPS", 2, "desktops", false, true),
                  col("MIN/MAX", 2, [](const json& r) { return text(r, "min_ready") + "/" + text(r, "max_size"); }),
                  col("ASSIGNMENT", 3, "assignment"), col("IMAGE", 3, "golden_image_id", false, true),
                  col("PROTOCOLS", 4, "protocols"), col("REFRESH", 5, "refresh_policy"),
                  col("DISPLAY NAME", 6, "display_name", true)},
                 width);
}

std::string pool_details(const json& pool, Width width)
{
    std::string out = render_fields({{"id", text(pool, "id")},
                                     {"name", text(pool, "name")},
                                     {"display name", text(pool, "display_name")},
                                     {"state", pool.value("enabled", true) ? "enabled" : "disabled"},
                                     {"assignment", text(pool, "assignment")},
                                     {"golden image", text(pool, "golden_image_id")},
                                     {"min ready", text(pool, "min_ready")},
                                     {"max size", text(pool, "max_size")},
                                     {"desktops", text(pool, "desktops")},
                                     {"ready", text(pool, "ready")},
                                     {"in use", text(pool, "in_use")},
                                     {"protocols", text(pool, "protocols")},
                                     {"refresh policy", text(pool, "refresh_policy")},
                                     {"refresh cron", text(pool, "refresh_cron")},
                                     {"idle timeout", seconds(pool, "idle_timeout_s")},
                                     {"disconnected timeout", seconds(pool, "disconnected_timeout_s")},
                                     {"max session", seconds(pool, "max_session_s")},
                                     {"created", time_of(pool, "created_at")},
                                     {"updated", time_of(pool, "updated_at")}});
    const json entitlements = pool.value("entitlements", json::array());
    out += fmt::format("\nentitlements ({}):\n", entitlements.size());
    if (!entitlements.empty()) {
        out += table(entitlements,
                     {id_col(), col("USER", 1, "username"), col("GROUP", 1, "group_name")}, width);
    }
    return out;
}

std::string images_table(const json& images, Width width)
{
    return table(images,
                 {id_col(), col("NAME", 1, "name"), col("VERSION", 1, "version", false, true), col("STATE", 1, "state"),
                  col("MEMORY", 2, [](const json& r) { return text(r, "memory_mib") + " MiB"; }, false, true),
                  col("VCPUS", 3, "vcpus", false, true),
                  col("DISPLAY", 4, [](const json& r) { return text(r, "fb_width") + "x" + text(r, "fb_height"); }),
                  col("CREATED", 3, [](const json& r) { return time_of(r, "created_at"); }),
                  col("DESCRIPTION", 5, "description", true), col("ERROR", 2, "error", true)},
                 width);
}

std::string image_details(const json& image)
{
    return render_fields({{"id", text(image, "id")},
                          {"name", text(image, "name")},
                          {"version", text(image, "version")},
                          {"state", text(image, "state")},
                          {"error", text(image, "error")},
                          {"state file", text(image, "state_path")},
                          {"memory file", text(image, "memory_path")},
                          {"memory", text(image, "memory_mib") + " MiB"},
                          {"vcpus", text(image, "vcpus")},
                          {"display", text(image, "fb_width") + "x" + text(image, "fb_height")},
                          {"description", text(image, "description")},
                          {"created", time_of(image, "created_at")}});
}

std::string desktops_table(const json& desktops, const PoolNames& pools, Width width)
{
    return table(desktops,
                 {id_col(), col("NAME", 1, "name"),
                  col("POOL", 1, [&pools](const json& r) { return pool_of(r, "pool_id", pools); }),
                  col("STATE", 1, "actual_state"), col("DESIRED", 2, "desired_state"),
                  col("USER", 2, "assigned_user_id", false, true), col("HOST", 3, "host_id", false, true),
                  col("GEN", 3, "generation", false, true), col("VNC", 4, "vnc_port", false, true),
                  col("RDP", 4, "rdp_port", false, true),
                  col("SINCE", 3, [](const json& r) { return time_of(r, "state_changed_at"); }),
                  col("ERROR", 2, "error", true)},
                 width);
}

std::string sessions_table(const json& sessions, const PoolNames& pools, Width width)
{
    return table(sessions,
                 {id_col(), col("USER", 1, "username"),
                  col("POOL", 1, [&pools](const json& r) { return pool_of(r, "pool_id", pools); }),
                  col("STATE", 1, "state"), col("DESKTOP", 2, "desktop_id", false, true),
                  col("PROTOCOL", 2, "protocol"),
                  col("STARTED", 2, [](const json& r) { return time_of(r, "started_at"); }),
                  col("LAST ACTIVITY", 4, [](const json& r) { return time_of(r, "last_activity_at"); }),
                  col("ENDED", 3, [](const json& r) { return time_of(r, "ended_at"); }),
                  col("CLIENT", 5, "client_address"), col("END REASON", 4, "end_reason", true)},
                 width);
}

std::string hosts_table(const json& hosts, Width width)
{
    return table(hosts,
                 {id_col(), col("NAME", 1, "name"), col("STATE", 1, "state"), col("ADDRESS", 2, "address"),
                  col("DESKTOPS", 1, "desktops", false, true), col("VCPUS", 3, "vcpus_total", false, true),
                  col("MEMORY", 3, [](const json& r) { return text(r, "memory_mib_total") + " MiB"; }, false, true),
                  col("HEARTBEAT", 2, [](const json& r) { return time_of(r, "last_heartbeat_at"); }),
                  col("VERSION", 4, "agent_version")},
                 width);
}

std::string jobs_table(const json& jobs, const PoolNames& pools, Width width)
{
    return table(jobs,
                 {id_col(), col("TYPE", 1, "type"),
                  col("POOL", 1, [&pools](const json& r) { return pool_of(r, "pool_id", pools); }),
                  col("STATE", 1, "state"),
                  col("PROGRESS", 1, [](const json& r) { return text(r, "progress_done") + "/" + text(r, "progress_total"); },
                      false, true),
                  col("IMAGE", 3, "target_image_id", false, true), col("CANCEL", 3, "cancel_requested"),
                  col("CREATED", 2, [](const json& r) { return time_of(r, "created_at"); }),
                  col("FINISHED", 3, [](const json& r) { return time_of(r, "finished_at"); }),
                  col("ERROR", 2, "error", true)},
                 width);
}

std::string job_details(const json& job, const PoolNames& pools)
{
    return render_fields({{"id", text(job, "id")},
                          {"type", text(job, "type")},
                          {"pool", pool_of(job, "pool_id", pools)},
                          {"target image", text(job, "target_image_id")},
                          {"state", text(job, "state")},
                          {"progress", text(job, "progress_done") + "/" + text(job, "progress_total")},
                          {"cancel requested", text(job, "cancel_requested")},
                          {"error", text(job, "error")},
                          {"run at", time_of(job, "run_at")},
                          {"force after", time_of(job, "force_after")},
                          {"created", time_of(job, "created_at")},
                          {"started", time_of(job, "started_at")},
                          {"finished", time_of(job, "finished_at")},
                          {"claimed by", text(job, "claimed_by")}});
}

std::string audit_table(const json& entries, Width width)
{
    return table(entries,
                 {id_col(), col("AT", 1, [](const json& r) { return time_of(r, "at"); }), col("ACTOR", 1, "actor"),
                  col("ACTION", 1, "action"),
                  col("TARGET", 2,
                      [](const json& r) {
                          const std::string type = text(r, "target_type");
                          return type == "-" ? type : type + " " + text(r, "target_id");
                      }),
                  col("OK", 2, "success"), col("SOURCE", 4, "source_address"),
                  col("DETAILS", 3,
                      [](const json& r) {
                          return r.contains("details") && !r["details"].empty() ? r["details"].dump() : "-";
                      },
                      true)},
                 width);
}

std::string describe(const json& object, const std::string& kind)
{
    const char* key = kind == "user" ? "username" : "name";
    std::string name = object.is_object() && object.contains(key) && object[key].is_string() ? object[key].get<std::string>() : "";
    if (kind == "image" && object.contains("version")) name += " v" + text(object, "version");
    return fmt::format("{}{}(id {})", kind, name.empty() ? " " : " " + name + " ", text(object, "id"));
}

std::optional<long long> last_id(const json& rows)
{
    if (!rows.is_array() || rows.empty() || !rows.back().contains("id")) return std::nullopt;
    return rows.back()["id"].get<long long>();
}

LoginInfo login_info(const json& login)
{
    LoginInfo info;
    info.token = login.value("token", "");
    info.expires_at = login.value("expires_at", "");
    if (login.contains("user") && login["user"].is_object()) {
        info.username = login["user"].value("username", "");
        info.role = login["user"].value("role", "");
    }
    return info;
}

std::string me_details(const json& me)
{
    return render_fields({{"user", text(me, "username")},
                          {"display name", text(me, "display_name")},
                          {"role", text(me, "role")},
                          {"last login", time_of(me, "last_login_at")}});
}

std::string status_summary(const json& users, const json& pools, const json& hosts, const json& live_sessions)
{
    long long desktops = 0, ready = 0, in_use = 0;
    for (const auto& pool : pools) {
        desktops += pool.value("desktops", 0LL);
        ready += pool.value("ready", 0LL);
        in_use += pool.value("in_use", 0LL);
    }
    std::size_t online = 0;
    for (const auto& host : hosts) online += host.value("state", "") == "online" ? 1 : 0;
    return fmt::format("users: {}  pools: {}  hosts: {} ({} online)  desktops: {} ({} ready, {} in use)  live "
                       "sessions: {}{}\n",
                       users.size(), pools.size(), hosts.size(), online, desktops, ready, in_use, live_sessions.size(),
                       live_sessions.size() >= 1000 ? "+" : "");
}

}  // namespace vdi::admin
