// The schema's enum types as C++ enums, with conversion to and from their PostgreSQL labels.
// The label tables must match sql/ exactly; a test compares them with pg_enum.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "vdi/common/error.h"

namespace vdi::db {

enum class UserRole { user, admin, helpdesk, auditor };
enum class ImageState { building, ready, failed, retired };
enum class HostState { online, draining, lost, offline };
enum class PoolAssignment { floating, dedicated };
enum class DisplayProtocol { vnc, rdp };
enum class RefreshPolicy { on_logoff, never };
enum class DesktopDesiredState { running, stopped, deleted };
enum class DesktopActualState { pending, starting, running, stopping, stopped, failed, lost };
enum class SessionState { active, disconnected, ended };
enum class LockoutScope { user, address };
enum class JobType { refresh_pool, image_push };
enum class JobState { queued, running, succeeded, failed, cancelled };
// what broker_connect() (sql/0004_broker_connect.sql) decided
enum class ConnectOutcome {
    unauthenticated, assigned, reconnected, no_pool, no_protocol, not_running, no_display, none_ready
};

// EnumTraits<E>::sql_type is the PostgreSQL type name; labels are in declaration order.
template <typename E>
struct EnumTraits;

#define VDI_DB_ENUM(E, SQL_TYPE, ...)                                         \
    template <>                                                               \
    struct EnumTraits<E> {                                                    \
        static constexpr std::string_view sql_type = SQL_TYPE;                \
        static constexpr auto labels = std::to_array<std::string_view>({__VA_ARGS__}); \
    };

VDI_DB_ENUM(UserRole, "user_role", "user", "admin", "helpdesk", "auditor")
VDI_DB_ENUM(ImageState, "image_state", "building", "ready", "failed", "retired")
VDI_DB_ENUM(HostState, "host_state", "online", "draining", "lost", "offline")
VDI_DB_ENUM(PoolAssignment, "pool_assignment", "floating", "dedicated")
VDI_DB_ENUM(DisplayProtocol, "display_protocol", "vnc", "rdp")
VDI_DB_ENUM(RefreshPolicy, "refresh_policy", "on_logoff", "never")
VDI_DB_ENUM(DesktopDesiredState, "desktop_desired_state", "running", "stopped", "deleted")
VDI_DB_ENUM(DesktopActualState, "desktop_actual_state", "pending", "starting", "running", "stopping", "stopped",
            "failed", "lost")
VDI_DB_ENUM(SessionState, "session_state", "active", "disconnected", "ended")
VDI_DB_ENUM(LockoutScope, "lockout_scope", "user", "address")
VDI_DB_ENUM(JobType, "job_type", "refresh_pool", "image_push")
VDI_DB_ENUM(JobState, "job_state", "queued", "running", "succeeded", "failed", "cancelled")
VDI_DB_ENUM(ConnectOutcome, "broker_connect outcome", "unauthenticated", "assigned", "reconnected", "no_pool",
            "no_protocol", "not_running", "no_display", "none_ready")

#undef VDI_DB_ENUM

template <typename E>
std::string to_string(E value)
{
    return std::string(EnumTraits<E>::labels.at(static_cast<std::size_t>(value)));
}

// Throws vdi::Error naming the type and the accepted labels.
template <typename E>
E enum_from_string(std::string_view label)
{
    const auto& labels = EnumTraits<E>::labels;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] == label) {
            return static_cast<E>(i);
        }
    }
    throw Error(fmt::format("'{}' is not a valid {} (expected one of: {})", label, EnumTraits<E>::sql_type,
                            fmt::join(labels, ", ")));
}

// PostgreSQL array literal of enum labels: {vnc,rdp}
template <typename E>
std::string to_sql_array(const std::vector<E>& values)
{
    std::vector<std::string> labels;
    for (E value : values) {
        labels.push_back(to_string(value));
    }
    return fmt::format("{{{}}}", fmt::join(labels, ","));
}

// Parses the output of array_to_string(column, ',').
template <typename E>
std::vector<E> enums_from_csv(std::string_view csv)
{
    std::vector<E> out;
    while (!csv.empty()) {
        const auto comma = csv.find(',');
        out.push_back(enum_from_string<E>(csv.substr(0, comma)));
        csv = comma == std::string_view::npos ? std::string_view{} : csv.substr(comma + 1);
    }
    return out;
}

}  // namespace vdi::db
