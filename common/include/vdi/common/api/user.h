// Users and authentication: POST /api/v1/login, /logout, GET /me, and the admin's
// /api/v1/admin/users routes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "vdi/common/api/json.h"

namespace vdi::api {

// The shortest password the broker accepts for an account (POST/PATCH /api/v1/admin/users); the
// route table and vdictl bootstrap-admin both use it.
constexpr std::size_t min_password_length = 8;

// ---- thin clients

// POST /api/v1/login
struct LoginRequest {
    std::string user;
    std::string password;
};
struct LoginUser {
    Id id = 0;
    std::string username;
    std::string role;  // "user" | "admin" | "helpdesk" | "auditor"
};
struct LoginResponse {
    std::string token;  // the bearer token; only its hash is stored
    Time expires_at;
    LoginUser user;
};

// POST /api/v1/logout: {"logged_out": true}
struct LogoutResponse {
    bool logged_out = true;
};

// GET /api/v1/me
struct Me {
    Id id = 0;
    std::string username;
    std::string display_name;
    std::string role;  // "user" | "admin" | "helpdesk" | "auditor"
    std::optional<Time> last_login_at;
};

// ---- administration

// GET /api/v1/admin/users (a list of these), and the answer of every change to a user.
// Never a password hash.
struct User {
    Id id = 0;
    std::string username;
    std::string display_name;
    std::string role;  // "user" | "admin" | "helpdesk" | "auditor"
    bool disabled = false;
    Time created_at;
    std::optional<Time> last_login_at;
};

// GET /api/v1/admin/users/{id}: the user and the names of their groups (by name).
struct UserDetail : User {
    std::vector<std::string> groups;
};

// POST /api/v1/admin/users
struct CreateUserRequest {
    std::string username;
    std::string password;  // 8 characters or more
    std::optional<std::string> display_name;
    std::optional<std::string> role;  // "user" (default) | "admin" | "helpdesk" | "auditor"
};

// PATCH /api/v1/admin/users/{id}: only the fields given change.
struct UpdateUserRequest {
    std::optional<std::string> display_name;
    std::optional<std::string> password;  // revokes the user's tokens
    std::optional<std::string> role;
    std::optional<bool> disabled;  // true revokes the user's tokens
};

void to_json(nlohmann::json& j, const LoginRequest& v);
void from_json(const nlohmann::json& j, LoginRequest& v);
void to_json(nlohmann::json& j, const LoginUser& v);
void from_json(const nlohmann::json& j, LoginUser& v);
void to_json(nlohmann::json& j, const LoginResponse& v);
void from_json(const nlohmann::json& j, LoginResponse& v);
void to_json(nlohmann::json& j, const LogoutResponse& v);
void from_json(const nlohmann::json& j, LogoutResponse& v);
void to_json(nlohmann::json& j, const Me& v);
void from_json(const nlohmann::json& j, Me& v);
void to_json(nlohmann::json& j, const User& v);
void from_json(const nlohmann::json& j, User& v);
void to_json(nlohmann::json& j, const UserDetail& v);
void from_json(const nlohmann::json& j, UserDetail& v);
void to_json(nlohmann::json& j, const CreateUserRequest& v);
void from_json(const nlohmann::json& j, CreateUserRequest& v);
void to_json(nlohmann::json& j, const UpdateUserRequest& v);
void from_json(const nlohmann::json& j, UpdateUserRequest& v);

}  // namespace vdi::api
