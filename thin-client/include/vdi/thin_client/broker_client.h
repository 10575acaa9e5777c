// The thin client's HTTPS client of the broker's /api/v1 thin-client routes (docs/api.md): login,
// logout, desktops, connect, disconnect, logoff. Bodies are the API structs of vdi-api.
//
// BrokerApi is the seam: SessionController talks to it, BrokerClient is the real one (Qt Network),
// tests have a fake. Every call is asynchronous and answers with exactly one signal: its success
// signal or requestFailed(request, error). The bearer token from login is kept inside and sent
// with every later call; forget() drops it (and aborts what is in flight, without signals).
// Thread affinity: the thread the object lives in (the GUI thread); not thread-safe.
#pragma once

#include <QObject>
#include <QString>
#include <memory>

#include "vdi/common/api/desktop.h"
#include "vdi/common/api/session.h"
#include "vdi/common/api/user.h"
#include "vdi/thin_client/broker_error.h"
#include "vdi/thin_client/client_config.h"

class QNetworkAccessManager;

namespace vdi::thin_client {

enum class BrokerRequest { login, logout, desktops, connect, disconnect, logoff, timing };
QString request_name(BrokerRequest request);

class BrokerApi : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;
    ~BrokerApi() override = default;

    virtual void login(const QString& user, const QString& password) = 0;
    virtual void logout() = 0;                                      // revokes the token, then forgets it
    virtual void list_desktops() = 0;
    virtual void connect_desktop(const QString& pool, const QString& protocol) = 0;  // protocol "vnc" | "rdp"
    virtual void disconnect_session(api::Id session_id) = 0;
    virtual void logoff_session(api::Id session_id) = 0;
    // The client's stages of a connect (POST /api/v1/sessions/{id}/timing); nothing a user sees
    // depends on it, so a failure only comes back as requestFailed(timing).
    virtual void report_timing(api::Id session_id, const api::TimingReport& report) = 0;
    virtual void forget() = 0;                                      // drop the token, abort requests
    virtual bool signed_in() const = 0;
    virtual QString broker_name() const = 0;                        // "host:port" for messages

signals:
    void loggedIn(const vdi::api::LoginResponse& response);
    void loggedOut();
    void desktopsListed(const vdi::api::DesktopList& list);
    void desktopConnected(const vdi::api::ConnectResponse& connection);
    void sessionDisconnected(vdi::api::Id session_id);
    void sessionLoggedOff(const vdi::api::LogoffResponse& response);
    void timingReported(vdi::api::Id trace_id);
    void requestFailed(vdi::thin_client::BrokerRequest request, const vdi::thin_client::BrokerError& error);
};

// The real client: QNetworkAccessManager over TLS with the configured trust (broker_trust.h).
// A pin mismatch or an untrusted certificate fails the request before anything is sent, with the
// certificate's fingerprint in the error.
class BrokerClient final : public BrokerApi {
    Q_OBJECT
public:
    // Throws ClientConfigError for a bad CA file.
    BrokerClient(const BrokerEndpoint& endpoint, const TrustConfig& trust, QObject* parent = nullptr);
    ~BrokerClient() override;

    void login(const QString& user, const QString& password) override;
    void logout() override;
    void list_desktops() override;
    void connect_desktop(const QString& pool, const QString& protocol) override;
    void disconnect_session(api::Id session_id) override;
    void logoff_session(api::Id session_id) override;
    void report_timing(api::Id session_id, const api::TimingReport& report) override;
    void forget() override;
    bool signed_in() const override { return !token_.isEmpty(); }
    QString broker_name() const override;

    // Request timeout (default 15 s; connect waits for the host agent, up to the broker's
    // ticket_delivery_timeout_ms).
    void set_timeout_ms(int ms) { timeout_ms_ = ms; }

private:
    struct Call;
    void send(BrokerRequest request, const QByteArray& method, const QString& path, const QByteArray& body);

    BrokerEndpoint endpoint_;
    TrustConfig trust_;
    std::unique_ptr<QNetworkAccessManager> network_;
    QByteArray token_;
    int timeout_ms_ = 15000;
};

}  // namespace vdi::thin_client
