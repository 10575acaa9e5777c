// vdictl login, logout, whoami and status: the stored login and the broker's state at a glance.
#include <iostream>

#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include "commands.h"
#include "table.h"
#include "views.h"

namespace vdi::admin {

namespace {

std::string prompt_line(const std::string& prompt)
{
    std::cerr << prompt << std::flush;
    std::string line;
    std::getline(std::cin, line);
    return line;
}

int login(CliContext& context, const std::optional<std::string>& user_option, bool password_stdin)
{
    const CredentialStore store = context.store();
    std::optional<StoredLogin> stored;
    try {
        stored = store.load();
    } catch (const Error& e) {
        std::cerr << "vdictl: ignoring the stored login: " << e.what() << "\n";
    }
    const BrokerAddress address = context.login_address(stored);
    const BrokerTrust trust = context.login_trust(address, stored);
    std::string user;
    if (user_option) {
        user = *user_option;
    } else if (stored && stored->broker == address.url() && !stored->username.empty()) {
        user = stored->username;
    } else if (!password_stdin && ::isatty(STDIN_FILENO) != 0) {
        user = prompt_line("user: ");
    } else {
        throw CliExit(Exit::usage, "which user? give --user NAME");
    }
    const std::string password = read_secret(fmt::format("password for {} at {}: ", user, address.url()), password_stdin);

    std::unique_ptr<BrokerClient> client;
    try {
        client = std::make_unique<BrokerClient>(address, trust);
    } catch (const ConfigError& e) {
        throw CliExit(Exit::usage, e.what());
    }
    BrokerResponse response;
    try {
        response = client->post("/api/v1/login", api::LoginRequest{user, password});
    } catch (const BrokerUnreachable& e) {
        throw_unreachable(e);
    }
    if (!response.ok()) throw_refusal(response, false);
    nlohmann::json answer;
    api::LoginResponse info;
    try {
        answer = response.json();
        info = answer.get<api::LoginResponse>();
    } catch (const std::exception& e) {
        throw CliExit(Exit::failed, std::string("the broker's answer to the login does not match the API: ") + e.what());
    }

    StoredLogin login;
    login.broker = address.url();
    if (trust.ca_file) login.ca_file = trust.ca_file->string();
    login.pin = trust.pin;
    login.token = info.token;
    login.username = info.user.username;
    login.role = info.user.role;
    login.expires_at = api::to_iso8601(info.expires_at);
    store.save(login);

    if (context.json()) {
        answer.erase("token");  // the token stays in the file
        answer["broker"] = login.broker;
        std::cout << answer.dump() << "\n";
    } else {
        std::cout << fmt::format("logged in to {} as {} (role {}) until {}; the token is in {}\n", login.broker,
                                 login.username, login.role, format_timestamp(login.expires_at), store.file().string());
    }
    if (login.role == "helpdesk" || login.role == "auditor") {
        std::cerr << fmt::format("vdictl: note: {} has the {} role: the broker lets it read everything{}\n",
                                 login.username, login.role,
                                 login.role == "helpdesk" ? " and act on sessions, nothing else" : ", and change nothing");
    } else if (login.role != "admin") {
        std::cerr << fmt::format("vdictl: note: {} is not an admin, so the broker will refuse the admin commands\n",
                                 login.username);
    }
    return 0;
}

int logout(CliContext& context)
{
    const CredentialStore store = context.store();
    const bool from_environment = std::getenv("VDI_TOKEN") != nullptr;
    try {
        context.call_as<api::LogoutResponse>("POST", "/api/v1/logout");
    } catch (const CliExit& e) {
        if (e.code() != Exit::not_logged_in || from_environment || !store.load()) throw;
        // the broker no longer knew the token: nothing to revoke, only the file to delete
        store.remove();
        std::cout << fmt::format("the login had ended already; deleted {}\n", store.file().string());
        return 0;
    }
    if (from_environment) {
        std::cout << "revoked the token of $VDI_TOKEN\n";
        return 0;
    }
    store.remove();
    std::cout << fmt::format("logged out: the token is revoked and {} deleted\n", store.file().string());
    return 0;
}

int whoami(CliContext& context)
{
    const auto me = context.get<api::Me>("/api/v1/me");
    if (context.json()) {
        context.print_raw();
        return 0;
    }
    std::cout << "broker: " << context.client().address().url() << "\n" << me_details(me);
    return 0;
}

int status(CliContext& context)
{
    const auto ready = context.get<api::Status>("/readyz");
    const auto me = context.get<api::Me>("/api/v1/me");
    const auto users = context.get<std::vector<api::User>>("/api/v1/admin/users");
    const auto pools = context.get<std::vector<api::Pool>>("/api/v1/admin/pools");
    const auto hosts = context.get<std::vector<api::Host>>("/api/v1/admin/hosts");
    const auto live = context.get<std::vector<api::Session>>("/api/v1/admin/sessions?live=true&limit=1000");
    if (context.json()) {
        std::cout << nlohmann::json{{"broker", context.client().address().url()},
                                    {"readyz", ready},
                                    {"me", me},
                                    {"users", users},
                                    {"pools", pools},
                                    {"hosts", hosts},
                                    {"live_sessions", live}}
                         .dump()
                  << "\n";
        return 0;
    }
    std::cout << fmt::format("broker: {} ({})\nlogged in as: {} (role {})\n", context.client().address().url(),
                             ready.status, me.username, me.role)
              << status_summary(users, pools, hosts, live);
    if (!pools.empty()) std::cout << "\n" << pools_table(pools, context.table_width());
    if (!hosts.empty()) std::cout << "\n" << hosts_table(hosts, context.table_width());
    return 0;
}

}  // namespace

std::string read_secret(const std::string& prompt, bool from_stdin)
{
    std::string secret;
    if (from_stdin || ::isatty(STDIN_FILENO) == 0) {
        std::getline(std::cin, secret);
        return secret;
    }
    termios old_mode{};
    ::tcgetattr(STDIN_FILENO, &old_mode);
    termios quiet = old_mode;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    std::cerr << prompt << std::flush;
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::getline(std::cin, secret);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old_mode);
    std::cerr << "\n";
    return secret;
}

void print_done(CliContext& context, const std::string& text)
{
    if (context.json()) {
        context.print_raw();
    } else {
        std::cout << text << (text.empty() || text.back() == '\n' ? "" : "\n");
    }
}

void note_next_page(long long last_id)
{
    std::cerr << fmt::format("(there may be more: the next page is --before {})\n", last_id);
}

void add_account_commands(CLI::App& app, Action& action)
{
    struct LoginOptions {
        std::optional<std::string> user;
        bool password_stdin = false;
    };
    auto options = std::make_shared<LoginOptions>();
    auto* login_command = add_leaf(&app, "login",
                                   "log in to the broker (POST /api/v1/login); the token is kept, mode 0600, in "
                                   "$XDG_CONFIG_HOME/vdi/vdictl.json",
                                   action, [options](CliContext& c) { return login(c, options->user, options->password_stdin); });
    login_command->add_option("--user", options->user, "user name (default: the last one, or asked)");
    login_command->add_flag("--password-stdin", options->password_stdin, "read the password from the first line of stdin");

    add_leaf(&app, "logout", "revoke the token (POST /api/v1/logout) and delete the stored login", action, logout);
    add_leaf(&app, "whoami", "the logged-in user (GET /api/v1/me)", action, whoami);
    add_leaf(&app, "status", "the broker's readiness, hosts, pools and live sessions, through the API", action, status);
}

}  // namespace vdi::admin
