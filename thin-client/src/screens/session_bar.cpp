// The session bar. It moves between two positions (above the top edge, and flush with it) and
// keeps itself centred when the host resizes.
#include "vdi/thin_client/screens/session_bar.h"

#include <QApplication>
#include <QEnterEvent>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPropertyAnimation>
#include <QPushButton>
#include <QShortcut>
#include <QTimer>

#include "vdi/thin_client/screens/theme.h"

namespace vdi::thin_client::screens {
namespace {
constexpr int edge_px = 2;        // how close to the top edge the pointer must come
constexpr int slide_ms = 160;
}  // namespace

SessionBar::SessionBar(QWidget& host)
    : QFrame(&host),
      host_(host),
      full_screen_(new QPushButton(tr("Full screen"), this)),
      info_(new QPushButton(tr("Connection info"), this)),
      popup_(new QFrame(&host)),
      details_(new QLabel(popup_)),
      shortcut_(new QShortcut(QKeySequence(QStringLiteral("Ctrl+Alt+Home")), host.window())),
      hide_timer_(new QTimer(this)),
      slide_(new QPropertyAnimation(this, "pos", this)) {
    setObjectName(QStringLiteral("sessionBar"));
    setAttribute(Qt::WA_StyledBackground);
    auto* disconnect = new QPushButton(tr("Disconnect"), this);
    disconnect->setObjectName(QStringLiteral("disconnect"));
    disconnect->setToolTip(tr("Leave the desktop running and sign out here; resume it later"));
    auto* logoff = new QPushButton(tr("Log off"), this);
    logoff->setObjectName(QStringLiteral("logoff"));
    logoff->setToolTip(tr("End the session; unsaved work on the desktop is lost"));
    auto* cad = new QPushButton(tr("Ctrl+Alt+Del"), this);
    cad->setObjectName(QStringLiteral("ctrlAltDel"));
    full_screen_->setObjectName(QStringLiteral("fullScreen"));
    full_screen_->setCheckable(true);
    info_->setObjectName(QStringLiteral("connectionInfo"));
    info_->setCheckable(true);

    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(12, 8, 12, 10);
    layout->setSpacing(8);
    for (QPushButton* b : {cad, full_screen_, info_, disconnect, logoff}) {
        b->setFocusPolicy(Qt::NoFocus);  // keys belong to the desktop; the bar is for the pointer
        b->setCursor(Qt::PointingHandCursor);
        layout->addWidget(b);
        if (b == info_) layout->addSpacing(16);
    }
    connect(disconnect, &QPushButton::clicked, this, &SessionBar::disconnectRequested);
    connect(logoff, &QPushButton::clicked, this, &SessionBar::logoffRequested);
    connect(cad, &QPushButton::clicked, this, &SessionBar::ctrlAltDelRequested);
    connect(full_screen_, &QPushButton::toggled, this, &SessionBar::fullScreenToggled);
    connect(info_, &QPushButton::clicked, this, &SessionBar::toggleDetails);

    popup_->setObjectName(QStringLiteral("connectionDetails"));
    popup_->setAttribute(Qt::WA_StyledBackground);
    auto* popup_layout = new QVBoxLayout(popup_);
    popup_layout->setContentsMargins(18, 14, 18, 14);
    details_->setTextFormat(Qt::RichText);
    popup_layout->addWidget(details_);
    popup_->hide();
    setConnectionDetails({});

    shortcut_->setContext(Qt::WindowShortcut);
    connect(shortcut_, &QShortcut::activated, this, &SessionBar::toggle);
    hide_timer_->setSingleShot(true);
    hide_timer_->setInterval(1500);
    connect(hide_timer_, &QTimer::timeout, this, [this] {
        if (!underMouse() && !popup_->isVisible()) conceal();
    });
    slide_->setDuration(slide_ms);
    slide_->setEasingCurve(QEasingCurve::OutCubic);

    host_.installEventFilter(this);
    qApp->installEventFilter(this);
    adjustSize();
    place(false);
    show();
    raise();
}

SessionBar::~SessionBar() { qApp->removeEventFilter(this); }

void SessionBar::setHotKey(const QKeySequence& keys) { shortcut_->setKey(keys); }
QKeySequence SessionBar::hotKey() const { return shortcut_->key(); }
void SessionBar::setHideDelay(int ms) { hide_timer_->setInterval(ms); }

void SessionBar::setConnectionDetails(const ConnectionDetails& d) {
    const QString dash = QStringLiteral("—");
    const QString rtt = d.round_trip_ms ? tr("%1 ms").arg(*d.round_trip_ms, 0, 'f', 1) : dash;
    const QString where = d.host.isEmpty() ? dash : QStringLiteral("%1:%2").arg(d.host).arg(d.port);
    auto row = [](const QString& k, const QString& v) {
        return QStringLiteral("<tr><td style='color:#9aa7ba; padding-right:18px'>%1</td><td>%2</td></tr>")
            .arg(k.toHtmlEscaped(), v.toHtmlEscaped());
    };
    details_->setText(QStringLiteral("<table cellspacing='4'>") + row(tr("Desktop"), d.desktop.isEmpty() ? dash : d.desktop) +
                      row(tr("Protocol"), d.protocol.isEmpty() ? dash : d.protocol) + row(tr("Round trip"), rtt) +
                      row(tr("Frames per second"), QString::number(d.frames_per_second, 'f', 1)) +
                      row(tr("Display server"), where) + QStringLiteral("</table>"));
    popup_->adjustSize();
    if (popup_->isVisible()) place(false);
}

void SessionBar::setFullScreen(bool on) {
    const QSignalBlocker block(full_screen_);
    full_screen_->setChecked(on);
}

void SessionBar::place(bool animate) {
    const int x = (host_.width() - width()) / 2;
    const QPoint target(x, revealed_ ? 0 : -height());
    slide_->stop();
    if (animate && isVisible()) {
        slide_->setStartValue(pos());
        slide_->setEndValue(target);
        slide_->start();
    } else {
        move(target);
    }
    popup_->move(x + width() - popup_->width() - 12, height() + 6);
}

void SessionBar::reveal() {
    raise();
    if (!revealed_) {
        revealed_ = true;
        place(true);
    }
    scheduleHide();
}

void SessionBar::conceal() {
    hide_timer_->stop();
    popup_->hide();
    info_->setChecked(false);
    if (revealed_) {
        revealed_ = false;
        place(true);
    }
}

void SessionBar::toggle() { revealed_ ? conceal() : reveal(); }

bool SessionBar::detailsShown() const { return popup_->isVisible(); }

void SessionBar::toggleDetails() {
    if (popup_->isVisible()) {
        popup_->hide();
        info_->setChecked(false);
        scheduleHide();
        return;
    }
    emit connectionInfoRequested();
    popup_->adjustSize();
    place(false);
    popup_->show();
    popup_->raise();
    info_->setChecked(true);
    hide_timer_->stop();
}

void SessionBar::scheduleHide() {
    if (!underMouse() && !popup_->isVisible()) hide_timer_->start();
}

void SessionBar::enterEvent(QEnterEvent* event) {
    hide_timer_->stop();
    QFrame::enterEvent(event);
}

void SessionBar::leaveEvent(QEvent* event) {
    scheduleHide();
    QFrame::leaveEvent(event);
}

bool SessionBar::eventFilter(QObject* watched, QEvent* event) {
    if (watched == &host_ && event->type() == QEvent::Resize) {
        place(false);
    } else if (event->type() == QEvent::MouseMove && watched->isWidgetType()) {
        auto* widget = static_cast<QWidget*>(watched);
        if (widget == &host_ || (host_.isAncestorOf(widget) && widget != this && !isAncestorOf(widget))) {
            const QPoint at = host_.mapFromGlobal(static_cast<QMouseEvent*>(event)->globalPosition().toPoint());
            if (at.y() <= edge_px && at.x() >= 0 && at.x() < host_.width()) reveal();
        }
    }
    return QFrame::eventFilter(watched, event);
}

}  // namespace vdi::thin_client::screens
