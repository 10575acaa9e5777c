// US-layout tables for key_map.h: printable ASCII to (scancode, Shift), Qt's named keys to keysyms
// and scancodes.
#include "vdi/thin_client/view/key_map.h"

#include <array>

#include <rfb/keysym.h>

namespace vdi::thin_client::view {

namespace {

struct CharKey {
    char unshifted;
    char shifted;
    quint16 scancode;
};

// The character keys of a US PC keyboard, in set 1.
constexpr std::array<CharKey, 47> char_keys{{
    {'`', '~', 0x29}, {'1', '!', 0x02}, {'2', '@', 0x03}, {'3', '#', 0x04}, {'4', '$', 0x05},
    {'5', '%', 0x06}, {'6', '^', 0x07}, {'7', '&', 0x08}, {'8', '*', 0x09}, {'9', '(', 0x0a},
    {'0', ')', 0x0b}, {'-', '_', 0x0c}, {'=', '+', 0x0d}, {'q', 'Q', 0x10}, {'w', 'W', 0x11},
    {'e', 'E', 0x12}, {'r', 'R', 0x13}, {'t', 'T', 0x14}, {'y', 'Y', 0x15}, {'u', 'U', 0x16},
    {'i', 'I', 0x17}, {'o', 'O', 0x18}, {'p', 'P', 0x19}, {'[', '{', 0x1a}, {']', '}', 0x1b},
    {'a', 'A', 0x1e}, {'s', 'S', 0x1f}, {'d', 'D', 0x20}, {'f', 'F', 0x21}, {'g', 'G', 0x22},
    {'h', 'H', 0x23}, {'j', 'J', 0x24}, {'k', 'K', 0x25}, {'l', 'L', 0x26}, {';', ':', 0x27},
    {'\'', '"', 0x28}, {'\\', '|', 0x2b}, {'z', 'Z', 0x2c}, {'x', 'X', 0x2d}, {'c', 'C', 0x2e},
    {'v', 'V', 0x2f}, {'b', 'B', 0x30}, {'n', 'N', 0x31}, {'m', 'M', 0x32}, {',', '<', 0x33},
    {'.', '>', 0x34}, {'/', '?', 0x35},
}};

struct NamedKey {
    int qt_key;
    quint32 keysym;
    quint16 scancode;
    bool extended;
};

constexpr std::array<NamedKey, 44> named_keys{{
    {Qt::Key_Escape, XK_Escape, 0x01, false},       {Qt::Key_Tab, XK_Tab, 0x0f, false},
    {Qt::Key_Backtab, XK_Tab, 0x0f, false},         {Qt::Key_Backspace, XK_BackSpace, 0x0e, false},
    {Qt::Key_Return, XK_Return, 0x1c, false},       {Qt::Key_Enter, XK_KP_Enter, 0x1c, true},
    {Qt::Key_Space, XK_space, 0x39, false},         {Qt::Key_Insert, XK_Insert, 0x52, true},
    {Qt::Key_Delete, XK_Delete, 0x53, true},        {Qt::Key_Home, XK_Home, 0x47, true},
    {Qt::Key_End, XK_End, 0x4f, true},              {Qt::Key_PageUp, XK_Page_Up, 0x49, true},
    {Qt::Key_PageDown, XK_Page_Down, 0x51, true},   {Qt::Key_Left, XK_Left, 0x4b, true},
    {Qt::Key_Up, XK_Up, 0x48, true},                {Qt::Key_Right, XK_Right, 0x4d, true},
    {Qt::Key_Down, XK_Down, 0x50, true},            {Qt::Key_Shift, XK_Shift_L, 0x2a, false},
    {Qt::Key_Control, XK_Control_L, 0x1d, false},   {Qt::Key_Alt, XK_Alt_L, 0x38, false},
    {Qt::Key_AltGr, XK_Alt_R, 0x38, true},          {Qt::Key_Meta, XK_Super_L, 0x5b, true},
    {Qt::Key_Super_L, XK_Super_L, 0x5b, true},      {Qt::Key_Super_R, XK_Super_R, 0x5c, true},
    {Qt::Key_Menu, XK_Menu, 0x5d, true},            {Qt::Key_CapsLock, XK_Caps_Lock, 0x3a, false},
    {Qt::Key_NumLock, XK_Num_Lock, 0x45, false},    {Qt::Key_ScrollLock, XK_Scroll_Lock, 0x46, false},
    {Qt::Key_Print, XK_Print, 0x37, true},          {Qt::Key_Pause, XK_Pause, 0x45, false},
    {Qt::Key_F1, XK_F1, 0x3b, false},               {Qt::Key_F2, XK_F2, 0x3c, false},
    {Qt::Key_F3, XK_F3, 0x3d, false},               {Qt::Key_F4, XK_F4, 0x3e, false},
    {Qt::Key_F5, XK_F5, 0x3f, false},               {Qt::Key_F6, XK_F6, 0x40, false},
    {Qt::Key_F7, XK_F7, 0x41, false},               {Qt::Key_F8, XK_F8, 0x42, false},
    {Qt::Key_F9, XK_F9, 0x43, false},               {Qt::Key_F10, XK_F10, 0x44, false},
    {Qt::Key_F11, XK_F11, 0x57, false},             {Qt::Key_F12, XK_F12, 0x58, false},
    {Qt::Key_SysReq, XK_Sys_Req, 0x54, false},      {Qt::Key_Clear, XK_Clear, 0x4c, false},
}};

// X keycodes (xcb's native scan codes) of the right-hand modifiers on a PC keyboard (evdev + 8).
constexpr quint32 x_shift_r = 62;
constexpr quint32 x_control_r = 105;
constexpr quint32 x_alt_r = 108;

std::optional<KeyInfo> printable(char c)
{
    for (const auto& key : char_keys) {
        if (key.unshifted == c) return KeyInfo{static_cast<quint32>(static_cast<unsigned char>(c)), key.scancode, false, false};
        if (key.shifted == c) return KeyInfo{static_cast<quint32>(static_cast<unsigned char>(c)), key.scancode, false, true};
    }
    return std::nullopt;
}

}  // namespace

std::optional<KeyInfo> key_info(int qt_key, const QString& text, quint32 native_scancode)
{
    // modifiers first: their text is empty, and the right-hand ones differ only in the native code
    if (qt_key == Qt::Key_Shift && native_scancode == x_shift_r) return KeyInfo{XK_Shift_R, 0x36, false, false};
    if (qt_key == Qt::Key_Control && native_scancode == x_control_r) return KeyInfo{XK_Control_R, 0x1d, true, false};
    if (qt_key == Qt::Key_Alt && native_scancode == x_alt_r) return KeyInfo{XK_Alt_R, 0x38, true, false};
    for (const auto& key : named_keys) {
        if (key.qt_key == qt_key) return KeyInfo{key.keysym, key.scancode, key.extended, false};
    }
    if (text.size() == 1) {
        const QChar c = text.front();
        if (c.unicode() >= 0x20 && c.unicode() < 0x7f) return printable(static_cast<char>(c.unicode()));
        if (c.unicode() >= 0xa0 && c.unicode() <= 0xff) return KeyInfo{c.unicode(), 0, false, false};  // Latin-1
    }
    // no printable text (Ctrl+C gives "\x03"): the key itself, unshifted
    if (qt_key >= Qt::Key_A && qt_key <= Qt::Key_Z) return printable(static_cast<char>('a' + (qt_key - Qt::Key_A)));
    if (qt_key >= 0x20 && qt_key < 0x7f) {
        auto info = printable(static_cast<char>(qt_key));
        if (info) info->needs_shift = false;
        return info;
    }
    return std::nullopt;
}

KeyStroke stroke(const KeyInfo& info, bool down)
{
    return KeyStroke{info.keysym, info.scancode, info.extended, down};
}

KeyStroke left_shift(bool down)
{
    return KeyStroke{XK_Shift_L, 0x2a, false, down};
}

}  // namespace vdi::thin_client::view
