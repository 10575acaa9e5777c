// What the demo guest draws where (mirrors hypervisor-core/guest/desktop.c), for screen checks.
#pragma once

#include <cstdint>
#include <string>

#include "font8x16.h"
#include "vdi/hv/devices/framebuffer.h"

namespace demo_screen {

inline constexpr std::uint32_t bar_color = 0x14213d;
inline constexpr std::uint32_t bar_text = 0xf1faee;
inline constexpr std::uint32_t window_color = 0xfdfdfd;
inline constexpr std::uint32_t text_color = 0x1b1b1b;
inline constexpr std::uint32_t title_color = 0x264653;
inline constexpr std::uint32_t notice_color = 0x9d0208;  // the banner of a "notice" from the host
inline constexpr std::uint32_t notice_height = 24;

// The top bar: "host NAME   user NAME   session TAG", text at y = 4 in bar_text on bar_color.
inline constexpr std::uint32_t bar_text_y = 4;
// Where the user's name starts, after the host `hostname`.
inline std::uint32_t user_x(const std::string& hostname)
{
    return 8 + 5 * 8 + static_cast<std::uint32_t>(hostname.size() + 3) * 8 + 5 * 8;
}

struct Layout {
    std::uint32_t win_x, win_y, win_w, win_h, text_x, text_y;
    explicit Layout(std::uint32_t width, std::uint32_t height)
    {
        win_w = width * 3 / 5;
        win_h = height / 2;
        win_x = (width - win_w) / 2;
        win_y = (height - win_h) / 2;
        text_x = win_x + 8;
        text_y = win_y + 30;
    }
};

// True when the 8x16 cell at (x, y) shows `c` in `fg` on `bg`, pixel for pixel. `Screen` is
// anything with pixel(x, y): the guest's Framebuffer, or a client's copy of it.
template <typename Screen>
inline bool glyph_at(const Screen& fb, std::uint32_t x, std::uint32_t y, char c, std::uint32_t fg,
                     std::uint32_t bg)
{
    const unsigned char* glyph = font8x16[c - 0x20];
    for (std::uint32_t row = 0; row < 16; ++row) {
        for (std::uint32_t col = 0; col < 8; ++col) {
            const std::uint32_t want = (glyph[row] & (0x80 >> col)) ? fg : bg;
            if ((fb.pixel(x + col, y + row) & 0xffffff) != want) {
                return false;
            }
        }
    }
    return true;
}

template <typename Screen>
inline bool text_at(const Screen& fb, std::uint32_t x, std::uint32_t y, const std::string& text,
                    std::uint32_t fg, std::uint32_t bg)
{
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (!glyph_at(fb, x + static_cast<std::uint32_t>(i) * 8, y, text[i], fg, bg)) {
            return false;
        }
    }
    return true;
}

}  // namespace demo_screen
