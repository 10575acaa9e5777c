// The pool choice card. Buttons are rebuilt on every list: the list is short (a user is entitled
// to a handful of pools) and arrives a few times per sign-in at most.
#include "vdi/thin_client/screens/pool_screen.h"

#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

#include "vdi/thin_client/screens/brand_header.h"
#include "vdi/thin_client/screens/theme.h"

namespace vdi::thin_client::screens {

PoolScreen::PoolScreen(QWidget* parent)
    : QWidget(parent),
      header_(new BrandHeader(this)),
      user_(new QLabel(this)),
      empty_(new QLabel(tr("No desktop is assigned to you. Ask your administrator to entitle you to a pool."), this)),
      choices_(new QVBoxLayout) {
    QFrame* card = centred_card(*this, 600);
    auto* layout = static_cast<QVBoxLayout*>(card->layout());
    header_->setHeading(tr("Choose a desktop"));
    set_tone(*user_, Tone::muted);
    empty_->setObjectName(QStringLiteral("message"));
    empty_->setWordWrap(true);
    set_tone(*empty_, Tone::normal);
    empty_->hide();

    auto* list = new QWidget;
    list->setLayout(choices_);
    choices_->setContentsMargins(0, 0, 0, 0);
    choices_->setSpacing(10);
    auto* scroll = new QScrollArea(card);
    scroll->setWidget(list);
    scroll->setWidgetResizable(true);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setMaximumHeight(420);
    scroll->setFocusPolicy(Qt::NoFocus);

    auto* sign_out = new QPushButton(tr("Sign out"), card);
    sign_out->setObjectName(QStringLiteral("signOut"));
    sign_out->setProperty("role", QStringLiteral("link"));
    sign_out->setCursor(Qt::PointingHandCursor);
    connect(sign_out, &QPushButton::clicked, this, &PoolScreen::signOutRequested);
    auto* footer = new QHBoxLayout;
    footer->addWidget(user_);
    footer->addStretch();
    footer->addWidget(sign_out);

    layout->addWidget(header_);
    layout->addWidget(empty_);
    layout->addWidget(scroll);
    layout->addSpacing(6);
    layout->addLayout(footer);
}

void PoolScreen::setTerminalName(const QString& name) { header_->setTerminalName(name); }

void PoolScreen::setUserName(const QString& user) {
    user_->setText(user.isEmpty() ? QString() : tr("Signed in as %1").arg(user));
}

void PoolScreen::setDesktops(const api::DesktopList& list) {
    for (QPushButton* b : buttons_) b->deleteLater();
    buttons_.clear();
    while (QLayoutItem* item = choices_->takeAt(0)) delete item;

    // A large button holding a title and a smaller line under it (labels inside the button, so
    // that the whole card is one focusable, clickable target).
    auto add = [this](const QString& title, const QString& detail, const char* role) {
        auto* b = new QPushButton;
        b->setProperty("role", QString::fromLatin1(role));
        b->setCursor(Qt::PointingHandCursor);
        b->setAutoDefault(true);  // Enter on a focused choice picks it
        b->setAccessibleName(title);
        b->setAccessibleDescription(detail);
        auto* title_label = new QLabel(title, b);
        title_label->setObjectName(QStringLiteral("choiceTitle"));
        auto* detail_label = new QLabel(detail, b);
        detail_label->setObjectName(QStringLiteral("choiceDetail"));
        detail_label->setWordWrap(true);
        for (QLabel* l : {title_label, detail_label}) l->setAttribute(Qt::WA_TransparentForMouseEvents);
        auto* inner = new QVBoxLayout(b);
        inner->setContentsMargins(18, 12, 18, 12);
        inner->setSpacing(2);
        inner->addWidget(title_label);
        inner->addWidget(detail_label);
        // the height comes from the stylesheet (min-height), which would override a setter here
        choices_->addWidget(b);
        buttons_.append(b);
        return b;
    };

    auto pool_title = [&list](const std::string& pool) {
        for (const auto& p : list.pools)
            if (p.name == pool && !p.display_name.empty()) return QString::fromStdString(p.display_name);
        return QString::fromStdString(pool);
    };

    for (const auto& s : list.sessions) {
        if (s.state != "disconnected") continue;
        const QString pool = QString::fromStdString(s.pool);
        auto* b = add(tr("Resume %1 (%2)").arg(QString::fromStdString(s.desktop), pool_title(s.pool)),
                      tr("Your session is still running; pick up where you left off"), "resume");
        b->setObjectName(QStringLiteral("resume:%1").arg(s.id));
        connect(b, &QPushButton::clicked, this, [this, id = qint64(s.id), pool] { emit resumeChosen(id, pool); });
    }
    for (const auto& p : list.pools) {
        const QString name = QString::fromStdString(p.name);
        const bool ready = p.available;
        QString detail;
        if (!ready) detail = tr("Busy — no desktop free right now. Try again in a minute.");
        else if (p.assignment == "dedicated") detail = tr("Your own desktop");
        else if (p.ready > 1) detail = tr("%1 desktops ready").arg(p.ready);
        else detail = tr("Ready");
        auto* b = add(pool_title(p.name), detail, "pool");
        b->setObjectName(QStringLiteral("pool:%1").arg(name));
        b->setEnabled(ready);
        connect(b, &QPushButton::clicked, this, [this, name] { emit poolChosen(name); });
    }
    choices_->addStretch();
    empty_->setVisible(buttons_.isEmpty());

    for (QPushButton* b : buttons_)
        if (b->isEnabled()) {
            b->setFocus();
            break;
        }
}

}  // namespace vdi::thin_client::screens
