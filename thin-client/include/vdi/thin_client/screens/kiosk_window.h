// The thin client's top-level window holding a stack of screens. Kiosk mode: frameless full
// screen on the primary screen, closing refused (close events, Alt+F4), only the configured admin
// key sequence gets out (adminExitRequested). Windowed mode: a normal resizable window whose close
// emits closeRequested (the caller disconnects) and then closes. GUI thread only.
#pragma once

#include <QKeySequence>
#include <QMainWindow>

class QStackedWidget;

namespace vdi::thin_client::screens {

class KioskWindow : public QMainWindow {
    Q_OBJECT
public:
    enum class Mode { kiosk, windowed };
    Q_ENUM(Mode)

    // `admin_keys`: e.g. QKeySequence("Ctrl+Alt+Shift+F12"); its first chord is matched on every
    // key press in the application (also while the remote view has grabbed the keyboard). An
    // empty sequence leaves kiosk mode with no way out.
    explicit KioskWindow(Mode mode, const QKeySequence& admin_keys = {}, QWidget* parent = nullptr);
    ~KioskWindow() override;

    // Shows the window as the mode wants it (full screen on the primary screen, or normal).
    void present();

    // The screens; a screen added is owned by the stack.
    int addScreen(QWidget* screen);
    void showScreen(QWidget* screen);
    QWidget* currentScreen() const;
    QStackedWidget* stack() const { return stack_; }
    Mode mode() const { return mode_; }

signals:
    void adminExitRequested();
    void closeRequested();

protected:
    void closeEvent(QCloseEvent* event) override;
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    Mode mode_;
    QKeyCombination admin_;
    bool has_admin_ = false;
    QStackedWidget* stack_;
};

}  // namespace vdi::thin_client::screens
