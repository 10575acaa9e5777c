// The desktop screen (desktop_page.h).
#include "vdi/thin_client/app/desktop_page.h"

#include <QResizeEvent>
#include <QStackedLayout>

#include "vdi/thin_client/screens/reconnect_overlay.h"
#include "vdi/thin_client/screens/session_bar.h"
#include "vdi/thin_client/screens/warning_banner.h"
#include "vdi/thin_client/view/rdp_session.h"
#include "vdi/thin_client/view/vnc_session.h"

namespace vdi::thin_client::app {

DesktopPage::DesktopPage(QWidget* parent) : QWidget(parent)
{
    setAutoFillBackground(true);
    QPalette p = palette();
    p.setColor(QPalette::Window, Qt::black);
    setPalette(p);
    stack_ = new QStackedLayout(this);
    stack_->setContentsMargins(0, 0, 0, 0);
    vnc_ = new view::RemoteView(std::make_unique<view::VncSession>());
    rdp_ = new view::RemoteView(std::make_unique<view::RdpSession>());
    stack_->addWidget(vnc_);
    stack_->addWidget(rdp_);
    banner_ = new screens::WarningBanner(this);
    banner_->hide();
    overlay_ = new screens::ReconnectOverlay(*this);
    bar_ = new screens::SessionBar(*this);
    connect(banner_, &screens::WarningBanner::dismissed, banner_, &QWidget::hide);
}

view::RemoteView& DesktopPage::view_for(const QString& protocol)
{
    return protocol == QLatin1String("rdp") ? *rdp_ : *vnc_;
}

void DesktopPage::show_protocol(const QString& protocol)
{
    stack_->setCurrentWidget(&view_for(protocol));
}

view::RemoteView& DesktopPage::current()
{
    return *static_cast<view::RemoteView*>(stack_->currentWidget());
}

void DesktopPage::resizeEvent(QResizeEvent* event)
{
    QWidget::resizeEvent(event);
    place_banner();
}

void DesktopPage::place_banner()
{
    const int width = std::min(720, this->width() - 40);
    banner_->setFixedWidth(width);
    banner_->adjustSize();
    banner_->move((this->width() - width) / 2, 12);
    banner_->raise();
    bar_->raise();
}

}  // namespace vdi::thin_client::app
