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

}  // namespace vdi::hv
