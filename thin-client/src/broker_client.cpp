// BrokerClient: one QNetworkReply per call, its answer parsed with the vdi-api structs.
#include "vdi/thin_client/broker_client.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QSslError>

#include <nlohmann/json.hpp>

#include "vdi/common/api/error.h"
#include "vdi/thin_client/broker_trust.h"

namespace vdi::thin_client {
namespace {

const char* const certificate_property = "vdi_certificate_error";  // set on a reply whose certificate we refused

BrokerErrorKind kind_for(int status, const QString& code)
{
    if (status == 401) return code == QStringLiteral("invalid_credentials") ? BrokerErrorKind::invalid_credentials
                                                                           : BrokerErrorKind::unauthenticated;
    if (status == 429) return BrokerErrorKind::locked;
    if (status == 404) return BrokerErrorKind::not_found;
    if (status == 409 && code == QStringLiteral("session_ended")) return BrokerErrorKind::session_ended;
    if (status == 503) {
        if (code == QStringLiteral("no_desktop_ready")) return BrokerErrorKind::no_desktop_ready;
        if (code == QStringLiteral("desktop_unavailable")) return BrokerErrorKind::desktop_unavailable;
        if (code == QStringLiteral("desktop_unreachable")) return BrokerErrorKind::desktop_unreachable;
        return BrokerErrorKind::broker_unavailable;
    }
    if (status >= 400 && status < 500) return BrokerErrorKind::refused;
    return BrokerErrorKind::bad_response;
}

}  // namespace

QString request_name(BrokerRequest request)
{
    switch (request) {
    case BrokerRequest::login: return QStringLiteral("login");
    case BrokerRequest::logout: return QStringLiteral("logout");
    case BrokerRequest::desktops: return QStringLiteral("desktops");
    case BrokerRequest::connect: return QStringLiteral("connect");
    case BrokerRequest::disconnect: return QStringLiteral("disconnect");
    case BrokerRequest::logoff: return QStringLiteral("logoff");
    case BrokerRequest::timing: return QStringLiteral("timing");
    }
    return QStringLiteral("request");
}

BrokerClient::BrokerClient(const BrokerEndpoint& endpoint, const TrustConfig& trust, QObject* parent)
    : BrokerApi(parent), endpoint_(endpoint), trust_(trust), network_(std::make_unique<QNetworkAccessManager>())
{
    make_ssl_configuration(trust_);  // a bad CA file fails here, at construction, not at the first request
    network_->setAutoDeleteReplies(false);
}

BrokerClient::~BrokerClient()
{
    forget();
}

QString BrokerClient::broker_name() const
{
    return QStringLiteral("%1:%2").arg(endpoint_.base_url.host()).arg(endpoint_.base_url.port());
}

void BrokerClient::forget()
{
    token_.fill('\0');
    token_.clear();
    for (QNetworkReply* reply : network_->findChildren<QNetworkReply*>()) {
        reply->disconnect(this);
        reply->abort();
        reply->deleteLater();
    }
}

void BrokerClient::login(const QString& user, const QString& password)
{
    const nlohmann::json body = api::LoginRequest{user.toStdString(), password.toStdString()};
    send(BrokerRequest::login, "POST", QStringLiteral("login"), QByteArray::fromStdString(body.dump()));
}

void BrokerClient::logout()
{
    send(BrokerRequest::logout, "POST", QStringLiteral("logout"), "{}");
}

void BrokerClient::list_desktops()
{
    send(BrokerRequest::desktops, "GET", QStringLiteral("desktops"), {});
}

void BrokerClient::connect_desktop(const QString& pool, const QString& protocol)
{
    const nlohmann::json body = api::ConnectRequest{protocol.toStdString()};
    send(BrokerRequest::connect, "POST",
         QStringLiteral("desktops/%1/connect").arg(QString::fromLatin1(QUrl::toPercentEncoding(pool))),
         QByteArray::fromStdString(body.dump()));
}

void BrokerClient::disconnect_session(api::Id session_id)
{
    send(BrokerRequest::disconnect, "POST", QStringLiteral("sessions/%1/disconnect").arg(session_id), "{}");
}

void BrokerClient::logoff_session(api::Id session_id)
{
    send(BrokerRequest::logoff, "POST", QStringLiteral("sessions/%1/logoff").arg(session_id), "{}");
}

void BrokerClient::report_timing(api::Id session_id, const api::TimingReport& report)
{
    send(BrokerRequest::timing, "POST", QStringLiteral("sessions/%1/timing").arg(session_id),
         QByteArray::fromStdString(nlohmann::json(report).dump()));
}

void BrokerClient::send(BrokerRequest request, const QByteArray& method, const QString& path, const QByteArray& body)
{
    QNetworkRequest http(endpoint_.api(path));
    http.setSslConfiguration(make_ssl_configuration(trust_));
    http.setTransferTimeout(timeout_ms_);
    http.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    if (!body.isEmpty()) http.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    if (!token_.isEmpty()) http.setRawHeader("Authorization", "Bearer " + token_);
    QNetworkReply* reply = body.isEmpty() && method == "GET" ? network_->get(http)
                                                             : network_->sendCustomRequest(http, method, body);
    const bool pinned = !trust_.pin_sha256.isEmpty();
    // A pin is checked before any request byte leaves: encrypted() comes after the handshake and
    // before the request is written; a mismatch aborts the reply.
    QObject::connect(reply, &QNetworkReply::encrypted, this, [this, reply, pinned] {
        const QSslCertificate leaf = reply->sslConfiguration().peerCertificate();
        if (pinned && !pin_matches(trust_, leaf)) {
            reply->setProperty(certificate_property, format_fingerprint(certificate_sha256(leaf)));
            reply->abort();
        }
    });
    QObject::connect(reply, &QNetworkReply::sslErrors, this, [this, reply, pinned](const QList<QSslError>&) {
        const QSslCertificate leaf = reply->sslConfiguration().peerCertificate();
        if (pinned && pin_matches(trust_, leaf)) {
            reply->ignoreSslErrors();
            return;
        }
        reply->setProperty(certificate_property, format_fingerprint(certificate_sha256(leaf)));
    });
    QObject::connect(reply, &QNetworkReply::finished, this, [this, reply, request, pinned] {
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QByteArray data = reply->isOpen() ? reply->readAll() : QByteArray();  // an aborted reply is closed
        BrokerError error;
        error.broker = broker_name();
        const QVariant certificate = reply->property(certificate_property);
        if (certificate.isValid()) {
            error.kind = pinned ? BrokerErrorKind::certificate_mismatch : BrokerErrorKind::certificate_untrusted;
            error.fingerprint = certificate.toString();
            error.detail = reply->errorString();
            emit requestFailed(request, error);
            return;
        }
        if (status == 0) {
            error.kind = reply->error() == QNetworkReply::SslHandshakeFailedError ? BrokerErrorKind::certificate_untrusted
                                                                                  : BrokerErrorKind::unreachable;
            error.detail = reply->errorString();
            emit requestFailed(request, error);
            return;
        }
        try {
            const auto json = data.isEmpty() ? nlohmann::json::object() : nlohmann::json::parse(data.toStdString());
            if (status != 200) {
                error.http_status = status;
                if (json.contains("error")) {
                    const auto body = json.get<api::Error>();  // reads {"error": {...}}
                    error.code = QString::fromStdString(body.code);
                    error.detail = QString::fromStdString(body.message);
                } else {
                    error.detail = QStringLiteral("HTTP %1").arg(status);
                }
                bool ok = false;
                const int retry = reply->rawHeader("Retry-After").trimmed().toInt(&ok);
                if (ok && retry >= 0) error.retry_after_s = retry;
                error.kind = kind_for(status, error.code);
                if (error.kind == BrokerErrorKind::unauthenticated) token_.clear();
                emit requestFailed(request, error);
                return;
            }
            switch (request) {
            case BrokerRequest::login: {
                auto response = json.get<api::LoginResponse>();
                token_ = QByteArray::fromStdString(response.token);
                response.token.assign(response.token.size(), '\0');  // the client keeps the only copy
                response.token.clear();
                emit loggedIn(response);
                break;
            }
            case BrokerRequest::logout:
                token_.clear();
                emit loggedOut();
                break;
            case BrokerRequest::desktops: emit desktopsListed(json.get<api::DesktopList>()); break;
            case BrokerRequest::connect: emit desktopConnected(json.get<api::ConnectResponse>()); break;
            case BrokerRequest::disconnect:
                emit sessionDisconnected(json.get<api::DisconnectResponse>().session_id);
                break;
            case BrokerRequest::logoff: emit sessionLoggedOff(json.get<api::LogoffResponse>()); break;
            case BrokerRequest::timing: emit timingReported(json.value("trace_id", api::Id{0})); break;
            }
        } catch (const std::exception& e) {
            error.kind = BrokerErrorKind::bad_response;
            error.http_status = status;
            error.detail = QString::fromUtf8(e.what());
            emit requestFailed(request, error);
        }
    });
}

}  // namespace vdi::thin_client
