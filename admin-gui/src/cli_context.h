// What every vdictl command that talks to the broker shares: which broker, how its certificate
// is trusted, the token, the output mode, and calls whose failures become vdictl's exit codes.
//
// Errors: a command fails by throwing CliExit (its code and a message for stderr); main() is
// the only place that catches it.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "credential_store.h"
#include "vdi/admin/broker_client.h"

namespace vdi::admin {

// vdictl's exit codes (docs/vdictl.md).
enum class Exit : int {
    ok = 0,
    failed = 1,         // a local failure: a file, the database (migrate, bootstrap-admin), a bad answer
    usage = 2,          // the command line is wrong (CLI11)
    refused = 3,        // the broker refused the request (4xx: invalid, forbidden, not found, conflict)
    broker_failed = 4,  // the broker failed (5xx: database unavailable, internal error)
    unreachable = 5,    // no answer: connection refused, timeout, TLS or certificate failure
    not_logged_in = 6,  // no token, or the broker no longer accepts it: run 'vdictl login'
};

class CliExit : public std::runtime_error {
public:
    CliExit(Exit code, const std::string& message) : std::runtime_error(message), code_(code) {}
    Exit code() const { return code_; }

private:
    Exit code_;
};

// The options every command takes (from the command line or, for the first three, from
// $VDI_BROKER, $VDI_CA and $VDI_PIN).
struct GlobalOptions {
    std::optional<std::string> broker;
    std::optional<std::string> ca_file;
    std::optional<std::string> pin;
    bool json = false;  // print the broker's JSON as it is
    bool wide = false;  // every column, however wide
};

class CliContext {
public:
    explicit CliContext(const GlobalOptions& options) : options_(options) {}

    const GlobalOptions& options() const { return options_; }
    bool json() const { return options_.json; }
    // nullopt (no limit) with --wide or when stdout is not a terminal
    std::optional<std::size_t> table_width() const;

    CredentialStore store() const { return CredentialStore(CredentialStore::default_file()); }

    // The broker to log in to and how to trust it: the options, else the stored login's.
    // CliExit(usage) when there is none.
    BrokerAddress login_address(const std::optional<StoredLogin>& stored) const;
    BrokerTrust login_trust(const BrokerAddress& address, const std::optional<StoredLogin>& stored) const;

    // A client with the token: $VDI_TOKEN, else the stored login's (only for the broker it
    // was issued by). CliExit(not_logged_in) when there is none.
    BrokerClient& client();

    // One call: the answer's JSON for a 2xx; otherwise CliExit with the code and the broker's
    // message. `raw_body()` holds the answer's body as it came.
    nlohmann::json call(std::string_view method, const std::string& target,
                        const std::optional<nlohmann::json>& body = std::nullopt);
    const std::string& raw_body() const { return raw_body_; }

    // The same, the answer parsed as the API contract's type T (vdi/common/api/);
    // CliExit(failed) when it does not parse.
    template <typename T>
    T call_as(std::string_view method, const std::string& target, const std::optional<nlohmann::json>& body = std::nullopt)
    {
        const nlohmann::json answer = call(method, target, body);
        try {
            return answer.get<T>();
        } catch (const std::exception& e) {
            throw CliExit(Exit::failed, fmt::format("the broker's answer to {} {} does not match the API ({}); is this "
                                                    "vdictl as new as the broker?",
                                                    method, target, e.what()));
        }
    }
    template <typename T>
    T get(const std::string& target)
    {
        return call_as<T>("GET", target);
    }

    // Prints the last answer as it came (for --json).
    void print_raw() const;

    // The id of the user, group, pool or image `ref` names: a name (users: case-insensitive),
    // else a number taken as the id. CliExit(refused) when nothing matches.
    long long resolve(const std::string& kind, const std::string& ref);

private:
    GlobalOptions options_;
    std::unique_ptr<BrokerClient> client_;
    bool authenticated_ = false;
    std::string raw_body_;
};

// The message and exit code for a broker that did not answer (shared by login and every call).
[[noreturn]] void throw_unreachable(const BrokerUnreachable& e);
// The exit code and message for an answer that is not 2xx. `authenticated`: a 401 means the
// token is no longer accepted (not_logged_in) rather than a refusal.
[[noreturn]] void throw_refusal(const BrokerResponse& response, bool authenticated);

// Query-string encoding of one value.
std::string url_encode(const std::string& value);

}  // namespace vdi::admin
