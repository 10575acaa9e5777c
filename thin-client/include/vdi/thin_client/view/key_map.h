// Qt key events to what the display protocols send: X keysyms (VNC) and set-1 scancodes (RDP),
// for a US layout, which is what the desktops' PS/2 keyboard speaks. Plain functions; any thread.
#pragma once

#include <QString>
#include <Qt>
#include <optional>

#include "vdi/thin_client/view/remote_session.h"

namespace vdi::thin_client::view {

struct KeyInfo {
    quint32 keysym = 0;
    quint16 scancode = 0;      // set 1; 0 when the key has none on a PC keyboard
    bool extended = false;     // E0 prefix
    bool needs_shift = false;  // a character typed with Shift on a US layout ('A', '!', ...)
};

// The key of one Qt key event. `text` wins for printable characters (what the user meant to
// type), `qt_key` names the others; `native_scancode` (the X keycode under xcb) tells the right
// hand modifiers from the left. nullopt: a key the desktops cannot receive.
std::optional<KeyInfo> key_info(int qt_key, const QString& text, quint32 native_scancode = 0);

// A stroke of `info` (pressed or released).
KeyStroke stroke(const KeyInfo& info, bool down);
// Left Shift, pressed or released (typing a shifted character that came without Shift held).
KeyStroke left_shift(bool down);

}  // namespace vdi::thin_client::view
