// A BrokerApi for GUI tests and the client bench: the real broker client with every display
// connection led through a TcpRelay (the connect answer's port is rewritten), so that the caller
// can cut the network between the terminal and the desktop, and keep it cut (`block`) while the
// client retries. GUI thread only.
#pragma once

#include <memory>

#include "vdi/test/tcp_relay.h"
#include "vdi/thin_client/broker_client.h"

namespace vdi::test {

class RelayedBroker final : public thin_client::BrokerApi {
public:
    RelayedBroker(std::unique_ptr<thin_client::BrokerApi> real, TcpRelay& relay) : real_(std::move(real)), relay_(relay)
    {
        connect(real_.get(), &thin_client::BrokerApi::loggedIn, this, &thin_client::BrokerApi::loggedIn);
        connect(real_.get(), &thin_client::BrokerApi::loggedOut, this, &thin_client::BrokerApi::loggedOut);
        connect(real_.get(), &thin_client::BrokerApi::desktopsListed, this, &thin_client::BrokerApi::desktopsListed);
        connect(real_.get(), &thin_client::BrokerApi::sessionDisconnected, this, &thin_client::BrokerApi::sessionDisconnected);
        connect(real_.get(), &thin_client::BrokerApi::sessionLoggedOff, this, &thin_client::BrokerApi::sessionLoggedOff);
        connect(real_.get(), &thin_client::BrokerApi::timingReported, this, &thin_client::BrokerApi::timingReported);
        connect(real_.get(), &thin_client::BrokerApi::requestFailed, this, &thin_client::BrokerApi::requestFailed);
        connect(real_.get(), &thin_client::BrokerApi::desktopConnected, this, [this](api::ConnectResponse connection) {
            ++connects;
            display_port = connection.port;
            relay_.set_target(blocked_ ? 1 : connection.port);  // nothing listens on port 1
            connection.port = relay_.port();
            emit desktopConnected(connection);
        });
    }
    void block(bool on)
    {
        blocked_ = on;
        relay_.set_target(on ? 1 : display_port);
    }

    void login(const QString& user, const QString& password) override { real_->login(user, password); }
    void logout() override { real_->logout(); }
    void list_desktops() override { real_->list_desktops(); }
    void connect_desktop(const QString& pool, const QString& protocol) override { real_->connect_desktop(pool, protocol); }
    void disconnect_session(api::Id id) override { real_->disconnect_session(id); }
    void logoff_session(api::Id id) override { real_->logoff_session(id); }
    void report_timing(api::Id id, const api::TimingReport& report) override { real_->report_timing(id, report); }
    void forget() override { real_->forget(); }
    bool signed_in() const override { return real_->signed_in(); }
    QString broker_name() const override { return real_->broker_name(); }

    int connects = 0;
    int display_port = 0;

private:
    std::unique_ptr<thin_client::BrokerApi> real_;
    TcpRelay& relay_;
    bool blocked_ = false;
};

}  // namespace vdi::test
