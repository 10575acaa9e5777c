// Logon timing (table logon_traces, view logon_stages: sql/0006_logon_timing.sql): each
// connect's stages, as every component measured them on its own clock. docs/logon-timing.md.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vdi/common/db/database.h"
#include "vdi/common/db/enums.h"

namespace vdi::db {

// One stage: a start on its component's clock (from that component's first moment in the trace)
// and a length, both in microseconds.
struct LogonStage {
    std::string component;  // "client" | "broker" | "host" | "display"
    std::string stage;      // [a-z][a-z_]{0,39}
    std::int64_t start_us = 0;
    std::int64_t duration_us = 0;
};

// [a-z][a-z_]{0,39}.
bool valid_stage_name(std::string_view name);

struct LogonTrace {
    Id ticket_id = 0;  // the connect's display ticket: the trace's id
    Id session_id = 0;
    Id pool_id = 0;
    DisplayProtocol protocol = DisplayProtocol::vnc;
    std::optional<bool> resumed;    // the broker's: it picked up the user's live session
    std::optional<bool> reconnect;  // the client's: an automatic reconnect
    Timestamp created_at;
    std::vector<LogonStage> stages;  // by component, then start
};

// The broker's report of one connect: its stages and the host agent's ("broker" and "host").
struct BrokerTrace {
    Id ticket_id = 0;
    Id session_id = 0;
    Id pool_id = 0;
    DisplayProtocol protocol = DisplayProtocol::vnc;
    bool resumed = false;
    std::vector<LogonStage> stages;
};

// The display server's stages of one trace (component "display"), which the broker that served the
// connect hears from the host agent once the client is in.
struct DisplayStages {
    Id ticket_id = 0;
    std::vector<LogonStage> stages;
};

// A stage's normal in a pool: percentiles of its length over a period.
struct StageNormal {
    double p50_us = 0;
    double p95_us = 0;
    long count = 0;
};
using StageKey = std::pair<std::string, std::string>;  // component, stage

enum class ClientTimingOutcome { recorded, not_found, already_reported };
struct ClientTimingResult {
    ClientTimingOutcome outcome = ClientTimingOutcome::not_found;
    std::string pool;  // the connect's pool's name (when found)
};

// One stage's percentiles in one period of a pool's logon statistics.
struct StageStats {
    Timestamp period;  // the period's start
    std::string component, stage;
    double p50_us = 0, p95_us = 0;
    long count = 0;
};

class LogonTimingRepository {
public:
    explicit LogonTimingRepository(pqxx::transaction_base& tx) : tx_(tx) {}

    // The broker's reports, one statement for all of them; a trace whose broker part is there
    // already keeps it. Returns how many were stored.
    int add_broker_traces(const std::vector<BrokerTrace>& traces);
    // The display servers' reports, one statement for all: only into traces that exist, and only
    // once. Returns how many were stored.
    int add_display_stages(const std::vector<DisplayStages>& displays);
    // The thin client's report: only for a connect (its display ticket) of `session_id`, a
    // session of `user_id`, and only once.
    ClientTimingResult add_client_stages(Id ticket_id, Id session_id, Id user_id, bool reconnect,
                                         const std::vector<LogonStage>& stages);
    // A session's traces with their stages, newest first.
    std::vector<LogonTrace> traces_of_session(Id session_id, int limit);
    // Each stage's p50 and p95 in `pool_id` over the traces since `since`.
    std::map<StageKey, StageNormal> pool_normals(Id pool_id, Timestamp since);
    // Each stage's p50 and p95 per period of `period_s` seconds since `since`, oldest first.
    std::vector<StageStats> pool_stats(Id pool_id, Timestamp since, long period_s);

private:
    pqxx::transaction_base& tx_;
};

}  // namespace vdi::db
