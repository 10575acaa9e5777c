// Desktops: the thin client's desktop list and connect, and the admin's /api/v1/admin/desktops
// routes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vdi/common/api/json.h"
#include "vdi/common/api/session.h"

namespace vdi::api {

// ---- thin clients

// A pool the caller is entitled to, as GET /api/v1/desktops lists it.
struct EntitledPool {
    std::string name;
    std::string display_name;
    std::string assignment;              // "floating" | "dedicated"
    std::vector<std::string> protocols;  // "vnc", "rdp"
    bool available = false;              // ready > 0
    int ready = 0;                       // ready desktops, counted up to 100
};

// GET /api/v1/desktops
struct DesktopList {
    std::vector<EntitledPool> pools;
    std::vector<UserSession> sessions;
};

// POST /api/v1/desktops/{pool}/connect
struct ConnectRequest {
    std::string protocol;  // "vnc" | "rdp"
};
struct ConnectResponse {
    Id session_id = 0;
    std::string pool;
    std::string desktop;
    std::string host;  // where the display server listens
    int port = 0;
    std::string protocol;
    std::string ticket;  // the one-time display password
    Time ticket_expires_at;
    bool reconnected = false;
    // the connect's logon trace, to report the client's stages to (absent when tracing is off)
    std::optional<Id> trace_id;
};

// POST /api/v1/sessions/{id}/timing: the thin client's stages of one connect, on its own clock,
// in microseconds from the Login button (or the drop, for a reconnect)
struct TimingStage {
    std::string stage;  // one of the client stages (docs/logon-timing.md)
    long long start_us = 0;
    long long duration_us = 0;
};
struct TimingReport {
    Id trace_id = 0;
    bool reconnect = false;
    long long total_us = 0;
    std::vector<TimingStage> stages;
};

// ---- administration

// GET /api/v1/admin/desktops (paged, newest first)
struct Desktop {
    Id id = 0;
    Id pool_id = 0;
    std::string name;
    std::optional<Id> host_id;
    Id golden_image_id = 0;
    std::string desired_state;  // "running" | "stopped" | "deleted"
    std::string actual_state;   // "pending" | "starting" | "running" | "stopping" | "stopped" | "failed" | "lost"
    long long generation = 0;
    std::optional<long long> actual_generation;
    std::optional<long long> ready_generation;
    std::optional<int> vnc_port;
    std::optional<int> rdp_port;
    std::optional<int> vmm_pid;
    std::optional<Id> owner_user_id;
    std::optional<Id> assigned_user_id;
    std::optional<Time> assigned_at;
    std::optional<std::string> error;
    Time created_at;
    Time state_changed_at;
};

// POST /api/v1/admin/desktops/{id}/refresh
struct DesktopRefreshed {
    Id id = 0;
    long long generation = 0;          // the new one
    std::optional<Id> ended_session;  // the session the refresh ended
};

void to_json(nlohmann::json& j, const EntitledPool& v);
void from_json(const nlohmann::json& j, EntitledPool& v);
void to_json(nlohmann::json& j, const DesktopList& v);
void from_json(const nlohmann::json& j, DesktopList& v);
void to_json(nlohmann::json& j, const ConnectRequest& v);
void from_json(const nlohmann::json& j, ConnectRequest& v);
void to_json(nlohmann::json& j, const ConnectResponse& v);
void from_json(const nlohmann::json& j, ConnectResponse& v);
void to_json(nlohmann::json& j, const TimingStage& v);
void from_json(const nlohmann::json& j, TimingStage& v);
void to_json(nlohmann::json& j, const TimingReport& v);
void from_json(const nlohmann::json& j, TimingReport& v);
void to_json(nlohmann::json& j, const Desktop& v);
void from_json(const nlohmann::json& j, Desktop& v);
void to_json(nlohmann::json& j, const DesktopRefreshed& v);
void from_json(const nlohmann::json& j, DesktopRefreshed& v);

}  // namespace vdi::api
