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

std::optional<Set2Key> key_for_keysym(std::uint32_t keysym)
{
    if (keysym >= 0x20 && keysym <= 0x7e) {
        const auto key = key_for_char(static_cast<char>(keysym));
        return key ? std::optional<Set2Key>(key->key) : std::nullopt;
    }
    struct Special {
        std::uint32_t keysym;
        std::uint8_t code;
        bool extended;
    };
    static constexpr Special specials[] = {
        {0xff0d, 0x5a, false}, {0xff08, 0x66, false}, {0xff09, 0x0d, false}, {0xff1b, 0x76, false},
        {0xffe1, 0x12, false}, {0xffe2, 0x59, false}, {0xffe3, 0x14, false}, {0xffe4, 0x14, true},
        {0xffe9, 0x11, false}, {0xffea, 0x11, true},  {0xffeb, 0x1f, true},  {0xffec, 0x27, true},
        {0xff67, 0x2f, true},  {0xffe5, 0x58, false}, {0xff7f, 0x77, false}, {0xff14, 0x7e, false},
        {0xffbe, 0x05, false}, {0xffbf, 0x06, false}, {0xffc0, 0x04, false}, {0xffc1, 0x0c, false},
        {0xffc2, 0x03, false}, {0xffc3, 0x0b, false}, {0xffc4, 0x83, false}, {0xffc5, 0x0a, false},
        {0xffc6, 0x01, false}, {0xffc7, 0x09, false}, {0xffc8, 0x78, false}, {0xffc9, 0x07, false},
        {0xff51, 0x6b, true},  {0xff52, 0x75, true},  {0xff53, 0x74, true},  {0xff54, 0x72, true},
        {0xff63, 0x70, true},  {0xffff, 0x71, true},  {0xff50, 0x6c, true},  {0xff57, 0x69, true},
        {0xff55, 0x7d, true},  {0xff56, 0x7a, true},  {0xffb0, 0x70, false}, {0xffb1, 0x69, false},
        {0xffb2, 0x72, false}, {0xffb3, 0x7a, false}, {0xffb4, 0x6b, false}, {0xffb5, 0x73, false},
        {0xffb6, 0x74, false}, {0xffb7, 0x6c, false}, {0xffb8, 0x75, false}, {0xffb9, 0x7d, false},
        {0xffae, 0x71, false}, {0xffab, 0x79, false}, {0xffad, 0x7b, false}, {0xffaa, 0x7c, false},
        {0xffaf, 0x4a, true},  {0xff8d, 0x5a, true},
    };
    for (const auto& s : specials) {
        if (s.keysym == keysym) {
            return Set2Key{s.code, s.extended};
        }
    }
    return std::nullopt;
}

}  // namespace vdi::hv
