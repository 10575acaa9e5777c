// The sign-in card. Enter in either field submits; the countdowns run on their own timer so that
// the screen stays truthful while the session machine waits.
#include "vdi/thin_client/screens/login_screen.h"

#include <QFrame>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include "vdi/thin_client/screens/brand_header.h"
#include "vdi/thin_client/screens/countdown.h"
#include "vdi/thin_client/screens/theme.h"

namespace vdi::thin_client::screens {

LoginScreen::LoginScreen(QWidget* parent)
    : QWidget(parent),
      header_(new BrandHeader(this)),
      user_(new QLineEdit(this)),
      password_(new QLineEdit(this)),
      sign_in_(new QPushButton(tr("Sign in"), this)),
      busy_(new QProgressBar(this)),
      message_(new QLabel(this)),
      countdown_(new Countdown(this)) {
    QFrame* card = centred_card(*this, 460);
    auto* layout = static_cast<QVBoxLayout*>(card->layout());
    header_->setHeading(tr("Sign in"));

    auto* user_label = new QLabel(tr("User name"), card);
    user_label->setObjectName(QStringLiteral("fieldLabel"));
    user_label->setBuddy(user_);
    user_->setObjectName(QStringLiteral("user"));
    user_->setPlaceholderText(tr("e.g. alice"));
    auto* password_label = new QLabel(tr("Password"), card);
    password_label->setObjectName(QStringLiteral("fieldLabel"));
    password_label->setBuddy(password_);
    password_->setObjectName(QStringLiteral("password"));
    password_->setEchoMode(QLineEdit::Password);
    user_->setAttribute(Qt::WA_InputMethodEnabled, false);  // no prediction keeping past entries

    sign_in_->setObjectName(QStringLiteral("signIn"));
    sign_in_->setProperty("role", QStringLiteral("primary"));
    sign_in_->setDefault(true);
    sign_in_->setCursor(Qt::PointingHandCursor);
    busy_->setRange(0, 0);  // indeterminate: it moves while signing in
    busy_->setTextVisible(false);
    busy_->hide();
    message_->setObjectName(QStringLiteral("message"));
    message_->setWordWrap(true);
    message_->hide();

    layout->addWidget(header_);
    layout->addSpacing(6);
    layout->addWidget(user_label);
    layout->addWidget(user_);
    layout->addSpacing(4);
    layout->addWidget(password_label);
    layout->addWidget(password_);
    layout->addSpacing(10);
    layout->addWidget(sign_in_);
    layout->addWidget(busy_);
    layout->addWidget(message_);

    setTabOrder(user_, password_);
    setTabOrder(password_, sign_in_);
    setFocusProxy(user_);

    connect(user_, &QLineEdit::returnPressed, this, [this] {
        if (password_->text().isEmpty()) password_->setFocus();
        else submit();
    });
    connect(password_, &QLineEdit::returnPressed, this, &LoginScreen::submit);
    connect(sign_in_, &QPushButton::clicked, this, &LoginScreen::submit);
    connect(user_, &QLineEdit::textChanged, this, &LoginScreen::updateButton);
    connect(password_, &QLineEdit::textChanged, this, &LoginScreen::updateButton);

    connect(countdown_, &Countdown::ticked, this, [this](int left) {
        if (state_ == State::locked)
            message_->setText(tr("Too many attempts. Try again in %1.").arg(format_duration(left)));
        else if (state_ == State::unreachable)
            message_->setText(tr("Cannot reach the broker at %1. Retrying in %2 s…").arg(broker_).arg(left));
    });
    connect(countdown_, &Countdown::finished, this, [this] {
        if (state_ == State::locked) {
            setIdle();
            emit lockoutEnded();
        } else if (state_ == State::unreachable) {
            message_->setText(tr("Cannot reach the broker at %1. Retrying now…").arg(broker_));
            emit retryDue();
        }
    });
    enterState(State::idle);
}

void LoginScreen::setTerminalName(const QString& name) { header_->setTerminalName(name); }

void LoginScreen::enterState(State state) {
    state_ = state;
    const bool busy = state == State::signing_in;
    user_->setEnabled(!busy);
    password_->setEnabled(!busy);
    busy_->setVisible(busy);
    sign_in_->setText(busy ? tr("Signing in…") : tr("Sign in"));
    if (state != State::locked && state != State::unreachable) countdown_->stop();
    updateButton();
}

void LoginScreen::updateButton() {
    sign_in_->setEnabled(state_ != State::signing_in && state_ != State::locked && !user_->text().isEmpty());
}

bool LoginScreen::signInEnabled() const { return sign_in_->isEnabled(); }

void LoginScreen::showMessage(const QString& text, Tone tone) {
    message_->setText(text);
    set_tone(*message_, tone);
    message_->setVisible(!text.isEmpty());
}

QString LoginScreen::message() const { return message_->isVisible() ? message_->text() : QString(); }

void LoginScreen::setIdle() {
    enterState(State::idle);
    showMessage(QString(), Tone::normal);
    (user_->text().isEmpty() ? user_ : password_)->setFocus();
}

void LoginScreen::setSigningIn() {
    enterState(State::signing_in);
    showMessage(QString(), Tone::normal);
}

void LoginScreen::setError(const QString& message) {
    enterState(State::error);
    password_->setText(QString());
    showMessage(message, Tone::error);
    (user_->text().isEmpty() ? user_ : password_)->setFocus();
}

void LoginScreen::setLocked(int seconds) {
    enterState(State::locked);
    password_->setText(QString());
    showMessage(QStringLiteral(" "), Tone::warning);
    countdown_->start(seconds);  // writes the message, or ends the lockout at once for 0
}

void LoginScreen::setUnreachable(const QString& broker, int retry_in_s) {
    broker_ = broker;
    enterState(State::unreachable);
    showMessage(QStringLiteral(" "), Tone::warning);
    countdown_->start(retry_in_s);
}

void LoginScreen::clear() {
    countdown_->stop();
    // setText, unlike clear(), also drops the undo history: Ctrl+Z must not bring a name back
    user_->setText(QString());
    password_->setText(QString());
    broker_.clear();
    setIdle();
}

void LoginScreen::submit() {
    if (!sign_in_->isEnabled()) return;
    if (password_->text().isEmpty()) {
        password_->setFocus();
        return;
    }
    emit signInRequested(user_->text(), password_->text());
}

}  // namespace vdi::thin_client::screens
