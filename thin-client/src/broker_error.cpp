// The sentences people read for each broker error.
#include "vdi/thin_client/broker_error.h"

namespace vdi::thin_client {

QString kind_name(BrokerErrorKind kind)
{
    switch (kind) {
    case BrokerErrorKind::invalid_credentials: return QStringLiteral("invalid_credentials");
    case BrokerErrorKind::locked: return QStringLiteral("locked");
    case BrokerErrorKind::unauthenticated: return QStringLiteral("unauthenticated");
    case BrokerErrorKind::unreachable: return QStringLiteral("unreachable");
    case BrokerErrorKind::certificate_untrusted: return QStringLiteral("certificate_untrusted");
    case BrokerErrorKind::certificate_mismatch: return QStringLiteral("certificate_mismatch");
    case BrokerErrorKind::no_desktop_ready: return QStringLiteral("no_desktop_ready");
    case BrokerErrorKind::desktop_unavailable: return QStringLiteral("desktop_unavailable");
    case BrokerErrorKind::desktop_unreachable: return QStringLiteral("desktop_unreachable");
    case BrokerErrorKind::broker_unavailable: return QStringLiteral("broker_unavailable");
    case BrokerErrorKind::not_found: return QStringLiteral("not_found");
    case BrokerErrorKind::session_ended: return QStringLiteral("session_ended");
    case BrokerErrorKind::refused: return QStringLiteral("refused");
    case BrokerErrorKind::bad_response: return QStringLiteral("bad_response");
    }
    return QStringLiteral("unknown");
}

bool BrokerError::transient() const
{
    switch (kind) {
    case BrokerErrorKind::locked:
    case BrokerErrorKind::unreachable:
    case BrokerErrorKind::no_desktop_ready:
    case BrokerErrorKind::desktop_unavailable:
    case BrokerErrorKind::desktop_unreachable:
    case BrokerErrorKind::broker_unavailable: return true;
    default: return false;
    }
}

QString BrokerError::sentence() const
{
    const QString seconds = retry_after_s ? QString::number(*retry_after_s) : QStringLiteral("a few");
    switch (kind) {
    case BrokerErrorKind::invalid_credentials: return QStringLiteral("The user name or password is wrong.");
    case BrokerErrorKind::locked: return QStringLiteral("Too many attempts: try again in %1 s.").arg(seconds);
    case BrokerErrorKind::unauthenticated: return QStringLiteral("Your sign-in has expired: sign in again.");
    case BrokerErrorKind::unreachable: return QStringLiteral("Cannot reach the broker at %1: retrying.").arg(broker);
    case BrokerErrorKind::certificate_untrusted:
        return QStringLiteral("The broker at %1 showed a certificate this terminal does not trust (SHA-256 %2). "
                              "Ask your administrator to configure ca_file or pin_sha256.")
            .arg(broker, fingerprint);
    case BrokerErrorKind::certificate_mismatch:
        return QStringLiteral("The broker at %1 showed a different certificate than the one this terminal is pinned "
                              "to (it showed SHA-256 %2): not connecting. Tell your administrator.")
            .arg(broker, fingerprint);
    case BrokerErrorKind::no_desktop_ready:
        return QStringLiteral("No desktop is ready in this pool yet: trying again in %1 s.").arg(seconds);
    case BrokerErrorKind::desktop_unavailable:
        return QStringLiteral("Your desktop is being prepared: trying again in %1 s.").arg(seconds);
    case BrokerErrorKind::desktop_unreachable:
        return QStringLiteral("Your desktop's host did not answer: trying again in %1 s.").arg(seconds);
    case BrokerErrorKind::broker_unavailable:
        return QStringLiteral("The broker is not ready: trying again in %1 s.").arg(seconds);
    case BrokerErrorKind::not_found:
        return QStringLiteral("That pool or session is not available to you (any more).");
    case BrokerErrorKind::session_ended: return QStringLiteral("That session has already ended.");
    case BrokerErrorKind::refused:
        return QStringLiteral("The broker refused the request: %1").arg(detail);
    case BrokerErrorKind::bad_response:
        return QStringLiteral("The broker at %1 answered something unexpected (%2). Tell your administrator.")
            .arg(broker, detail);
    }
    return detail;
}

}  // namespace vdi::thin_client
