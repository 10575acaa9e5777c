// Desktop sessions: the thin client's disconnect and logoff, its live sessions in the desktop
// list, and the admin's /api/v1/admin/sessions routes.
#pragma once

#include <optional>
#include <string>

#include "vdi/common/api/json.h"

namespace vdi::api {

// ---- thin clients

// A live session of the caller, as GET /api/v1/desktops lists it (api/desktop.h).
struct UserSession {
    Id id = 0;
    std::string pool;
    std::string desktop;
    std::string protocol;  // "vnc" | "rdp"
    std::string state;     // "active" | "disconnected"
    Time started_at;
    std::optional<Time> disconnected_at;
    std::optional<std::string> warning;  // e.g. a forced refresh ahead
    std::optional<Time> warning_deadline;  // when the warned action happens (a refresh job's force_after)
};

// POST /api/v1/sessions/{id}/disconnect: {"session_id": ID, "state": "disconnected"}
struct DisconnectResponse {
    Id session_id = 0;
    std::string state = "disconnected";
};

// POST /api/v1/sessions/{id}/logoff and POST /api/v1/admin/sessions/{id}/logoff. `generation`
// (the desktop's new one) is there only when `refresh` is true.
struct LogoffResponse {
    Id session_id = 0;
    std::string state = "ended";
    bool refresh = false;
    std::optional<long long> generation;
};

// ---- administration

// GET /api/v1/admin/sessions (paged, newest first)
struct Session {
    Id id = 0;
    Id user_id = 0;
    std::string username;
    Id desktop_id = 0;
    Id pool_id = 0;
    long long desktop_generation = 0;
    std::string protocol;  // "vnc" | "rdp"
    std::string state;     // "active" | "disconnected" | "ended"
    std::optional<std::string> client_address;
    Time started_at;
    Time last_activity_at;
    std::optional<Time> disconnected_at;
    std::optional<Time> ended_at;
    std::optional<std::string> end_reason;
};

void to_json(nlohmann::json& j, const UserSession& v);
void from_json(const nlohmann::json& j, UserSession& v);
void to_json(nlohmann::json& j, const DisconnectResponse& v);
void from_json(const nlohmann::json& j, DisconnectResponse& v);
void to_json(nlohmann::json& j, const LogoffResponse& v);
void from_json(const nlohmann::json& j, LogoffResponse& v);
void to_json(nlohmann::json& j, const Session& v);
void from_json(const nlohmann::json& j, Session& v);

}  // namespace vdi::api
