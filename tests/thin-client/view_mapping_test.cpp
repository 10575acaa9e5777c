// The remote view's arithmetic: the picture fitted to the window with its aspect ratio kept,
// pointer positions mapped back to desktop pixels, damage mapped to the widget; and Qt keys to
// the keysyms (VNC) and set-1 scancodes (RDP) of a US keyboard.
#include <catch2/catch.hpp>

#include <rfb/keysym.h>

#include "vdi/thin_client/view/key_map.h"
#include "vdi/thin_client/view/view_geometry.h"

using namespace vdi::thin_client::view;

TEST_CASE("a wide window letterboxes the picture left and right, centred")
{
    const ViewGeometry g{QSize(1024, 768), QSize(1600, 900)};
    CHECK(g.scale() == Approx(900.0 / 768.0));
    const QRectF t = g.target();
    CHECK(t.height() == Approx(900));
    CHECK(t.width() == Approx(1200));
    CHECK(t.left() == Approx(200));
    CHECK(t.top() == Approx(0));
    // pointer: the picture's corners, its centre, and the black bars clamped to the nearest edge
    CHECK(g.to_picture(QPointF(200, 0)) == QPoint(0, 0));
    CHECK(g.to_picture(QPointF(1399.9, 899.9)) == QPoint(1023, 767));
    CHECK(g.to_picture(QPointF(800, 450)) == QPoint(512, 384));
    CHECK(g.to_picture(QPointF(10, 450)) == QPoint(0, 384));
    CHECK(g.to_picture(QPointF(1590, -5)) == QPoint(1023, 0));
}

TEST_CASE("a tall window letterboxes top and bottom: a window of the picture's size maps one to one")
{
    const ViewGeometry tall{QSize(800, 600), QSize(400, 600)};
    CHECK(tall.scale() == Approx(0.5));
    CHECK(tall.target() == QRectF(0, 150, 400, 300));
    CHECK(tall.to_picture(QPointF(200, 300)) == QPoint(400, 300));

    const ViewGeometry same{QSize(800, 600), QSize(800, 600)};
    for (const QPoint p : {QPoint(0, 0), QPoint(17, 599), QPoint(799, 3)}) CHECK(same.to_picture(QPointF(p)) == p);
    CHECK(same.to_widget(QRect(10, 20, 30, 40)) == QRect(10, 20, 30, 40));
}

TEST_CASE("changed rectangles repaint no less than changed, and map back to the picture they cover")
{
    const ViewGeometry g{QSize(1024, 768), QSize(1600, 900)};
    const QRect damage(100, 100, 7, 3);
    const QRect widget = g.to_widget(damage);
    const QRectF exact(200 + 100 * g.scale(), 100 * g.scale(), 7 * g.scale(), 3 * g.scale());
    CHECK(QRectF(widget).contains(exact));
    CHECK(widget.width() <= static_cast<int>(7 * g.scale()) + 2);
    const QRectF back = g.to_picture_rect(widget);
    CHECK(back.contains(QRectF(damage)));
    CHECK(back.width() <= damage.width() + 2);
    // a widget area over the black bar covers no picture
    CHECK(g.to_picture_rect(QRect(0, 0, 150, 900)).isEmpty());
}

TEST_CASE("an empty picture or widget maps harmlessly")
{
    const ViewGeometry none{QSize(), QSize(800, 600)};
    CHECK(none.scale() == 1.0);
    CHECK(none.to_picture(QPointF(10, 10)) == QPoint(0, 0));
    const ViewGeometry hidden{QSize(800, 600), QSize(0, 0)};
    CHECK(hidden.scale() == 1.0);
}

TEST_CASE("printable characters: the keysym of the character, the scancode of its US key, Shift when needed")
{
    const auto a = key_info(Qt::Key_A, QStringLiteral("a"));
    REQUIRE(a);
    CHECK(a->keysym == XK_a);
    CHECK(a->scancode == 0x1e);
    CHECK_FALSE(a->needs_shift);
    const auto big_a = key_info(Qt::Key_A, QStringLiteral("A"));
    REQUIRE(big_a);
    CHECK(big_a->keysym == XK_A);
    CHECK(big_a->scancode == 0x1e);
    CHECK(big_a->needs_shift);
    const auto bang = key_info(Qt::Key_Exclam, QStringLiteral("!"));
    REQUIRE(bang);
    CHECK(bang->keysym == XK_exclam);
    CHECK(bang->scancode == 0x02);
    CHECK(bang->needs_shift);
    const auto space = key_info(Qt::Key_Space, QStringLiteral(" "));
    REQUIRE(space);
    CHECK(space->keysym == XK_space);
    CHECK(space->scancode == 0x39);
}

TEST_CASE("Ctrl+letter (control text) is the letter key: named keys carry the E0 prefix where a PC has it")
{
    const auto ctrl_c = key_info(Qt::Key_C, QString(QChar(3)));
    REQUIRE(ctrl_c);
    CHECK(ctrl_c->keysym == XK_c);
    CHECK(ctrl_c->scancode == 0x2e);
    CHECK_FALSE(ctrl_c->needs_shift);

    const auto enter = key_info(Qt::Key_Return, QStringLiteral("\r"));
    REQUIRE(enter);
    CHECK(enter->keysym == XK_Return);
    CHECK(enter->scancode == 0x1c);
    CHECK_FALSE(enter->extended);
    const auto left = key_info(Qt::Key_Left, {});
    REQUIRE(left);
    CHECK(left->keysym == XK_Left);
    CHECK(left->scancode == 0x4b);
    CHECK(left->extended);
    const auto del = key_info(Qt::Key_Delete, {});
    REQUIRE(del);
    CHECK(del->scancode == 0x53);
    CHECK(del->extended);
    const auto f12 = key_info(Qt::Key_F12, {});
    REQUIRE(f12);
    CHECK(f12->keysym == XK_F12);
    CHECK(f12->scancode == 0x58);
}

TEST_CASE("right-hand modifiers are told from the left by the X keycode")
{
    CHECK(key_info(Qt::Key_Shift, {}, 50)->keysym == XK_Shift_L);
    CHECK(key_info(Qt::Key_Shift, {}, 62)->keysym == XK_Shift_R);
    CHECK(key_info(Qt::Key_Shift, {}, 62)->scancode == 0x36);
    CHECK(key_info(Qt::Key_Control, {}, 37)->keysym == XK_Control_L);
    const auto right_ctrl = key_info(Qt::Key_Control, {}, 105);
    CHECK(right_ctrl->keysym == XK_Control_R);
    CHECK(right_ctrl->extended);
    CHECK(key_info(Qt::Key_Alt, {}, 108)->keysym == XK_Alt_R);
}

TEST_CASE("Latin-1 text without a US key goes as its keysym and no scancode: unknown keys are dropped")
{
    const auto e = key_info(Qt::Key_Eacute, QStringLiteral("\u00e9"));
    REQUIRE(e);
    CHECK(e->keysym == XK_eacute);
    CHECK(e->scancode == 0);
    CHECK_FALSE(key_info(Qt::Key_unknown, {}).has_value());
    CHECK_FALSE(key_info(Qt::Key_LaunchMail, {}).has_value());
    const auto shift_down = left_shift(true);
    CHECK(shift_down.keysym == XK_Shift_L);
    CHECK(shift_down.scancode == 0x2a);
    CHECK(shift_down.down);
    CHECK_FALSE(stroke(*key_info(Qt::Key_A, QStringLiteral("a")), false).down);
}
