// The warning banner: an icon, the sentence with its countdown, and a close button.
#include "vdi/thin_client/screens/warning_banner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>

#include "vdi/thin_client/screens/countdown.h"

namespace vdi::thin_client::screens {

WarningBanner::WarningBanner(QWidget* parent)
    : QFrame(parent), icon_(new QLabel(QStringLiteral("⚠"), this)), text_(new QLabel(this)), countdown_(new Countdown(this)) {
    setObjectName(QStringLiteral("banner"));
    setAttribute(Qt::WA_StyledBackground);
    icon_->setObjectName(QStringLiteral("bannerIcon"));
    text_->setObjectName(QStringLiteral("bannerText"));
    text_->setWordWrap(true);
    auto* close = new QPushButton(QStringLiteral("✕"), this);
    close->setObjectName(QStringLiteral("bannerClose"));
    close->setFocusPolicy(Qt::NoFocus);
    close->setToolTip(tr("Hide this message"));
    close->setFixedSize(36, 36);
    connect(close, &QPushButton::clicked, this, [this] {
        hide();
        emit dismissed();
    });
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(18, 10, 10, 10);
    layout->setSpacing(14);
    layout->addWidget(icon_);
    layout->addWidget(text_, 1);
    layout->addWidget(close);

    connect(countdown_, &Countdown::ticked, this, &WarningBanner::render);
    connect(countdown_, &Countdown::finished, this, &WarningBanner::expired);
    hide();
}

void WarningBanner::setWarning(const QString& message, int seconds) {
    message_ = message;
    show();
    raise();
    countdown_->start(seconds);
}

void WarningBanner::setWarning(const QString& message, const QDateTime& deadline) {
    // rounded up, so that "0:00" shows only when the deadline has passed
    const qint64 ms = QDateTime::currentDateTimeUtc().msecsTo(deadline);
    setWarning(message, ms <= 0 ? 0 : static_cast<int>((ms + 999) / 1000));
}

void WarningBanner::clearWarning() {
    countdown_->stop();
    hide();
}

void WarningBanner::render(int left) {
    const QString time = format_duration(left);
    text_->setText(message_.contains(QStringLiteral("%1")) ? message_.arg(time)
                                                           : QStringLiteral("%1 (%2)").arg(message_, time));
}

QString WarningBanner::text() const { return text_->text(); }
int WarningBanner::secondsLeft() const { return countdown_->remaining(); }

}  // namespace vdi::thin_client::screens
