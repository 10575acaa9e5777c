// The palette and the stylesheet. Sizes are large on purpose: a kiosk is read from arm's length,
// often on a 1280x1024 or a TV-sized screen, and used with a keyboard.
#include "vdi/thin_client/screens/theme.h"

#include <QApplication>
#include <QFrame>
#include <QGraphicsDropShadowEffect>
#include <QGridLayout>
#include <QLabel>
#include <QPalette>
#include <QStyle>
#include <QStyleFactory>
#include <QVBoxLayout>

namespace vdi::thin_client::screens {
namespace {

// One place for the colours, used by the palette and the stylesheet alike.
constexpr auto background = "#141a24";
constexpr auto surface = "#1f2733";
constexpr auto surface_raised = "#283243";
constexpr auto border = "#364257";
constexpr auto text = "#eef2f8";
constexpr auto text_muted = "#9aa7ba";
constexpr auto accent = "#3b82f6";
constexpr auto accent_hover = "#5b9bff";
constexpr auto accent_pressed = "#2563c9";
constexpr auto error = "#ff8a8a";
constexpr auto warning = "#ffc861";
constexpr auto success = "#5ad19a";

QString style_sheet() {
    return QStringLiteral(R"(
* { font-size: 16px; color: %5; }
QWidget#screen { background: %1; }
QFrame#card { background: %2; border: 1px solid %4; border-radius: 14px; }
QLabel { background: transparent; }
QLabel#brandMark { background: %7; color: white; font-size: 22px; font-weight: 800;
  border-radius: 8px; padding: 6px 10px; }
QLabel#brandProduct { font-size: 18px; font-weight: 600; }
QLabel#brandTerminal { font-size: 14px; color: %6; }
QLabel#heading { font-size: 26px; font-weight: 600; }
QLabel#fieldLabel { font-size: 14px; color: %6; font-weight: 600; }
QLabel[tone="muted"] { color: %6; }
QLabel[tone="error"] { color: %10; }
QLabel[tone="warning"] { color: %11; }
QLabel[tone="success"] { color: %12; }
QLabel#message { padding: 10px 12px; border-radius: 8px; }
QLabel#message[tone="error"] { background: rgba(255,138,138,0.10); border: 1px solid rgba(255,138,138,0.45); }
QLabel#message[tone="warning"] { background: rgba(255,200,97,0.10); border: 1px solid rgba(255,200,97,0.45); }
QLabel#message[tone="normal"], QLabel#message[tone="muted"] { background: %3; border: 1px solid %4; }
QLineEdit { background: %1; border: 1px solid %4; border-radius: 8px; padding: 10px 12px;
  font-size: 18px; min-height: 28px; selection-background-color: %7; }
QLineEdit:focus { border: 2px solid %7; padding: 9px 11px; }
QLineEdit:disabled { color: %6; }
QPushButton { background: %3; border: 1px solid %4; border-radius: 8px; padding: 10px 20px;
  font-size: 16px; font-weight: 600; min-height: 24px; }
QPushButton:hover { background: %4; }
QPushButton:focus { border: 2px solid %8; padding: 9px 19px; }
QPushButton:disabled { color: %6; background: %2; border-color: %3; }
QPushButton[role="primary"] { background: %7; border-color: %7; color: white; font-size: 18px; }
QPushButton[role="primary"]:hover { background: %8; border-color: %8; }
QPushButton[role="primary"]:pressed { background: %9; }
QPushButton[role="primary"]:focus { border: 2px solid white; }
QPushButton[role="primary"]:disabled { background: #2b3a55; border-color: #2b3a55; color: %6; }
QPushButton[role="link"] { background: transparent; border: none; color: %6; font-weight: 500; padding: 6px 8px; }
QPushButton[role="link"]:hover { color: %5; }
QPushButton[role="link"]:focus { border: 1px solid %4; padding: 5px 7px; }
QPushButton[role="pool"], QPushButton[role="resume"] { padding: 0; border-radius: 10px; min-height: 70px; }
QPushButton[role="pool"]:focus { border: 2px solid %7; }
QPushButton[role="resume"] { border-color: %12; }
QPushButton[role="resume"]:focus { border: 2px solid %12; }
QPushButton[role="pool"]:disabled { background: %2; border: 1px dashed %4; }
QLabel#choiceTitle { font-size: 19px; font-weight: 600; }
QLabel#choiceDetail { font-size: 14px; color: %6; }
QPushButton[role="resume"] QLabel#choiceDetail { color: %12; }
QLabel#choiceTitle:disabled { color: %6; }
QLabel#choiceDetail:disabled { color: %11; }
QProgressBar { background: %3; border: none; border-radius: 2px; max-height: 4px; min-height: 4px; }
QProgressBar::chunk { background: %7; border-radius: 2px; }
QScrollArea, QScrollArea > QWidget > QWidget { background: transparent; border: none; }
QFrame#sessionBar { background: rgba(31,39,51,0.96); border: 1px solid %4; border-top: none;
  border-bottom-left-radius: 12px; border-bottom-right-radius: 12px; }
QFrame#sessionBar QPushButton { padding: 8px 14px; font-size: 15px; }
QFrame#connectionDetails { background: %3; border: 1px solid %4; border-radius: 10px; }
QFrame#banner { background: #3a2f12; border: 1px solid %11; border-radius: 10px; }
QFrame#banner QLabel { color: #fff3d6; font-size: 17px; }
QFrame#overlayCard { background: rgba(31,39,51,0.97); border: 1px solid %4; border-radius: 14px; }
)")
        .arg(background, surface, surface_raised, border, text, text_muted, accent, accent_hover, accent_pressed)
        .arg(error, warning, success);
}

}  // namespace

void apply_theme(QApplication& app) {
    app.setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    QPalette p;
    p.setColor(QPalette::Window, QColor(background));
    p.setColor(QPalette::WindowText, QColor(text));
    p.setColor(QPalette::Base, QColor(background));
    p.setColor(QPalette::AlternateBase, QColor(surface));
    p.setColor(QPalette::Text, QColor(text));
    p.setColor(QPalette::Button, QColor(surface_raised));
    p.setColor(QPalette::ButtonText, QColor(text));
    p.setColor(QPalette::Highlight, QColor(accent));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::ToolTipBase, QColor(surface_raised));
    p.setColor(QPalette::ToolTipText, QColor(text));
    p.setColor(QPalette::PlaceholderText, QColor(text_muted));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(text_muted));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(text_muted));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(text_muted));
    app.setPalette(p);
    QFont font(QStringLiteral("DejaVu Sans"));
    font.setPixelSize(16);
    app.setFont(font);
    app.setStyleSheet(style_sheet());
}

void set_tone(QLabel& label, Tone tone) {
    static constexpr const char* names[] = {"normal", "muted", "error", "warning", "success"};
    label.setProperty("tone", QString::fromLatin1(names[static_cast<int>(tone)]));
    // a dynamic property change is seen by the stylesheet only after a re-polish
    label.style()->unpolish(&label);
    label.style()->polish(&label);
}

QFrame* centred_card(QWidget& screen, int width) {
    screen.setObjectName(QStringLiteral("screen"));
    screen.setAttribute(Qt::WA_StyledBackground);
    auto* card = new QFrame(&screen);
    card->setObjectName(QStringLiteral("card"));
    card->setFixedWidth(width);
    auto* shadow = new QGraphicsDropShadowEffect(card);
    shadow->setBlurRadius(40);
    shadow->setOffset(0, 8);
    shadow->setColor(QColor(0, 0, 0, 140));
    card->setGraphicsEffect(shadow);
    auto* inner = new QVBoxLayout(card);
    inner->setContentsMargins(40, 36, 40, 36);
    inner->setSpacing(14);

    auto* outer = new QGridLayout(&screen);
    outer->setContentsMargins(24, 24, 24, 24);
    outer->setRowStretch(0, 1);
    outer->setRowStretch(2, 1);
    outer->setColumnStretch(0, 1);
    outer->setColumnStretch(2, 1);
    outer->addWidget(card, 1, 1);
    return card;
}

}  // namespace vdi::thin_client::screens
