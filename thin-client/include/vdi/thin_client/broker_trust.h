// Turning the configured trust (CA file or SHA-256 pin) into TLS settings, and checking a pin.
// Errors: make_ssl_configuration throws ClientConfigError (an unreadable or empty CA file).
// Thread-safety: plain functions.
#pragma once

#include <QByteArray>
#include <QSslCertificate>
#include <QSslConfiguration>

#include "vdi/thin_client/client_config.h"

namespace vdi::thin_client {

// CA file: the file's certificates replace the system store, verified normally (host name too).
// Pin: verification by chain is off; the caller accepts the leaf only if pin_matches (BrokerClient
// checks before any request byte is sent). Neither: the system store.
QSslConfiguration make_ssl_configuration(const TrustConfig& trust);

// The SHA-256 of a certificate's DER encoding.
QByteArray certificate_sha256(const QSslCertificate& certificate);
bool pin_matches(const TrustConfig& trust, const QSslCertificate& leaf);

}  // namespace vdi::thin_client
