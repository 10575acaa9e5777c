// The broker's logon trace writer and the timing tree.
#include "vdi/broker/logon_timing.h"

#include <algorithm>
#include <functional>
#include <optional>

#include "vdi/common/db/database.h"
#include "vdi/common/logging.h"

namespace vdi::broker {

LogonTraceWriter::LogonTraceWriter(ConnectionPool& pool, std::chrono::milliseconds period)
    : pool_(pool), period_(period), thread_([this] { loop(); })
{
}

LogonTraceWriter::~LogonTraceWriter()
{
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void LogonTraceWriter::add(db::BrokerTrace trace)
{
    std::lock_guard lock(mutex_);
    if (queue_.size() >= max_queued) {
        ++dropped_;
        return;
    }
    queue_.push_back(std::move(trace));
    ++generation_;
}

void LogonTraceWriter::add_display(std::int64_t ticket_id, std::vector<db::LogonStage> stages)
{
    std::lock_guard lock(mutex_);
    if (display_queue_.size() >= max_queued) {
        ++dropped_;
        return;
    }
    display_queue_.push_back({ticket_id, std::move(stages)});
    ++generation_;
}

void LogonTraceWriter::flush()
{
    std::unique_lock lock(mutex_);
    const long wanted = generation_;
    flush_now_ = true;
    wake_.notify_all();
    written_.wait(lock, [&] { return written_generation_ >= wanted || stop_; });
}

long LogonTraceWriter::dropped() const
{
    std::lock_guard lock(mutex_);
    return dropped_;
}

void LogonTraceWriter::loop()
{
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait_for(lock, period_, [&] { return stop_ || flush_now_; });
        flush_now_ = false;
        std::vector<db::BrokerTrace> rows;
        rows.swap(queue_);
        std::vector<db::DisplayStages> displays;
        displays.swap(display_queue_);
        const long taken = generation_;
        const bool stopping = stop_;
        lock.unlock();
        if (!rows.empty() || !displays.empty()) write(rows, displays);
        lock.lock();
        written_generation_ = taken;
        written_.notify_all();
        if (stopping) return;
    }
}

void LogonTraceWriter::write(std::vector<db::BrokerTrace>& traces, std::vector<db::DisplayStages>& displays)
{
    try {
        auto lease = pool_.acquire();
        // (the traces first: a display's stages may belong to a trace of the same batch)
        db::in_autocommit(*lease, "store logon traces", [&](pqxx::nontransaction& tx) {
            db::LogonTimingRepository repository(tx);
            repository.add_broker_traces(traces);
            repository.add_display_stages(displays);
        });
    } catch (const std::exception& e) {
        std::lock_guard lock(mutex_);
        dropped_ += static_cast<long>(traces.size() + displays.size());
        logger("broker.timing")->warn("logon traces not stored traces={} error=\"{}\"", traces.size(), e.what());
    }
}

const std::vector<std::string>& client_stage_names()
{
    static const std::vector<std::string> names = {"sign_in",          "desktop_list",       "pool_choice",
                                                   "reconnect_wait",   "connect_request",    "display_connection",
                                                   "display_authentication", "first_picture"};
    return names;
}

namespace {

using Key = db::StageKey;

struct Node {
    Key key;
    double start_ms = 0;
    double duration_ms = 0;
    std::vector<Node> children;
};

double ms(std::int64_t us)
{
    return static_cast<double>(us) / 1000.0;
}

// Where a stage hangs: its parent's key, or none (the root).
std::optional<Key> parent_of(const Key& key)
{
    const auto& [component, stage] = key;
    if (component == "broker") {
        if (stage == "request") return Key{"client", "connect_request"};
        if (stage == "token_check" || stage == "claim" || stage == "reconnect" || stage == "ticket") {
            return Key{"broker", "statement"};
        }
        return Key{"broker", "request"};
    }
    if (component == "host") return Key{"broker", "ticket_delivery"};
    if (component == "display") {
        // each in the client's stage that waited for it: the protocol's handshake in the
        // connection, the ticket's check in the authentication, the first update in the picture
        if (stage == "handshake") return Key{"client", "display_connection"};
        if (stage == "authentication") return Key{"client", "display_authentication"};
        if (stage == "first_update") return Key{"client", "first_picture"};
    }
    return std::nullopt;  // client stages: the root
}

// The union of the intervals' lengths.
double covered(std::vector<std::pair<double, double>> spans)
{
    std::sort(spans.begin(), spans.end());
    double total = 0, end = -1e300, start = 0;
    for (const auto& [s, e] : spans) {
        if (s > end) {
            if (end > start) total += end - start;
            start = s;
            end = e;
        } else {
            end = std::max(end, e);
        }
    }
    if (end > start) total += end - start;
    return total;
}

nlohmann::json to_json(const Node& node, const std::map<Key, db::StageNormal>& normals)
{
    nlohmann::json out = {{"component", node.key.first}, {"stage", node.key.second},
                          {"start_ms", node.start_ms},   {"duration_ms", node.duration_ms}};
    if (const auto it = normals.find(node.key); it != normals.end()) {
        out["pool_p50_ms"] = it->second.p50_us / 1000.0;
        out["pool_p95_ms"] = it->second.p95_us / 1000.0;
        out["pool_traces"] = it->second.count;
    }
    if (!node.children.empty()) {
        std::vector<std::pair<double, double>> spans;
        nlohmann::json children = nlohmann::json::array();
        for (const auto& child : node.children) {
            spans.emplace_back(child.start_ms, child.start_ms + child.duration_ms);
            children.push_back(to_json(child, normals));
        }
        out["unaccounted_ms"] = std::max(0.0, node.duration_ms - covered(spans));
        out["stages"] = std::move(children);
    }
    return out;
}

}  // namespace

nlohmann::json timing_tree(const db::LogonTrace& trace, const std::map<db::StageKey, db::StageNormal>& normals)
{
    // each component's stages on its own clock
    std::map<std::string, std::vector<Node>> by_component;
    std::optional<double> client_total;
    for (const auto& s : trace.stages) {
        if (s.component == "client" && s.stage == "total") {
            client_total = ms(s.duration_us);
            continue;
        }
        by_component[s.component].push_back(Node{{s.component, s.stage}, ms(s.start_us), ms(s.duration_us), {}});
    }
    const auto find = [&](const Key& key) -> const Node* {
        const auto it = by_component.find(key.first);
        if (it == by_component.end()) return nullptr;
        for (const auto& n : it->second) {
            if (n.key == key) return &n;
        }
        return nullptr;
    };
    const auto span_of = [](const std::vector<Node>& nodes) {
        double end = 0;
        for (const auto& n : nodes) end = std::max(end, n.start_ms + n.duration_ms);
        return end;
    };
    // a block of `length` centred in [start, start + room] (at its start if it does not fit)
    const auto centred = [](double start, double room, double length) {
        return start + std::max(0.0, (room - length) / 2);
    };
    const auto shift = [&](const std::string& component, double by) {
        for (auto& n : by_component[component]) n.start_ms += by;
    };
    // the broker's block in the client's connect request
    if (by_component.count("broker") != 0) {
        const Node* request = find({"broker", "request"});
        const double length = request ? request->duration_ms : span_of(by_component["broker"]);
        if (const Node* wait = find({"client", "connect_request"})) {
            shift("broker", centred(wait->start_ms, wait->duration_ms, length));
        }
    }
    // the host agent's in the broker's wait for the ticket's acknowledgement
    if (by_component.count("host") != 0) {
        const double length = span_of(by_component["host"]);
        if (const Node* wait = find({"broker", "ticket_delivery"})) {
            shift("host", centred(wait->start_ms, wait->duration_ms, length));
        }
    }
    // the display server's, each in the client's stage that waited for it; without the client's
    // report, as one block after the broker's answer
    if (by_component.count("display") != 0) {
        const bool placed_by_client = std::all_of(by_component["display"].begin(), by_component["display"].end(),
                                                  [&](const Node& n) { return parent_of(n.key) && find(*parent_of(n.key)); });
        if (placed_by_client) {
            for (auto& n : by_component["display"]) {
                const Node* wait = find(*parent_of(n.key));
                n.start_ms = centred(wait->start_ms, wait->duration_ms, n.duration_ms);
            }
        } else if (const Node* request = find({"broker", "request"})) {
            shift("display", request->start_ms + request->duration_ms);
        }
    }

    // hang every stage under its parent (deepest first, so that children travel with parents)
    std::vector<Node> all;
    for (auto& [component, nodes] : by_component) {
        for (auto& n : nodes) all.push_back(std::move(n));
    }
    const auto depth = [&](const Key& key) {
        int d = 0;
        for (auto p = parent_of(key); p; p = parent_of(*p)) ++d;
        return d;
    };
    std::stable_sort(all.begin(), all.end(), [&](const Node& a, const Node& b) { return depth(a.key) > depth(b.key); });
    std::vector<Node> roots;
    while (!all.empty()) {
        Node node = std::move(all.front());
        all.erase(all.begin());
        const auto parent = parent_of(node.key);
        auto it = parent ? std::find_if(all.begin(), all.end(), [&](const Node& n) { return n.key == *parent; })
                         : all.end();
        if (it != all.end()) {
            it->children.push_back(std::move(node));
        } else {
            roots.push_back(std::move(node));
        }
    }
    const auto by_start = [](const Node& a, const Node& b) { return a.start_ms < b.start_ms; };
    std::function<void(std::vector<Node>&)> order = [&](std::vector<Node>& nodes) {
        std::stable_sort(nodes.begin(), nodes.end(), by_start);
        for (auto& n : nodes) order(n.children);
    };
    order(roots);

    double total = client_total.value_or(0);
    if (!client_total) {
        for (const auto& n : roots) total = std::max(total, n.start_ms + n.duration_ms);
    }
    std::vector<std::pair<double, double>> spans;
    nlohmann::json stages = nlohmann::json::array();
    for (const auto& n : roots) {
        if (n.key.first == "client") spans.emplace_back(n.start_ms, n.start_ms + n.duration_ms);
        stages.push_back(to_json(n, normals));
    }
    nlohmann::json out = {{"trace_id", trace.ticket_id},
                          {"session_id", trace.session_id},
                          {"pool_id", trace.pool_id},
                          {"protocol", db::to_string(trace.protocol)},
                          {"resumed", trace.resumed ? nlohmann::json(*trace.resumed) : nlohmann::json(nullptr)},
                          {"reconnect", trace.reconnect ? nlohmann::json(*trace.reconnect) : nlohmann::json(nullptr)},
                          {"at", db::to_sql(trace.created_at)},
                          {"client_reported", client_total.has_value()},
                          {"total_ms", total},
                          {"stages", std::move(stages)}};
    if (client_total) out["unaccounted_ms"] = std::max(0.0, total - covered(spans));
    if (const auto it = normals.find({"client", "total"}); it != normals.end()) {
        out["pool_total_p50_ms"] = it->second.p50_us / 1000.0;
        out["pool_total_p95_ms"] = it->second.p95_us / 1000.0;
    }
    return out;
}

}  // namespace vdi::broker
