// The admin tools' HTTPS client for the broker's API (vdictl now, the admin console's core later).
//
// Blocking HTTP/1.1 over TLS (Boost.Beast + OpenSSL) on one keep-alive connection, re-opened when
// the broker closed it. The broker's certificate is always verified, in one of three ways
// (BrokerTrust): against a CA file (the broker's self-signed certificate itself, or the CA that
// signed it), against a pinned SHA-256 fingerprint of the certificate, or against the system's
// trust store; with a CA the host name is checked too. There is no way to switch it off.
//
// Errors: an answer of any HTTP status is a BrokerResponse (the caller decides what a 4xx means);
// no answer at all (unreachable, refused, timed out, TLS or certificate failure, not HTTP) is a
// BrokerUnreachable exception. Not thread-safe: one thread at a time per BrokerClient.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vdi/common/api/error.h"
#include "vdi/common/error.h"

namespace vdi::admin {

inline constexpr unsigned short default_broker_port = 8443;

// Where the broker listens. parse() accepts "host", "host:port", "[v6]:port" and https URLs
// (path empty, "/" or "/api/v1"); it refuses plain http, credentials, queries and fragments.
struct BrokerAddress {
    std::string host;  // a name or an IP literal (without brackets)
    unsigned short port = default_broker_port;

    static BrokerAddress parse(const std::string& text);  // vdi::ConfigError with the reason
    std::string url() const;                             // "https://host:port"
};

// How the broker's certificate is verified: at most one of the two; neither: the system store.
struct BrokerTrust {
    std::optional<std::filesystem::path> ca_file;
    std::optional<std::string> pin;  // SHA-256 of the DER certificate, as normalize_fingerprint() returns
};

// "AB:CD:..." or "abcd..." (64 hex digits, colons optional) -> "AB:CD:..." (the form
// `openssl x509 -noout -fingerprint -sha256` prints); vdi::ConfigError for anything else.
std::string normalize_fingerprint(const std::string& text);

struct BrokerResponse {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // lower-case names

    bool ok() const { return status >= 200 && status < 300; }
    // The body as JSON; vdi::Error when it is not JSON (a broker always answers JSON).
    nlohmann::json json() const;
    // The API's error body {"error": {"code", "message"}}; nullopt when the body is not one.
    std::optional<api::Error> error() const;
};

// No answer from the broker. what() says what failed, where, and what the user can do.
class BrokerUnreachable : public Error {
public:
    enum class Reason { connect, timeout, tls, untrusted_certificate, pin_mismatch, protocol };
    BrokerUnreachable(Reason reason, const std::string& message, std::string fingerprint_seen = "")
        : Error(message), reason_(reason), fingerprint_seen_(std::move(fingerprint_seen))
    {
    }
    Reason reason() const { return reason_; }
    // The certificate's SHA-256 fingerprint ("AB:CD:..."), when the failure was about it.
    const std::string& fingerprint_seen() const { return fingerprint_seen_; }

private:
    Reason reason_;
    std::string fingerprint_seen_;
};

class BrokerClient {
public:
    // Connects lazily, on the first request. vdi::ConfigError if the CA file cannot be loaded.
    BrokerClient(BrokerAddress address, BrokerTrust trust, std::chrono::milliseconds timeout = std::chrono::seconds(30));
    ~BrokerClient();
    BrokerClient(const BrokerClient&) = delete;
    BrokerClient& operator=(const BrokerClient&) = delete;

    // Sent as "Authorization: Bearer TOKEN" from now on ("" sends none).
    void set_token(std::string token) { token_ = std::move(token); }
    const BrokerAddress& address() const { return address_; }

    // `target`: the path and query ("/api/v1/admin/users?limit=5"). A body, if given, is sent as
    // application/json.
    BrokerResponse request(std::string_view method, const std::string& target,
                           const std::optional<nlohmann::json>& body = std::nullopt);
    BrokerResponse get(const std::string& target) { return request("GET", target); }
    BrokerResponse post(const std::string& target, const nlohmann::json& body = nlohmann::json::object())
    {
        return request("POST", target, body);
    }
    BrokerResponse patch(const std::string& target, const nlohmann::json& body) { return request("PATCH", target, body); }
    BrokerResponse del(const std::string& target) { return request("DELETE", target); }

    struct Impl;

private:
    BrokerAddress address_;
    std::string token_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace vdi::admin
