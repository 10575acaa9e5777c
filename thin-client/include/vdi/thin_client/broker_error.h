// What went wrong talking to the broker: a small closed set of kinds the session machine acts on,
// and the sentence a person reads. Plain data; any thread.
#pragma once

#include <QString>
#include <optional>

namespace vdi::thin_client {

enum class BrokerErrorKind {
    invalid_credentials,    // 401 invalid_credentials
    locked,                 // 429 too_many_attempts (retry_after_s)
    unauthenticated,        // 401 unauthenticated: the token expired or was revoked
    unreachable,            // no TCP/TLS connection, timeout
    certificate_untrusted,  // the certificate does not verify (no pin, wrong CA); fingerprint set
    certificate_mismatch,   // a pin is configured and the broker showed another certificate; fingerprint set
    no_desktop_ready,       // 503 no_desktop_ready (retry_after_s)
    desktop_unavailable,    // 503 desktop_unavailable (retry_after_s)
    desktop_unreachable,    // 503 desktop_unreachable (retry_after_s)
    broker_unavailable,     // 503 database_unavailable / not_ready (retry_after_s)
    not_found,              // 404: pool not entitled or gone, another user's session
    session_ended,          // 409 session_ended
    refused,                // any other 4xx (protocol_not_offered, invalid_request, ...)
    bad_response,           // 5xx without a known code, or a body that is not the API's
};

struct BrokerError {
    BrokerErrorKind kind = BrokerErrorKind::bad_response;
    int http_status = 0;                // 0 when no HTTP answer came
    QString code;                       // the API's error code, if any
    QString detail;                     // the broker's message or the network error text
    std::optional<int> retry_after_s;   // from Retry-After
    QString fingerprint;                // certificate errors: "AB:CD:..." of the certificate the broker showed
    QString broker;                     // host:port, for the sentence

    // A sentence for the screen: "The user name or password is wrong.",
    // "Too many attempts: try again in 28 s.", "Cannot reach the broker at X: retrying.", ...
    QString sentence() const;
    // Whether trying the same request again later can succeed by itself.
    bool transient() const;
};

QString kind_name(BrokerErrorKind kind);  // "invalid_credentials", ... (logs, tests)

}  // namespace vdi::thin_client
