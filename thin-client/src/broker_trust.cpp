// TLS settings from the configured trust.
#include "vdi/thin_client/broker_trust.h"

#include <QCryptographicHash>
#include <QFile>
#include <QSslSocket>

namespace vdi::thin_client {

QSslConfiguration make_ssl_configuration(const TrustConfig& trust)
{
    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    ssl.setProtocol(QSsl::TlsV1_2OrLater);
    if (!trust.pin_sha256.isEmpty()) {
        // The pin replaces chain and host-name checks; BrokerClient compares the leaf itself.
        ssl.setPeerVerifyMode(QSslSocket::VerifyNone);
        ssl.setCaCertificates({});
        return ssl;
    }
    if (!trust.ca_file.isEmpty()) {
        QFile file(trust.ca_file);
        if (!file.open(QIODevice::ReadOnly)) {
            throw ClientConfigError(("ca_file " + trust.ca_file + ": cannot read it: " + file.errorString()).toStdString());
        }
        const auto certificates = QSslCertificate::fromData(file.readAll(), QSsl::Pem);
        if (certificates.isEmpty()) {
            throw ClientConfigError(("ca_file " + trust.ca_file + ": holds no PEM certificate").toStdString());
        }
        ssl.setCaCertificates(certificates);
    }
    ssl.setPeerVerifyMode(QSslSocket::VerifyPeer);
    return ssl;
}

QByteArray certificate_sha256(const QSslCertificate& certificate)
{
    return QCryptographicHash::hash(certificate.toDer(), QCryptographicHash::Sha256);
}

bool pin_matches(const TrustConfig& trust, const QSslCertificate& leaf)
{
    return !trust.pin_sha256.isEmpty() && !leaf.isNull() && certificate_sha256(leaf) == trust.pin_sha256;
}

}  // namespace vdi::thin_client
