// The connecting card: four stage rows with a mark each, and the error with its two ways out.
#include "vdi/thin_client/screens/connecting_screen.h"

#include <QFrame>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include "vdi/thin_client/screens/brand_header.h"
#include "vdi/thin_client/screens/theme.h"

namespace vdi::thin_client::screens {

ConnectingScreen::ConnectingScreen(QWidget* parent)
    : QWidget(parent),
      header_(new BrandHeader(this)),
      desktop_(new QLabel(this)),
      busy_(new QProgressBar(this)),
      error_(new QLabel(this)),
      retry_(new QPushButton(tr("Retry"), this)),
      cancel_(new QPushButton(tr("Cancel"), this)) {
    QFrame* card = centred_card(*this, 520);
    auto* layout = static_cast<QVBoxLayout*>(card->layout());
    header_->setHeading(tr("Connecting"));
    set_tone(*desktop_, Tone::muted);
    desktop_->hide();

    const QString stage_names[stage_count] = {tr("Signed in"), tr("Desktop assigned"),
                                              tr("Connecting to the display"), tr("First picture")};
    auto* stages = new QGridLayout;
    stages->setHorizontalSpacing(14);
    stages->setVerticalSpacing(12);
    stages->setColumnStretch(1, 1);
    for (int i = 0; i < stage_count; ++i) {
        icons_[i] = new QLabel(card);
        icons_[i]->setObjectName(QStringLiteral("stageMark"));
        icons_[i]->setFixedSize(28, 28);
        icons_[i]->setAlignment(Qt::AlignCenter);
        names_[i] = new QLabel(stage_names[i], card);
        names_[i]->setObjectName(QStringLiteral("stageName"));
        stages->addWidget(icons_[i], i, 0);
        stages->addWidget(names_[i], i, 1);
    }

    busy_->setRange(0, 0);
    busy_->setTextVisible(false);
    error_->setObjectName(QStringLiteral("message"));
    error_->setWordWrap(true);
    set_tone(*error_, Tone::error);
    error_->hide();
    retry_->setObjectName(QStringLiteral("retry"));
    retry_->setProperty("role", QStringLiteral("primary"));
    retry_->setAutoDefault(true);
    retry_->hide();
    cancel_->setObjectName(QStringLiteral("cancel"));
    cancel_->setAutoDefault(true);
    connect(retry_, &QPushButton::clicked, this, &ConnectingScreen::retryRequested);
    connect(cancel_, &QPushButton::clicked, this, &ConnectingScreen::cancelRequested);
    auto* buttons = new QHBoxLayout;
    buttons->addStretch();
    buttons->addWidget(cancel_);
    buttons->addWidget(retry_);

    layout->addWidget(header_);
    layout->addWidget(desktop_);
    layout->addSpacing(8);
    layout->addLayout(stages);
    layout->addSpacing(8);
    layout->addWidget(busy_);
    layout->addWidget(error_);
    layout->addSpacing(4);
    layout->addLayout(buttons);
    setTabOrder(retry_, cancel_);
    setStage(Stage::signed_in);
}

void ConnectingScreen::setTerminalName(const QString& name) { header_->setTerminalName(name); }

void ConnectingScreen::setMark(int stage, Mark mark) {
    marks_[stage] = mark;
    static const QString glyphs[] = {QStringLiteral("○"), QStringLiteral("●"), QStringLiteral("✓"),
                                     QStringLiteral("✕")};
    static constexpr Tone tones[] = {Tone::muted, Tone::normal, Tone::success, Tone::error};
    icons_[stage]->setText(glyphs[static_cast<int>(mark)]);
    icons_[stage]->setProperty("mark", QVariant::fromValue(mark).toString());
    set_tone(*icons_[stage], tones[static_cast<int>(mark)]);
    set_tone(*names_[stage], mark == Mark::pending ? Tone::muted : Tone::normal);
}

void ConnectingScreen::setStage(Stage current) {
    current_ = static_cast<int>(current);
    for (int i = 0; i < stage_count; ++i)
        setMark(i, i < current_ ? Mark::done : i == current_ ? Mark::current : Mark::pending);
    error_->hide();
    retry_->hide();
    busy_->show();
    cancel_->show();
    cancel_->setFocus();
}

void ConnectingScreen::setFinished() {
    for (int i = 0; i < stage_count; ++i) setMark(i, Mark::done);
    error_->hide();
    retry_->hide();
    busy_->hide();
}

void ConnectingScreen::setDesktopName(const QString& desktop) {
    desktop_->setText(tr("Desktop %1").arg(desktop));
    desktop_->setVisible(!desktop.isEmpty());
    header_->setHeading(desktop.isEmpty() ? tr("Connecting") : tr("Connecting to %1").arg(desktop));
}

void ConnectingScreen::setError(const QString& message) {
    setMark(current_, Mark::failed);
    error_->setText(message);
    error_->show();
    busy_->hide();
    retry_->show();
    cancel_->show();
    retry_->setFocus();
}

QString ConnectingScreen::errorMessage() const { return error_->isVisible() ? error_->text() : QString(); }

}  // namespace vdi::thin_client::screens
