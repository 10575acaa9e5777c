// Laid over the desktop view after a network drop: the picture greys out under "Connection lost.
// Reconnecting… (try 3, 2:41 left)" with the time left counting down, and ways out (stop trying,
// or log off). GUI thread only.
#pragma once

#include <QString>
#include <QWidget>

class QLabel;
class QPushButton;

namespace vdi::thin_client::screens {

class Countdown;

class ReconnectOverlay : public QWidget {
    Q_OBJECT
public:
    // A child of `host` covering it whole (it follows the host's size); hidden until setTrying().
    explicit ReconnectOverlay(QWidget& host);

    // Try number `attempt` is under way; `seconds_left` until the client gives up counts down by
    // itself (timedOut() at 0). Shows the overlay.
    void setTrying(int attempt, int seconds_left);
    // The reason of the last failed try, in a smaller line ("No route to host"); empty hides it.
    void setDetail(const QString& detail);
    void dismiss();  // the picture is back (or the caller gave up): hide and stop counting

    QString text() const;
    int secondsLeft() const;

signals:
    void cancelRequested();  // stop trying; the desktop keeps running (a disconnect)
    void logoffRequested();
    void timedOut();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void paintEvent(QPaintEvent* event) override;

private:
    void render(int left);

    QWidget& host_;
    QLabel* status_;
    QLabel* detail_;
    QPushButton* cancel_;
    Countdown* countdown_;
    int attempt_ = 0;
};

}  // namespace vdi::thin_client::screens
