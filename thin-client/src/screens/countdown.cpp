// A seconds countdown driven by a one-second QTimer.
#include "vdi/thin_client/screens/countdown.h"

namespace vdi::thin_client::screens {

QString format_duration(int seconds) {
    if (seconds < 0) seconds = 0;
    const int h = seconds / 3600, m = seconds / 60 % 60, s = seconds % 60;
    if (h > 0) return QStringLiteral("%1:%2:%3").arg(h).arg(m, 2, 10, QChar('0')).arg(s, 2, 10, QChar('0'));
    return QStringLiteral("%1:%2").arg(m).arg(s, 2, 10, QChar('0'));
}

Countdown::Countdown(QObject* parent) : QObject(parent) {
    timer_.setInterval(1000);
    timer_.setTimerType(Qt::PreciseTimer);
    connect(&timer_, &QTimer::timeout, this, &Countdown::tick);
}

void Countdown::start(int seconds) {
    remaining_ = seconds > 0 ? seconds : 0;
    emit ticked(remaining_);
    if (remaining_ == 0) {
        timer_.stop();
        emit finished();
        return;
    }
    timer_.start();
}

void Countdown::stop() { timer_.stop(); }

void Countdown::tick() {
    if (remaining_ > 0) --remaining_;
    emit ticked(remaining_);
    if (remaining_ == 0) {
        timer_.stop();
        emit finished();
    }
}

}  // namespace vdi::thin_client::screens
