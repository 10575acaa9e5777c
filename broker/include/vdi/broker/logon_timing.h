// Logon timing in the broker (docs/logon-timing.md): the writer that stores the broker's own
// stages of each connect (and the host agent's, which come with the ticket's acknowledgement)
// off the request path, and the tree an admin reads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "vdi/broker/connection_pool.h"
#include "vdi/common/db/logon_timing_repository.h"

namespace vdi::broker {

// Queues the broker's traces and writes them in one statement per period from its own thread, so
// a connect pays a vector push for its trace. When the database is down they are dropped (a
// trace is worth less than a retry storm), and counted.
class LogonTraceWriter {
public:
    explicit LogonTraceWriter(ConnectionPool& pool, std::chrono::milliseconds period = std::chrono::milliseconds(100));
    ~LogonTraceWriter();  // writes what is queued, then stops
    LogonTraceWriter(const LogonTraceWriter&) = delete;
    LogonTraceWriter& operator=(const LogonTraceWriter&) = delete;

    void add(db::BrokerTrace trace);
    // The display server's stages of a trace added before (they come once its client is in).
    void add_display(std::int64_t ticket_id, std::vector<db::LogonStage> stages);
    // Writes what is queued now and returns when it is written (tests).
    void flush();
    long dropped() const;

    static constexpr std::size_t max_queued = 20'000;  // traces

private:
    void loop();
    void write(std::vector<db::BrokerTrace>& traces, std::vector<db::DisplayStages>& displays);

    ConnectionPool& pool_;
    const std::chrono::milliseconds period_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable written_;
    std::vector<db::BrokerTrace> queue_;
    std::vector<db::DisplayStages> display_queue_;
    long generation_ = 0, written_generation_ = 0;
    long dropped_ = 0;
    bool flush_now_ = false, stop_ = false;
    std::thread thread_;
};

// The stages of one trace as a tree on one timeline (milliseconds from the client's Login, or
// from the broker's request when the client has not reported): each component's block placed
// inside the stage of the component that waited for it, centred (aligned by request and
// response, never by clocks), each stage with the pool's p50 and p95 from `normals`, and the
// time no stage of a level accounts for as "unaccounted_ms".
nlohmann::json timing_tree(const db::LogonTrace& trace, const std::map<db::StageKey, db::StageNormal>& normals);

// The client stages a thin client may report, in the order they happen.
const std::vector<std::string>& client_stage_names();

}  // namespace vdi::broker
