// A banner over the desktop view with a message and a live countdown to a deadline the broker
// announced ("Your desktop will be refreshed in 4:59. Save your work."). GUI thread only.
#pragma once

#include <QDateTime>
#include <QFrame>
#include <QString>

class QLabel;

namespace vdi::thin_client::screens {

class Countdown;

class WarningBanner : public QFrame {
    Q_OBJECT
public:
    explicit WarningBanner(QWidget* parent = nullptr);

    // Shows `message`, in which "%1" stands for the time left (m:ss); without "%1" the time
    // left follows the message in brackets. Counts down once a second; at 0 expired() is emitted
    // and the banner stays, saying the time is up.
    void setWarning(const QString& message, int seconds);
    void setWarning(const QString& message, const QDateTime& deadline);
    // Stops the countdown and hides the banner (the broker withdrew the warning).
    void clearWarning();

    QString text() const;
    int secondsLeft() const;

signals:
    void expired();
    void dismissed();  // the user closed it (the countdown goes on; show it again with setWarning)

private:
    void render(int left);

    QLabel* icon_;
    QLabel* text_;
    Countdown* countdown_;
    QString message_;
};

}  // namespace vdi::thin_client::screens
