// Parsing and validating the configured broker address.
#include "vdi/thin_client/broker_endpoint.h"

namespace vdi::thin_client {

QUrl BrokerEndpoint::api(const QString& path) const
{
    return base_url.resolved(QUrl(path));
}

std::optional<BrokerEndpoint> parse_broker_endpoint(const QString& text, QString* error)
{
    auto fail = [error](const QString& why) -> std::optional<BrokerEndpoint> {
        if (error != nullptr) {
            *error = why;
        }
        return std::nullopt;
    };
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty()) {
        return fail(QStringLiteral("No broker address is configured."));
    }
    QUrl url = QUrl::fromUserInput(trimmed.contains(QStringLiteral("://")) ? trimmed
                                                                          : QStringLiteral("https://") + trimmed);
    if (!url.isValid() || url.host().isEmpty()) {
        return fail(QStringLiteral("\"%1\" is not a valid broker address.").arg(trimmed));
    }
    if (url.scheme() != QStringLiteral("https")) {
        return fail(QStringLiteral("The broker must be reached over https, not %1.").arg(url.scheme()));
    }
    if (!url.userInfo().isEmpty() || url.hasQuery() || url.hasFragment()) {
        return fail(QStringLiteral("The broker address must not contain credentials, a query or a fragment."));
    }
    if (url.port() == -1) {
        url.setPort(default_broker_port);
    }
    url.setPath(QStringLiteral("/api/v1/"));
    return BrokerEndpoint{url};
}

}  // namespace vdi::thin_client
