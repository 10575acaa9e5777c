// The sign-in screen: user name, password, Sign in, and its states (signing in, wrong credentials,
// locked with a live countdown, broker unreachable and retrying). Plain widgets over setters; the
// session machine decides the state. GUI thread only.
#pragma once

#include <QString>
#include <QWidget>

#include "vdi/thin_client/screens/theme.h"

class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace vdi::thin_client::screens {

class BrandHeader;
class Countdown;

class LoginScreen : public QWidget {
    Q_OBJECT
public:
    enum class State { idle, signing_in, error, locked, unreachable };
    Q_ENUM(State)

    explicit LoginScreen(QWidget* parent = nullptr);

    void setTerminalName(const QString& name);

    // Ready for input; no message. Focus goes to the user field (or the password field when the
    // user field is filled).
    void setIdle();
    // Fields and button disabled, "Signing in…" with a busy bar.
    void setSigningIn();
    // A message under the fields (e.g. "The user name or password is wrong."); the password is
    // wiped and focused, the user name kept.
    void setError(const QString& message);
    // "Too many attempts. Try again in 0:28.", counting down by itself; Sign in is disabled until
    // 0, then the screen is idle again and lockoutEnded() is emitted.
    void setLocked(int seconds);
    // "Cannot reach the broker at <broker>. Retrying in 5 s…", counting down; at 0 retryDue() is
    // emitted (the caller retries and sets the next state). The fields stay usable.
    void setUnreachable(const QString& broker, int retry_in_s);

    // Wipes user name, password and every message: nothing of the previous user stays.
    void clear();

    State state() const { return state_; }
    QString message() const;  // the text shown under the fields, empty when none
    bool signInEnabled() const;

signals:
    void signInRequested(const QString& user, const QString& password);
    void lockoutEnded();
    void retryDue();

private:
    void submit();
    void updateButton();
    void showMessage(const QString& text, Tone tone);
    void enterState(State state);

    State state_ = State::idle;
    BrandHeader* header_;
    QLineEdit* user_;
    QLineEdit* password_;
    QPushButton* sign_in_;
    QProgressBar* busy_;
    QLabel* message_;
    Countdown* countdown_;
    QString broker_;
};

}  // namespace vdi::thin_client::screens
