// US keyboard layout in PS/2 scancode set 2: characters to key presses, for text injection and
// for the display servers' key translation.
#pragma once

#include <cstdint>
#include <optional>

namespace vdi::hv {

struct Set2Key {
    std::uint8_t code = 0;
    bool extended = false;  // E0 prefix
};

inline constexpr Set2Key key_left_shift{0x12, false};
inline constexpr Set2Key key_enter{0x5a, false};
inline constexpr Set2Key key_backspace{0x66, false};

struct CharKey {
    Set2Key key;
    bool shift = false;
};

// The key (and whether Shift is needed) that types `c` on a US layout; nullopt if none does.
std::optional<CharKey> key_for_char(char c);

// The key an X keysym (as VNC clients send them) stands for on a US layout: printable Latin-1,
// Return, BackSpace, Tab, Escape, modifiers (Shift, Control, Alt, Super, Caps Lock), F1-F12,
// arrows and the navigation block, the keypad. Shifted characters map to their unshifted key:
// the client sends Shift itself. nullopt for keysyms with no PS/2 key.
std::optional<Set2Key> key_for_keysym(std::uint32_t keysym);

// The set-2 key for a set-1 (XT) scancode as RDP clients send them (`extended`: the E0 prefix).
std::optional<Set2Key> key_for_set1(std::uint8_t code, bool extended);

}  // namespace vdi::hv
