/* The demo desktop guest: a small freestanding program the VMM boots like a kernel.
 *
 * It reads the framebuffer from boot_params.screen_info, draws a desktop (background, a top
 * bar with host name, user and clock, a "Notes" window with a text area), echoes keys typed on
 * the PS/2 keyboard into the window, moves a pointer with the PS/2 mouse, takes its identity
 * from the agent channel (COM2) and says "ready" there; Ctrl+V pastes the clipboard text the
 * host sent, Ctrl+C sends the window's text to the host as the desktop's clipboard. It redraws only what changed and sleeps
 * in HLT between interrupts, because guest code is expensive on emulating hosts.
 *
 * Built with -ffreestanding -nostdlib -mgeneral-regs-only -mno-red-zone: integer code only.
 */
#include <stdint.h>

#include "font8x16.h"

/* ---------------------------------------------------------------------------------------- */
/* Port I/O and small helpers                                                                */

static inline void outb(uint16_t port, uint8_t value) { __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t value;
    __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

static void fill32(uint32_t* dst, uint32_t value, uint64_t count)
{
    __asm__ volatile("rep stosl" : "+D"(dst), "+c"(count) : "a"(value) : "memory");
}

static uint64_t str_len(const char* s)
{
    uint64_t n = 0;
    while (s[n]) n++;
    return n;
}

static int str_eq_n(const char* a, const char* b, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        if (a[i] != b[i]) return 0;
    }
    return 1;
}

static void str_copy(char* dst, const char* src, uint64_t cap)
{
    uint64_t i = 0;
    for (; src[i] && i + 1 < cap; i++) dst[i] = src[i];
    dst[i] = 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Serial ports: COM1 console, COM2 agent channel                                            */

#define COM1 0x3f8
#define COM2 0x2f8

static void serial_init(uint16_t base, int rx_interrupt)
{
    outb(base + 1, 0x00);                 /* interrupts off while programming */
    outb(base + 3, 0x80);                 /* DLAB */
    outb(base + 0, 0x01);                 /* 115200 baud */
    outb(base + 1, 0x00);
    outb(base + 3, 0x03);                 /* 8N1 */
    outb(base + 2, 0x07);                 /* FIFO on, cleared */
    outb(base + 4, 0x0b);                 /* DTR, RTS, OUT2 (IRQ gate) */
    outb(base + 1, rx_interrupt ? 0x01 : 0x00);
}

static void serial_write(uint16_t base, const char* s)
{
    for (; *s; s++) {
        while (!(inb(base + 5) & 0x20)) {
        }
        outb(base, (uint8_t)*s);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Interrupts: 8259 PIC remapped to vectors 0x20-0x2f, an IDT of interrupt gates             */

struct idt_entry {
    uint16_t offset_low, selector;
    uint8_t ist, type_attr;
    uint16_t offset_mid;
    uint32_t offset_high, zero;
} __attribute__((packed));

struct idt_pointer {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

struct interrupt_frame;

static struct idt_entry idt[256] __attribute__((aligned(16)));

static void idt_set(int vector, void (*handler)(struct interrupt_frame*))
{
    const uint64_t address = (uint64_t)handler;
    idt[vector].offset_low = (uint16_t)address;
    idt[vector].selector = 0x08; /* the VMM's 64-bit code segment */
    idt[vector].ist = 0;
    idt[vector].type_attr = 0x8e; /* present, ring 0, interrupt gate */
    idt[vector].offset_mid = (uint16_t)(address >> 16);
    idt[vector].offset_high = (uint32_t)(address >> 32);
    idt[vector].zero = 0;
}

static void pic_init(void)
{
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, 0x20); /* master: vectors 0x20-0x27 */
    outb(0xa1, 0x28); /* slave: vectors 0x28-0x2f */
    outb(0x21, 0x04);
    outb(0xa1, 0x02);
    outb(0x21, 0x01);
    outb(0xa1, 0x01);
    /* unmask IRQ0 (timer), 1 (keyboard), 2 (cascade), 3 (agent); on the slave IRQ12 (mouse) */
    outb(0x21, (uint8_t)~((1 << 0) | (1 << 1) | (1 << 2) | (1 << 3)));
    outb(0xa1, (uint8_t)~(1 << 4));
}

static void pit_init(void)
{
    /* channel 0, mode 2, lowest rate (divisor 65536, about 18.2 Hz): enough for a clock */
    outb(0x43, 0x34);
    outb(0x40, 0x00);
    outb(0x40, 0x00);
}

/* Ring buffers filled by interrupt handlers, drained by the main loop; room for the agent
 * channel's longest line (a clipboard of 1024 bytes percent-encoded), which arrives at once. */
#define RING 8192
struct ring {
    volatile uint8_t data[RING];
    volatile uint32_t head, tail;
};
static struct ring keyboard_ring, mouse_ring, agent_ring;
static volatile uint32_t ticks;

static void ring_put(struct ring* r, uint8_t value)
{
    const uint32_t next = (r->head + 1) % RING;
    if (next != r->tail) {
        r->data[r->head] = value;
        r->head = next;
    }
}

static int ring_get(struct ring* r, uint8_t* value)
{
    if (r->tail == r->head) return 0;
    *value = r->data[r->tail];
    r->tail = (r->tail + 1) % RING;
    return 1;
}

static int ring_empty(const struct ring* r) { return r->tail == r->head; }

__attribute__((interrupt)) static void on_timer(struct interrupt_frame* frame)
{
    (void)frame;
    ticks++;
    outb(0x20, 0x20);
}

__attribute__((interrupt)) static void on_keyboard(struct interrupt_frame* frame)
{
    (void)frame;
    while (inb(0x64) & 0x01) {
        if (inb(0x64) & 0x20) break; /* mouse byte: leave it for IRQ12 */
        ring_put(&keyboard_ring, inb(0x60));
    }
    outb(0x20, 0x20);
}

__attribute__((interrupt)) static void on_mouse(struct interrupt_frame* frame)
{
    (void)frame;
    while ((inb(0x64) & 0x21) == 0x21) ring_put(&mouse_ring, inb(0x60));
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
}

__attribute__((interrupt)) static void on_agent(struct interrupt_frame* frame)
{
    (void)frame;
    while (inb(COM2 + 5) & 0x01) ring_put(&agent_ring, inb(COM2));
    outb(0x20, 0x20);
}

__attribute__((interrupt)) static void on_spurious(struct interrupt_frame* frame)
{
    (void)frame;
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
}

/* ---------------------------------------------------------------------------------------- */
/* Drawing                                                                                    */

static uint32_t* fb;
static uint32_t fb_width, fb_height, fb_pitch; /* pitch in pixels */

#define COLOR_DESKTOP_TOP 0x1d3557
#define COLOR_DESKTOP_BOTTOM 0x457b9d
#define COLOR_BAR 0x14213d
#define COLOR_BAR_TEXT 0xf1faee
#define COLOR_WINDOW_TITLE 0x264653
#define COLOR_WINDOW 0xfdfdfd
#define COLOR_TEXT 0x1b1b1b
#define COLOR_BORDER 0x0b0f19
#define BAR_HEIGHT 24
#define NOTICE_HEIGHT 24
#define COLOR_NOTICE 0x9d0208

static void fill_rect(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t color)
{
    if (x >= fb_width || y >= fb_height) return;
    if (x + w > fb_width) w = fb_width - x;
    if (y + h > fb_height) h = fb_height - y;
    for (uint32_t row = 0; row < h; row++) fill32(fb + (uint64_t)(y + row) * fb_pitch + x, color, w);
}

static void draw_char(uint32_t x, uint32_t y, char c, uint32_t fg, uint32_t bg)
{
    if (c < 0x20 || c > 0x7e) c = '?';
    const unsigned char* glyph = font8x16[c - 0x20];
    if (x + 8 > fb_width || y + 16 > fb_height) return;
    for (uint32_t row = 0; row < 16; row++) {
        uint32_t* line = fb + (uint64_t)(y + row) * fb_pitch + x;
        const unsigned char bits = glyph[row];
        for (uint32_t col = 0; col < 8; col++) line[col] = (bits & (0x80 >> col)) ? fg : bg;
    }
}

static void draw_text(uint32_t x, uint32_t y, const char* s, uint32_t fg, uint32_t bg)
{
    for (; *s; s++, x += 8) draw_char(x, y, *s, fg, bg);
}

static void draw_background_rows(uint32_t first, uint32_t end)
{
    /* vertical gradient, one solid row at a time */
    for (uint32_t y = first; y < end && y < fb_height; y++) {
        const uint32_t t = (y * 256) / fb_height;
        const uint32_t r = (((COLOR_DESKTOP_TOP >> 16) & 0xff) * (256 - t) + ((COLOR_DESKTOP_BOTTOM >> 16) & 0xff) * t) >> 8;
        const uint32_t g = (((COLOR_DESKTOP_TOP >> 8) & 0xff) * (256 - t) + ((COLOR_DESKTOP_BOTTOM >> 8) & 0xff) * t) >> 8;
        const uint32_t b = ((COLOR_DESKTOP_TOP & 0xff) * (256 - t) + (COLOR_DESKTOP_BOTTOM & 0xff) * t) >> 8;
        fill32(fb + (uint64_t)y * fb_pitch, (r << 16) | (g << 8) | b, fb_width);
    }
}

static void draw_background(void)
{
    draw_background_rows(BAR_HEIGHT, fb_height);
}

/* ---------------------------------------------------------------------------------------- */
/* State: identity, clock, text                                                              */

static char hostname[64] = "golden";
static char username[65] = "nobody"; /* user names have up to 64 characters; "" is none */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static char session_tag[17] = "----------------";

static uint64_t rng_next(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static void hex64(uint64_t value, char* out)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, value >>= 4) out[i] = digits[value & 0xf];
    out[16] = 0;
}

static uint8_t rtc_read(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static int bcd(uint8_t v) { return (v >> 4) * 10 + (v & 0x0f); }

static void clock_text(char* out)
{
    const uint8_t b = rtc_read(0x0b);
    int h = rtc_read(0x04), m = rtc_read(0x02), s = rtc_read(0x00);
    if (!(b & 0x04)) {
        h = bcd((uint8_t)(h & 0x7f));
        m = bcd((uint8_t)m);
        s = bcd((uint8_t)s);
    }
    out[0] = (char)('0' + h / 10);
    out[1] = (char)('0' + h % 10);
    out[2] = ':';
    out[3] = (char)('0' + m / 10);
    out[4] = (char)('0' + m % 10);
    out[5] = ':';
    out[6] = (char)('0' + s / 10);
    out[7] = (char)('0' + s % 10);
    out[8] = ' ';
    out[9] = 'U';
    out[10] = 'T';
    out[11] = 'C';
    out[12] = 0;
}

static char last_clock[16];

static void draw_clock(int force)
{
    char now[16];
    clock_text(now);
    if (!force && str_eq_n(now, last_clock, 13)) return;
    str_copy(last_clock, now, sizeof last_clock);
    draw_text(fb_width - 8 * 13, 4, now, COLOR_BAR_TEXT, COLOR_BAR);
}

static void draw_bar(void)
{
    fill_rect(0, 0, fb_width, BAR_HEIGHT, COLOR_BAR);
    uint32_t x = 8;
    draw_text(x, 4, "host ", 0x8fb8de, COLOR_BAR);
    x += 5 * 8;
    draw_text(x, 4, hostname, COLOR_BAR_TEXT, COLOR_BAR);
    x += (uint32_t)(str_len(hostname) + 3) * 8;
    draw_text(x, 4, "user ", 0x8fb8de, COLOR_BAR);
    x += 5 * 8;
    const char* user = username[0] ? username : "unassigned";
    draw_text(x, 4, user, COLOR_BAR_TEXT, COLOR_BAR);
    x += (uint32_t)(str_len(user) + 3) * 8;
    draw_text(x, 4, "session ", 0x8fb8de, COLOR_BAR);
    x += 8 * 8;
    draw_text(x, 4, session_tag, COLOR_BAR_TEXT, COLOR_BAR);
    draw_clock(1);
}

/* The Notes window and its text area. */
static uint32_t win_x, win_y, win_w, win_h, text_x, text_y, text_cols, text_rows;
static char text[40][100];
static uint32_t cursor_col, cursor_row;

static void draw_window(void)
{
    win_w = fb_width * 3 / 5;
    win_h = fb_height / 2;
    win_x = (fb_width - win_w) / 2;
    win_y = (fb_height - win_h) / 2;
    fill_rect(win_x - 1, win_y - 1, win_w + 2, win_h + 2, COLOR_BORDER);
    fill_rect(win_x, win_y, win_w, 22, COLOR_WINDOW_TITLE);
    draw_text(win_x + 8, win_y + 3, "Notes - type here", COLOR_BAR_TEXT, COLOR_WINDOW_TITLE);
    fill_rect(win_x, win_y + 22, win_w, win_h - 22, COLOR_WINDOW);
    text_x = win_x + 8;
    text_y = win_y + 30;
    text_cols = (win_w - 16) / 8;
    text_rows = (win_h - 38) / 16;
    if (text_cols > 99) text_cols = 99;
    if (text_rows > 40) text_rows = 40;
}

static void draw_cursor(int visible)
{
    fill_rect(text_x + cursor_col * 8, text_y + cursor_row * 16 + 14, 8, 2, visible ? COLOR_TEXT : COLOR_WINDOW);
}

static void redraw_text(void)
{
    fill_rect(win_x, win_y + 22, win_w, win_h - 22, COLOR_WINDOW);
    for (uint32_t r = 0; r < text_rows; r++) {
        for (uint32_t c = 0; c < text_cols && text[r][c]; c++) {
            draw_char(text_x + c * 8, text_y + r * 16, text[r][c], COLOR_TEXT, COLOR_WINDOW);
        }
    }
}

static void scroll_text(void)
{
    for (uint32_t r = 1; r < text_rows; r++) {
        for (uint32_t c = 0; c < 100; c++) text[r - 1][c] = text[r][c];
    }
    for (uint32_t c = 0; c < 100; c++) text[text_rows - 1][c] = 0;
    cursor_row = text_rows - 1;
    redraw_text();
}

static void type_char(char c)
{
    draw_cursor(0);
    if (c == '\n') {
        cursor_col = 0;
        if (++cursor_row >= text_rows) scroll_text();
    } else if (c == '\b') {
        if (cursor_col > 0) {
            cursor_col--;
            text[cursor_row][cursor_col] = 0;
            draw_char(text_x + cursor_col * 8, text_y + cursor_row * 16, ' ', COLOR_TEXT, COLOR_WINDOW);
        }
    } else {
        if (cursor_col >= text_cols) {
            cursor_col = 0;
            if (++cursor_row >= text_rows) scroll_text();
        }
        text[cursor_row][cursor_col] = c;
        draw_char(text_x + cursor_col * 8, text_y + cursor_row * 16, c, COLOR_TEXT, COLOR_WINDOW);
        cursor_col++;
    }
    draw_cursor(1);
}

/* ---------------------------------------------------------------------------------------- */
/* Pointer: an arrow drawn over the screen, with the pixels under it saved                  */

#define POINTER_W 11
#define POINTER_H 17
static const char* const pointer_shape[POINTER_H] = {
    "X          ", "XX         ", "X.X        ", "X..X       ", "X...X      ", "X....X     ",
    "X.....X    ", "X......X   ", "X.......X  ", "X........X ", "X.....XXXXX", "X..X..X    ",
    "X.X X..X   ", "XX  X..X   ", "X    X..X  ", "     X..X  ", "      XX   ",
};
static uint32_t under_pointer[POINTER_H][POINTER_W];
static int32_t pointer_x, pointer_y;
static int pointer_drawn;

static void pointer_hide(void)
{
    if (!pointer_drawn) return;
    for (int r = 0; r < POINTER_H; r++) {
        for (int c = 0; c < POINTER_W; c++) {
            const int32_t x = pointer_x + c, y = pointer_y + r;
            if (x < (int32_t)fb_width && y < (int32_t)fb_height && pointer_shape[r][c] != ' ') {
                fb[(uint64_t)y * fb_pitch + (uint32_t)x] = under_pointer[r][c];
            }
        }
    }
    pointer_drawn = 0;
}

static void pointer_show(void)
{
    for (int r = 0; r < POINTER_H; r++) {
        for (int c = 0; c < POINTER_W; c++) {
            const int32_t x = pointer_x + c, y = pointer_y + r;
            if (x < (int32_t)fb_width && y < (int32_t)fb_height && pointer_shape[r][c] != ' ') {
                uint32_t* p = &fb[(uint64_t)y * fb_pitch + (uint32_t)x];
                under_pointer[r][c] = *p;
                *p = pointer_shape[r][c] == 'X' ? 0x000000 : 0xffffff;
            }
        }
    }
    pointer_drawn = 1;
}

/* ---------------------------------------------------------------------------------------- */
/* Input decoding: PS/2 scancode set 2 and 3-byte mouse packets                              */

static char key_ascii(uint8_t code, int shift)
{
    static const char plain[0x80] = {
        [0x1c] = 'a', [0x32] = 'b', [0x21] = 'c', [0x23] = 'd', [0x24] = 'e', [0x2b] = 'f', [0x34] = 'g',
        [0x33] = 'h', [0x43] = 'i', [0x3b] = 'j', [0x42] = 'k', [0x4b] = 'l', [0x3a] = 'm', [0x31] = 'n',
        [0x44] = 'o', [0x4d] = 'p', [0x15] = 'q', [0x2d] = 'r', [0x1b] = 's', [0x2c] = 't', [0x3c] = 'u',
        [0x2a] = 'v', [0x1d] = 'w', [0x22] = 'x', [0x35] = 'y', [0x1a] = 'z', [0x16] = '1', [0x1e] = '2',
        [0x26] = '3', [0x25] = '4', [0x2e] = '5', [0x36] = '6', [0x3d] = '7', [0x3e] = '8', [0x46] = '9',
        [0x45] = '0', [0x0e] = '`', [0x4e] = '-', [0x55] = '=', [0x54] = '[', [0x5b] = ']', [0x5d] = '\\',
        [0x4c] = ';', [0x52] = '\'', [0x41] = ',', [0x49] = '.', [0x4a] = '/', [0x29] = ' ', [0x5a] = '\n',
        [0x66] = '\b',
    };
    static const char shifted[0x80] = {
        [0x16] = '!', [0x1e] = '@', [0x26] = '#', [0x25] = '$', [0x2e] = '%', [0x36] = '^', [0x3d] = '&',
        [0x3e] = '*', [0x46] = '(', [0x45] = ')', [0x0e] = '~', [0x4e] = '_', [0x55] = '+', [0x54] = '{',
        [0x5b] = '}', [0x5d] = '|', [0x4c] = ':', [0x52] = '"', [0x41] = '<', [0x49] = '>', [0x4a] = '?',
    };
    if (code >= 0x80) return 0;
    char c = plain[code];
    if (shift) {
        if (c >= 'a' && c <= 'z') return (char)(c - 'a' + 'A');
        if (shifted[code]) return shifted[code];
    }
    return c;
}

static int key_release_next, key_extended_next, shift_left, shift_right, ctrl_left, ctrl_right;
static void paste_clipboard(void);
static void copy_window_text(void);

static void handle_key_byte(uint8_t byte)
{
    if (byte == 0xe0) {
        key_extended_next = 1;
        return;
    }
    if (byte == 0xf0) {
        key_release_next = 1;
        return;
    }
    const int release = key_release_next, extended = key_extended_next;
    key_release_next = key_extended_next = 0;
    if (byte == 0xfa || byte == 0xaa) return; /* acknowledgements */
    if (!extended && byte == 0x12) {
        shift_left = !release;
        return;
    }
    if (!extended && byte == 0x59) {
        shift_right = !release;
        return;
    }
    if (byte == 0x14) {
        if (extended) ctrl_right = !release;
        else ctrl_left = !release;
        return;
    }
    if (release || extended) return;
    if (ctrl_left || ctrl_right) {
        /* Ctrl+V pastes the clipboard the host sent, Ctrl+C offers the window's text */
        if (byte == 0x2a) paste_clipboard();
        if (byte == 0x21) copy_window_text();
        return;
    }
    const char c = key_ascii(byte, shift_left || shift_right);
    if (c) type_char(c);
}

static uint8_t mouse_packet[3];
static int mouse_index;

static void handle_mouse_byte(uint8_t byte)
{
    if (mouse_index == 0 && !(byte & 0x08)) return; /* resynchronise on the always-one bit */
    mouse_packet[mouse_index++] = byte;
    if (mouse_index < 3) return;
    mouse_index = 0;
    int32_t dx = mouse_packet[1], dy = mouse_packet[2];
    if (mouse_packet[0] & 0x10) dx -= 256;
    if (mouse_packet[0] & 0x20) dy -= 256;
    pointer_hide();
    pointer_x += dx;
    pointer_y -= dy;
    if (pointer_x < 0) pointer_x = 0;
    if (pointer_y < 0) pointer_y = 0;
    if (pointer_x >= (int32_t)fb_width) pointer_x = (int32_t)fb_width - 1;
    if (pointer_y >= (int32_t)fb_height) pointer_y = (int32_t)fb_height - 1;
    pointer_show();
}

/* PS/2 controller: interrupts on, translation off, mouse enabled and reporting. */
static void ps2_write(uint16_t port, uint8_t value)
{
    while (inb(0x64) & 0x02) {
    }
    outb(port, value);
}

static void ps2_drain(void)
{
    for (int i = 0; i < 64 && (inb(0x64) & 0x01); i++) (void)inb(0x60);
}

static void ps2_init(void)
{
    ps2_write(0x64, 0x20);
    while (!(inb(0x64) & 0x01)) {
    }
    uint8_t ctr = inb(0x60);
    ctr = (uint8_t)((ctr | 0x03) & ~0x40 & ~0x30);
    ps2_write(0x64, 0x60);
    ps2_write(0x60, ctr);
    ps2_write(0x64, 0xa8); /* enable the mouse port */
    ps2_write(0x64, 0xd4);
    ps2_write(0x60, 0xf4); /* mouse: enable reporting */
    ps2_drain();
}

/* ---------------------------------------------------------------------------------------- */
/* Agent channel: "identity host=.. user=.. seed=.. time_ms=.." in (an empty user: none),       */
/* "hello"/"ready" out                                                                       */

static char agent_line[4097]; /* the channel's longest line (4096) and a terminator */
static uint32_t agent_length;
static int agent_line_overlong; /* dropped at its newline: a cut line is not a shorter one */

static uint64_t parse_hex64(const char* s, uint64_t n)
{
    uint64_t v = 0;
    for (uint64_t i = 0; i < n && s[i]; i++) {
        const char c = s[i];
        const uint64_t d = (c >= '0' && c <= '9') ? (uint64_t)(c - '0') : (c >= 'a' && c <= 'f') ? (uint64_t)(c - 'a' + 10) : 0;
        v = (v << 4) | d;
    }
    return v;
}

static void apply_identity(char* line)
{
    char* p = line + 9; /* after "identity " */
    while (*p) {
        char* key = p;
        while (*p && *p != '=' && *p != ' ') p++;
        if (*p != '=') break;
        *p++ = 0;
        char* value = p;
        while (*p && *p != ' ') p++;
        if (*p) *p++ = 0;
        if (str_eq_n(key, "host", 5)) {
            str_copy(hostname, value, sizeof hostname);
        } else if (str_eq_n(key, "user", 5)) {
            str_copy(username, value, sizeof username);
        } else if (str_eq_n(key, "seed", 5)) {
            /* fold the whole seed into the generator's state */
            uint64_t state = 0;
            for (uint64_t i = 0; value[i]; i += 16) state ^= parse_hex64(value + i, 16) + (state << 7);
            rng_state = state ? state : 1;
        }
    }
    hex64(rng_next(), session_tag);
    pointer_hide();
    draw_bar();
    pointer_show();
    serial_write(COM2, "ready\n");
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* "notice text=..." (percent-encoded): a banner along the bottom of the screen until the next
 * notice; an empty text takes it away. */
static void apply_notice(const char* line)
{
    const char* p = line + 7; /* after "notice " */
    char text[210];
    uint32_t n = 0;
    if (str_eq_n(p, "text=", 5)) {
        for (p += 5; *p && *p != ' ' && n + 1 < sizeof text; p++) {
            if (p[0] == '%' && hex_digit(p[1]) >= 0 && hex_digit(p[2]) >= 0) {
                text[n++] = (char)(hex_digit(p[1]) * 16 + hex_digit(p[2]));
                p += 2;
            } else {
                text[n++] = *p;
            }
        }
    }
    text[n] = 0;
    const uint32_t top = fb_height - NOTICE_HEIGHT;
    pointer_hide();
    if (n == 0) {
        draw_background_rows(top, fb_height);
    } else {
        fill_rect(0, top, fb_width, NOTICE_HEIGHT, COLOR_NOTICE);
        draw_text(8, top + 4, text, COLOR_BAR_TEXT, COLOR_NOTICE);
    }
    pointer_show();
}

/* The clipboard: text the host sent ("clipboard text=..." percent-encoded, at most 1024 bytes),
 * pasted with Ctrl+V; Ctrl+C sends the window's text back the same way. */
#define CLIPBOARD_MAX 1024
static char clipboard[CLIPBOARD_MAX];
static uint32_t clipboard_length;

static void apply_clipboard(const char* line)
{
    const char* p = line + 10; /* after "clipboard " */
    char decoded[CLIPBOARD_MAX];
    uint32_t n = 0;
    if (!str_eq_n(p, "text=", 5)) return;
    for (p += 5; *p && *p != ' '; p++) {
        if (n >= CLIPBOARD_MAX) return; /* too long: ignored, the old clipboard stays */
        if (p[0] == '%') {
            if (hex_digit(p[1]) < 0 || hex_digit(p[2]) < 0) return; /* malformed: ignored */
            decoded[n++] = (char)(hex_digit(p[1]) * 16 + hex_digit(p[2]));
            p += 2;
        } else {
            decoded[n++] = *p;
        }
    }
    for (uint32_t i = 0; i < n; i++) clipboard[i] = decoded[i];
    clipboard_length = n;
}

static void paste_clipboard(void)
{
    pointer_hide();
    for (uint32_t i = 0; i < clipboard_length; i++) {
        const uint8_t c = (uint8_t)clipboard[i];
        if (c == '\n' || (c >= 0x20 && c <= 0x7e)) type_char((char)c);
        else if (c == '\t') type_char(' ');
        else if (c >= 0xc0) type_char('?'); /* one mark per non-ASCII character (UTF-8 lead byte) */
    }
    pointer_show();
}

static void copy_window_text(void)
{
    static const char digits[] = "0123456789ABCDEF";
    char line[16 + CLIPBOARD_MAX * 3];
    uint32_t n = 0, bytes = 0;
    const char* prefix = "clipboard text=";
    while (*prefix) line[n++] = *prefix++;
    for (uint32_t r = 0; r <= cursor_row && r < text_rows; r++) {
        for (uint32_t c = 0; c <= text_cols && c < 100; c++) {
            char ch = text[r][c];
            if (!ch) {
                if (r == cursor_row) break;
                ch = '\n'; /* rows are joined with newlines */
            }
            if (bytes == CLIPBOARD_MAX) break;
            bytes++;
            if (ch <= ' ' || ch == '=' || ch == '%' || ch > '~') {
                line[n++] = '%';
                line[n++] = digits[((uint8_t)ch) >> 4];
                line[n++] = digits[((uint8_t)ch) & 15];
            } else {
                line[n++] = ch;
            }
            if (ch == '\n') break;
        }
    }
    line[n++] = '\n';
    line[n] = 0;
    serial_write(COM2, line);
}

static void handle_agent_byte(uint8_t byte)
{
    if (byte == '\n') {
        agent_line[agent_length] = 0;
        if (!agent_line_overlong) {
            if (str_eq_n(agent_line, "identity ", 9)) apply_identity(agent_line);
            if (str_eq_n(agent_line, "notice ", 7)) apply_notice(agent_line);
            if (str_eq_n(agent_line, "clipboard ", 10)) apply_clipboard(agent_line);
        }
        agent_length = 0;
        agent_line_overlong = 0;
    } else if (agent_length + 1 < sizeof agent_line) {
        agent_line[agent_length++] = (char)byte;
    } else {
        agent_line_overlong = 1;
    }
}

/* ---------------------------------------------------------------------------------------- */

void guest_main(const uint8_t* boot_params)
{
    serial_init(COM1, 0);
    serial_init(COM2, 1);
    serial_write(COM1, "vdi demo desktop: starting\r\n");

    const uint8_t video_type = boot_params[0x0f];
    fb_width = *(const uint16_t*)(boot_params + 0x12);
    fb_height = *(const uint16_t*)(boot_params + 0x14);
    const uint16_t depth = *(const uint16_t*)(boot_params + 0x16);
    const uint64_t base = *(const uint32_t*)(boot_params + 0x18) | (uint64_t)(*(const uint32_t*)(boot_params + 0x3a)) << 32;
    fb_pitch = *(const uint16_t*)(boot_params + 0x24) / 4;
    if ((video_type != 0x70 && video_type != 0x23) || depth != 32 || base == 0 || fb_width < 64) {
        serial_write(COM1, "vdi demo desktop: no usable 32-bit linear framebuffer in screen_info\r\n");
        serial_write(COM2, "log no framebuffer\n");
        for (;;) __asm__ volatile("cli; hlt");
    }
    fb = (uint32_t*)base;

    for (int v = 0x20; v < 0x30; v++) idt_set(v, on_spurious);
    idt_set(0x20, on_timer);
    idt_set(0x21, on_keyboard);
    idt_set(0x23, on_agent);
    idt_set(0x2c, on_mouse);
    const struct idt_pointer idtr = {sizeof idt - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr));
    pic_init();
    pit_init();
    ps2_init();

    serial_write(COM2, "hello version=1\n");
    draw_background();
    draw_bar();
    draw_window();
    draw_cursor(1);
    pointer_x = (int32_t)fb_width / 2;
    pointer_y = (int32_t)fb_height / 2;
    pointer_show();
    serial_write(COM1, "vdi demo desktop: drawn\r\n");
    serial_write(COM2, "ready\n");

    uint32_t seen_ticks = 0;
    for (;;) {
        __asm__ volatile("cli");
        if (ring_empty(&keyboard_ring) && ring_empty(&mouse_ring) && ring_empty(&agent_ring) && ticks == seen_ticks) {
            __asm__ volatile("sti; hlt" ::: "memory"); /* sleeps until the next interrupt */
            continue;
        }
        __asm__ volatile("sti");
        uint8_t byte;
        while (ring_get(&agent_ring, &byte)) handle_agent_byte(byte);
        while (ring_get(&keyboard_ring, &byte)) handle_key_byte(byte);
        while (ring_get(&mouse_ring, &byte)) handle_mouse_byte(byte);
        if (ticks != seen_ticks) {
            const uint32_t now = ticks;
            /* the RTC is read about twice a second; the clock text only redraws on change */
            if (now / 9 != seen_ticks / 9) draw_clock(0);
            seen_ticks = now;
        }
    }
}
