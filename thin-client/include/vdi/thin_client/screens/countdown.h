// A seconds countdown that ticks by itself (a QTimer in the GUI thread), shared by the screens that
// show "try again in 0:28": the login lockout, broker retries, warnings and reconnects.
#pragma once

#include <QObject>
#include <QString>
#include <QTimer>

namespace vdi::thin_client::screens {

// "0:28", "4:59", "1:02:03": minutes and seconds, hours only when there are any.
QString format_duration(int seconds);

// GUI thread only.
class Countdown : public QObject {
    Q_OBJECT
public:
    explicit Countdown(QObject* parent = nullptr);

    // Starts (or restarts) from `seconds`; 0 or less finishes at once (finished() before start() returns).
    void start(int seconds);
    void stop();
    bool running() const { return timer_.isActive(); }
    int remaining() const { return remaining_; }

signals:
    void ticked(int remaining_s);  // once a second, and once on start()
    void finished();               // remaining reached 0

private:
    void tick();

    QTimer timer_;
    int remaining_ = 0;
};

}  // namespace vdi::thin_client::screens
