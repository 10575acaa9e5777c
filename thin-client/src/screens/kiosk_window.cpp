// The kiosk window. Keys are checked in an application event filter rather than with a QShortcut:
// the remote view grabs the keyboard and accepts every ShortcutOverride (system keys go to the
// desktop), so a shortcut would never fire; the filter sees each key press first.
#include "vdi/thin_client/screens/kiosk_window.h"

#include <QApplication>
#include <QCloseEvent>
#include <QKeyEvent>
#include <QScreen>
#include <QStackedWidget>
#include <QWindow>

namespace vdi::thin_client::screens {
namespace {
// Modifiers that matter for a chord (the keypad flag differs between keyboards).
constexpr Qt::KeyboardModifiers chord_modifiers =
    Qt::ShiftModifier | Qt::ControlModifier | Qt::AltModifier | Qt::MetaModifier;
}  // namespace

KioskWindow::KioskWindow(Mode mode, const QKeySequence& admin_keys, QWidget* parent)
    : QMainWindow(parent), mode_(mode), stack_(new QStackedWidget(this)) {
    setWindowTitle(QStringLiteral("VDI"));
    setCentralWidget(stack_);
    if (!admin_keys.isEmpty()) {
        admin_ = admin_keys[0];
        has_admin_ = true;
    }
    if (mode_ == Mode::kiosk) {
        setWindowFlags(Qt::Window | Qt::FramelessWindowHint | Qt::WindowStaysOnTopHint);
    } else {
        resize(1024, 700);
        setMinimumSize(640, 480);
    }
    qApp->installEventFilter(this);
}

KioskWindow::~KioskWindow() { qApp->removeEventFilter(this); }

void KioskWindow::present() {
    if (mode_ == Mode::windowed) {
        show();
        return;
    }
    QScreen* primary = QGuiApplication::primaryScreen();
    winId();  // creates the native window, so that it can be put on the screen before showing
    if (primary) {
        windowHandle()->setScreen(primary);
        setGeometry(primary->geometry());
    }
    showFullScreen();
    activateWindow();
    raise();
}

int KioskWindow::addScreen(QWidget* screen) { return stack_->addWidget(screen); }

void KioskWindow::showScreen(QWidget* screen) {
    stack_->setCurrentWidget(screen);
    screen->setFocus();  // each screen's focus proxy picks its first field
}

QWidget* KioskWindow::currentScreen() const { return stack_->currentWidget(); }

void KioskWindow::closeEvent(QCloseEvent* event) {
    if (mode_ == Mode::kiosk) {
        event->ignore();  // the window manager's close, Alt+F4 through it, or close()
        return;
    }
    emit closeRequested();
    event->accept();
}

bool KioskWindow::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() != QEvent::KeyPress) return QMainWindow::eventFilter(watched, event);
    const auto* key = static_cast<QKeyEvent*>(event);
    const QKeyCombination chord(key->modifiers() & chord_modifiers, Qt::Key(key->key()));
    if (has_admin_ && chord == admin_) {
        if (!key->isAutoRepeat()) emit adminExitRequested();
        return true;
    }
    if (mode_ == Mode::kiosk && chord == QKeyCombination(Qt::AltModifier, Qt::Key_F4)) return true;
    return QMainWindow::eventFilter(watched, event);
}

}  // namespace vdi::thin_client::screens
