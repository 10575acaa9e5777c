// The reconnect overlay: a translucent grey wash over the (frozen) picture, a card in the middle.
#include "vdi/thin_client/screens/reconnect_overlay.h"

#include <QEvent>
#include <QFrame>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include "vdi/thin_client/screens/countdown.h"
#include "vdi/thin_client/screens/theme.h"

namespace vdi::thin_client::screens {

ReconnectOverlay::ReconnectOverlay(QWidget& host)
    : QWidget(&host),
      host_(host),
      status_(new QLabel(this)),
      detail_(new QLabel(this)),
      cancel_(new QPushButton(tr("Stop and disconnect"), this)),
      countdown_(new Countdown(this)) {
    auto* card = new QFrame(this);
    card->setObjectName(QStringLiteral("overlayCard"));
    card->setFixedWidth(520);
    auto* title = new QLabel(tr("Connection lost"), card);
    title->setObjectName(QStringLiteral("heading"));
    status_->setObjectName(QStringLiteral("reconnectStatus"));
    status_->setWordWrap(true);
    detail_->setWordWrap(true);
    set_tone(*detail_, Tone::muted);
    detail_->hide();
    auto* busy = new QProgressBar(card);
    busy->setRange(0, 0);
    busy->setTextVisible(false);
    cancel_->setObjectName(QStringLiteral("cancel"));
    cancel_->setAutoDefault(true);
    auto* logoff = new QPushButton(tr("Log off"), card);
    logoff->setObjectName(QStringLiteral("logoff"));
    logoff->setAutoDefault(true);
    connect(cancel_, &QPushButton::clicked, this, &ReconnectOverlay::cancelRequested);
    connect(logoff, &QPushButton::clicked, this, &ReconnectOverlay::logoffRequested);

    auto* buttons = new QHBoxLayout;
    buttons->addStretch();
    buttons->addWidget(logoff);
    buttons->addWidget(cancel_);
    auto* inner = new QVBoxLayout(card);
    inner->setContentsMargins(36, 30, 36, 30);
    inner->setSpacing(14);
    inner->addWidget(title);
    inner->addWidget(status_);
    inner->addWidget(detail_);
    inner->addWidget(busy);
    inner->addSpacing(6);
    inner->addLayout(buttons);

    auto* outer = new QGridLayout(this);
    outer->addWidget(card, 0, 0, Qt::AlignCenter);

    connect(countdown_, &Countdown::ticked, this, &ReconnectOverlay::render);
    connect(countdown_, &Countdown::finished, this, &ReconnectOverlay::timedOut);
    host_.installEventFilter(this);
    setGeometry(host_.rect());
    hide();
}

void ReconnectOverlay::setTrying(int attempt, int seconds_left) {
    attempt_ = attempt;
    setGeometry(host_.rect());
    show();
    raise();
    cancel_->setFocus();
    countdown_->start(seconds_left);
}

void ReconnectOverlay::setDetail(const QString& detail) {
    detail_->setText(detail);
    detail_->setVisible(!detail.isEmpty());
}

void ReconnectOverlay::dismiss() {
    countdown_->stop();
    hide();
}

void ReconnectOverlay::render(int left) {
    status_->setText(tr("Reconnecting… (try %1, %2 left)").arg(attempt_).arg(format_duration(left)));
}

QString ReconnectOverlay::text() const { return status_->text(); }
int ReconnectOverlay::secondsLeft() const { return countdown_->remaining(); }

bool ReconnectOverlay::eventFilter(QObject* watched, QEvent* event) {
    if (watched == &host_ && event->type() == QEvent::Resize) setGeometry(host_.rect());
    return QWidget::eventFilter(watched, event);
}

void ReconnectOverlay::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), QColor(40, 44, 52, 190));  // grey wash: the frozen picture shows through
}

}  // namespace vdi::thin_client::screens
