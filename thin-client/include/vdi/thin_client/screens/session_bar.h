// The slide-down bar over the desktop view: Disconnect, Log off, Ctrl+Alt+Del, Full screen and
// Connection info (a small popup). It appears when the pointer touches the host's top edge or on
// a hot key, and slides away a moment after the pointer leaves it. GUI thread only.
#pragma once

#include <QKeySequence>
#include <QString>
#include <QWidget>
#include <optional>

#include <QFrame>

class QGridLayout;
class QLabel;
class QPropertyAnimation;
class QPushButton;
class QShortcut;
class QTimer;

namespace vdi::thin_client::screens {

// What the Connection info popup shows; fed by the caller from the view's statistics.
struct ConnectionDetails {
    QString protocol;                     // "VNC", "RDP"
    std::optional<double> round_trip_ms;  // unknown until measured
    double frames_per_second = 0;
    QString desktop;
    QString host;
    int port = 0;
};

class SessionBar : public QFrame {
    Q_OBJECT
public:
    // A child of `host` (the widget holding the desktop view), laid over its top edge. It watches
    // pointer moves over `host` and its children (the view among them) through an application
    // event filter, so that it works although the view takes the pointer's events itself.
    explicit SessionBar(QWidget& host);
    ~SessionBar() override;

    // The key sequence that shows or hides the bar, active anywhere in the host's window; the
    // remote view must let it through (not accept its ShortcutOverride). Default Ctrl+Alt+Home.
    void setHotKey(const QKeySequence& keys);
    QKeySequence hotKey() const;
    void setConnectionDetails(const ConnectionDetails& details);
    void setFullScreen(bool on);  // the Full screen button's checked state, without a signal
    // How long the bar stays after the pointer left it (default 1500 ms).
    void setHideDelay(int ms);

    void reveal();    // slides down (and starts the hide timer unless the pointer is on it)
    void conceal();   // slides up, closes the popup
    void toggle();
    bool revealed() const { return revealed_; }
    bool detailsShown() const;
    QWidget* detailsPopup() const { return popup_; }

signals:
    void disconnectRequested();
    void logoffRequested();
    void ctrlAltDelRequested();
    void fullScreenToggled(bool on);
    void connectionInfoRequested();  // the popup opened: a good moment to refresh the details

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void enterEvent(QEnterEvent* event) override;
    void leaveEvent(QEvent* event) override;

private:
    void place(bool animate);
    void toggleDetails();
    void scheduleHide();

    QWidget& host_;
    QPushButton* full_screen_;
    QPushButton* info_;
    QFrame* popup_;
    QLabel* details_;
    QShortcut* shortcut_;
    QTimer* hide_timer_;
    QPropertyAnimation* slide_;
    bool revealed_ = false;
};

}  // namespace vdi::thin_client::screens
