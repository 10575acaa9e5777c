// The thin client's look in one place: a dark kiosk palette, one stylesheet, and the centred card
// every full-screen screen sits on. GUI thread only.
#pragma once

#include <QString>

class QApplication;
class QFrame;
class QLabel;
class QWidget;

namespace vdi::thin_client::screens {

// Fusion style, the palette and the stylesheet, on the whole application (call once, before the
// first window is shown).
void apply_theme(QApplication& app);

// How a message label reads: set as the `tone` property the stylesheet keys on.
enum class Tone { normal, muted, error, warning, success };
void set_tone(QLabel& label, Tone tone);

// Lays `screen` out as a centred card of `width` pixels on the background and returns the card,
// for the caller to fill (its layout is a QVBoxLayout).
QFrame* centred_card(QWidget& screen, int width);

}  // namespace vdi::thin_client::screens
