// The broker a thin client talks to, as an operator configures it ("broker.example.org",
// "https://broker:8443/"). Widget-free; callable from any thread.
#pragma once

#include <QString>
#include <QUrl>
#include <optional>

namespace vdi::thin_client {

inline constexpr int default_broker_port = 8443;

struct BrokerEndpoint {
    QUrl base_url;  // https://host:port/api/v1/

    // The URL of an API path relative to /api/v1/ ("login", "desktops").
    QUrl api(const QString& path) const;
};

// Accepts a bare host, host:port, or an https URL; refuses plain http and anything with a
// query, fragment or user info. On failure returns nullopt and sets *error to a sentence the
// kiosk can show.
std::optional<BrokerEndpoint> parse_broker_endpoint(const QString& text, QString* error);

}  // namespace vdi::thin_client
