// JSON conversion of the user and authentication bodies.
#include "vdi/common/api/user.h"

namespace vdi::api {
namespace {

constexpr auto login_request_fields = [](auto& v, auto&& f) {
    f("user", v.user);
    f("password", v.password);
};
constexpr auto login_user_fields = [](auto& v, auto&& f) {
    f("id", v.id);
    f("username", v.username);
    f("role", v.role);
};
constexpr auto login_response_fields = [](auto& v, auto&& f) {
    f("token", v.token);
    f("expires_at", v.expires_at);
    f("user", v.user);
};
constexpr auto logout_fields = [](auto& v, auto&& f) { f("logged_out", v.logged_out); };
constexpr auto me_fields = [](auto& v, auto&& f) {
    f("id", v.id);
    f("username", v.username);
    f("display_name", v.display_name);
    f("role", v.role);
    f("last_login_at", v.last_login_at);
};
constexpr auto user_fields = [](auto& v, auto&& f) {
    f("id", v.id);
    f("username", v.username);
    f("display_name", v.display_name);
    f("role", v.role);
    f("disabled", v.disabled);
    f("created_at", v.created_at);
    f("last_login_at", v.last_login_at);
};
constexpr auto create_user_fields = [](auto& v, auto&& f) {
    f("username", v.username);
    f("password", v.password);
    f("display_name", v.display_name);
    f("role", v.role);
};
constexpr auto update_user_fields = [](auto& v, auto&& f) {
    f("display_name", v.display_name);
    f("password", v.password);
    f("role", v.role);
    f("disabled", v.disabled);
};

}  // namespace

void to_json(nlohmann::json& j, const LoginRequest& v) { field::write_request(j, v, login_request_fields); }
void from_json(const nlohmann::json& j, LoginRequest& v) { field::read(j, v, login_request_fields); }
void to_json(nlohmann::json& j, const LoginUser& v) { field::write_response(j, v, login_user_fields); }
void from_json(const nlohmann::json& j, LoginUser& v) { field::read(j, v, login_user_fields); }
void to_json(nlohmann::json& j, const LoginResponse& v) { field::write_response(j, v, login_response_fields); }
void from_json(const nlohmann::json& j, LoginResponse& v) { field::read(j, v, login_response_fields); }
void to_json(nlohmann::json& j, const LogoutResponse& v) { field::write_response(j, v, logout_fields); }
void from_json(const nlohmann::json& j, LogoutResponse& v) { field::read(j, v, logout_fields); }
void to_json(nlohmann::json& j, const Me& v) { field::write_response(j, v, me_fields); }
void from_json(const nlohmann::json& j, Me& v) { field::read(j, v, me_fields); }
void to_json(nlohmann::json& j, const User& v) { field::write_response(j, v, user_fields); }
void from_json(const nlohmann::json& j, User& v) { field::read(j, v, user_fields); }

void to_json(nlohmann::json& j, const UserDetail& v)
{
    field::write_response(j, static_cast<const User&>(v), user_fields);
    field::put(j, "groups", v.groups);
}
void from_json(const nlohmann::json& j, UserDetail& v)
{
    field::read(j, static_cast<User&>(v), user_fields);
    field::get(j, "groups", v.groups);
}

void to_json(nlohmann::json& j, const CreateUserRequest& v) { field::write_request(j, v, create_user_fields); }
void from_json(const nlohmann::json& j, CreateUserRequest& v) { field::read(j, v, create_user_fields); }
void to_json(nlohmann::json& j, const UpdateUserRequest& v) { field::write_request(j, v, update_user_fields); }
void from_json(const nlohmann::json& j, UpdateUserRequest& v) { field::read(j, v, update_user_fields); }

}  // namespace vdi::api
