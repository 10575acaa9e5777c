// Logon timing (tables logon_traces and logon_stages, sql/0006_logon_timing.sql): each connect's
// stages, as every component measured them on its own clock. docs/logon-timing.md.
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

// [a-z][a-z_]{0,39}, as the table requires.
bool valid_stage_name(std::string_view name);

struct LogonTrace {
    Id ticket_id = 0;  // the connect's display ticket: the trace's id
    Id session_id = 0;
    Id pool_id = 0;
    DisplayProtocol protocol = DisplayProtocol::vnc;
    bool resumed = false;             // the broker picked up the user's live session
    std::optional<bool> reconnect;    // the client's: an automatic reconnect (unknown until it reports)
    Timestamp created_at;
    std::vector<LogonStage> stages;   // by component, then start
};

// A stage's normal in a pool: percentiles of its length over a period.
struct StageNormal {
    double p50_us = 0;
    double p95_us = 0;
    long count = 0;
};
using StageKey = std::pair<std::string, std::string>;  // component, stage

enum class ClientTimingOutcome { recorded, not_found, already_reported };

class LogonTimingRepository {
public:
    explicit LogonTimingRepository(pqxx::transaction_base& tx) : tx_(tx) {}

    // Adds one component's stages to the trace of `ticket_id`; a stage already there is kept as
    // it is. Returns how many were added (0 when there is no such trace).
    int add_stages(Id ticket_id, const std::vector<LogonStage>& stages);
    // The same for many traces in one statement (the broker's writer).
    int add_stage_rows(const std::vector<std::pair<Id, LogonStage>>& rows);
    // The thin client's report: only into a trace of `session_id`, a session of `user_id`, and
    // only once. Run it in a transaction: the trace row is locked while it is checked.
    ClientTimingOutcome add_client_stages(Id ticket_id, Id session_id, Id user_id, bool reconnect,
                                          const std::vector<LogonStage>& stages);
    // A session's traces with their stages, newest first.
    std::vector<LogonTrace> traces_of_session(Id session_id, int limit);
    std::optional<LogonTrace> find(Id ticket_id);
    // Each stage's p50 and p95 in `pool_id` over the traces since `since`.
    std::map<StageKey, StageNormal> pool_normals(Id pool_id, Timestamp since);

private:
    std::vector<LogonStage> stages_of(Id ticket_id);
    pqxx::transaction_base& tx_;
};

}  // namespace vdi::db
