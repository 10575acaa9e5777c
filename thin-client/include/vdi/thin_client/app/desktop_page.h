// The desktop screen: the remote view of the protocol in use (one view per protocol, one shown),
// with the session bar, the warning banner and the reconnect overlay laid over it. GUI thread only.
#pragma once

#include <QWidget>

#include "vdi/thin_client/view/remote_view.h"

class QStackedLayout;

namespace vdi::thin_client::screens {
class SessionBar;
class WarningBanner;
class ReconnectOverlay;
}  // namespace vdi::thin_client::screens

namespace vdi::thin_client::app {

class DesktopPage : public QWidget {
    Q_OBJECT
public:
    explicit DesktopPage(QWidget* parent = nullptr);

    view::RemoteView& view_for(const QString& protocol);  // "vnc" | "rdp"
    view::RemoteView& vnc() { return *vnc_; }
    view::RemoteView& rdp() { return *rdp_; }
    void show_protocol(const QString& protocol);
    view::RemoteView& current();

    screens::SessionBar& bar() { return *bar_; }
    screens::WarningBanner& banner() { return *banner_; }
    screens::ReconnectOverlay& overlay() { return *overlay_; }

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    void place_banner();

    QStackedLayout* stack_;
    view::RemoteView* vnc_;
    view::RemoteView* rdp_;
    screens::SessionBar* bar_;
    screens::WarningBanner* banner_;
    screens::ReconnectOverlay* overlay_;
};

}  // namespace vdi::thin_client::app
