// ASCII to set-2 scancodes on a US layout.
#include "vdi/hv/devices/ps2_keymap.h"

#include <cstring>

namespace vdi::hv {
namespace {

struct Entry {
    char plain;
    char shifted;
    std::uint8_t code;
};

constexpr Entry table[] = {
    {'a', 'A', 0x1c}, {'b', 'B', 0x32}, {'c', 'C', 0x21}, {'d', 'D', 0x23}, {'e', 'E', 0x24}, {'f', 'F', 0x2b},
    {'g', 'G', 0x34}, {'h', 'H', 0x33}, {'i', 'I', 0x43}, {'j', 'J', 0x3b}, {'k', 'K', 0x42}, {'l', 'L', 0x4b},
    {'m', 'M', 0x3a}, {'n', 'N', 0x31}, {'o', 'O', 0x44}, {'p', 'P', 0x4d}, {'q', 'Q', 0x15}, {'r', 'R', 0x2d},
    {'s', 'S', 0x1b}, {'t', 'T', 0x2c}, {'u', 'U', 0x3c}, {'v', 'V', 0x2a}, {'w', 'W', 0x1d}, {'x', 'X', 0x22},
    {'y', 'Y', 0x35}, {'z', 'Z', 0x1a}, {'1', '!', 0x16}, {'2', '@', 0x1e}, {'3', '#', 0x26}, {'4', '$', 0x25},
    {'5', '%', 0x2e}, {'6', '^', 0x36}, {'7', '&', 0x3d}, {'8', '*', 0x3e}, {'9', '(', 0x46}, {'0', ')', 0x45},
    {'`', '~', 0x0e}, {'-', '_', 0x4e}, {'=', '+', 0x55}, {'[', '{', 0x54}, {']', '}', 0x5b}, {'\\', '|', 0x5d},
    {';', ':', 0x4c}, {'\'', '"', 0x52}, {',', '<', 0x41}, {'.', '>', 0x49}, {'/', '?', 0x4a}, {' ', ' ', 0x29},
    {'\n', '\n', 0x5a}, {'\t', '\t', 0x0d}, {'\b', '\b', 0x66},
};

}  // namespace

std::optional<CharKey> key_for_char(char c)
{
    for (const auto& e : table) {
        if (e.plain == c) {
            return CharKey{{e.code, false}, false};
        }
        if (e.shifted == c) {
            return CharKey{{e.code, false}, true};
        }
    }
    return std::nullopt;
}

}  // namespace vdi::hv
