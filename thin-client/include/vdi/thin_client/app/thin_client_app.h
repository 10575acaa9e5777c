// vdi-thin-client's wiring: the kiosk (or normal) window with the screens, the session machine,
// the broker client and the desktop views. main() builds one; the GUI tests build one too and
// drive it with QTest. GUI thread only.
#pragma once

#include <QObject>
#include <memory>

#include "vdi/thin_client/broker_client.h"
#include "vdi/thin_client/client_config.h"
#include "vdi/thin_client/session_controller.h"

namespace vdi::thin_client::screens {
class KioskWindow;
class LoginScreen;
class PoolScreen;
class ConnectingScreen;
}  // namespace vdi::thin_client::screens

namespace vdi::thin_client::app {

class DesktopPage;

class ThinClientApp : public QObject {
    Q_OBJECT
public:
    ThinClientApp(const ClientConfig& config, std::unique_ptr<BrokerApi> broker, QObject* parent = nullptr);
    ~ThinClientApp() override;

    void present();  // shows the window as the mode wants it

    screens::KioskWindow& window() { return *window_; }
    screens::LoginScreen& login() { return *login_; }
    screens::PoolScreen& pools() { return *pools_; }
    screens::ConnectingScreen& connecting() { return *connecting_; }
    DesktopPage& desktop() { return *desktop_; }
    SessionController& controller() { return *controller_; }
    BrokerApi& broker() { return *broker_; }

signals:
    void quitRequested();  // kiosk's admin keys

private:
    void wire();
    void show_ended(const QString& message);
    void refresh_details();

    ClientConfig config_;
    std::unique_ptr<BrokerApi> broker_;
    std::unique_ptr<screens::KioskWindow> window_;
    screens::LoginScreen* login_;
    screens::PoolScreen* pools_;
    screens::ConnectingScreen* connecting_;
    DesktopPage* desktop_;
    std::unique_ptr<SessionController> controller_;
};

}  // namespace vdi::thin_client::app
