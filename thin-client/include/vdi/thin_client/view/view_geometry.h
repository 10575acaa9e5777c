// Where the desktop's picture goes in the view: scaled to fit keeping its aspect ratio, centred,
// with the mapping of pointer positions back to desktop pixels. Plain value; any thread.
#pragma once

#include <QPoint>
#include <QPointF>
#include <QRect>
#include <QRectF>
#include <QSize>

namespace vdi::thin_client::view {

struct ViewGeometry {
    QSize picture;  // the desktop's framebuffer
    QSize widget;   // the view's size

    double scale() const;
    QRectF target() const;  // where the whole picture is drawn
    // A widget position to the desktop pixel under it, clamped to the picture (a pointer over the
    // black bars lands on the nearest edge).
    QPoint to_picture(const QPointF& position) const;
    // The widget area showing `picture_rect` (rounded outwards: repaint no less than changed).
    QRect to_widget(const QRect& picture_rect) const;
    // The part of the picture behind the widget area `widget_rect` (rounded outwards).
    QRectF to_picture_rect(const QRect& widget_rect) const;
};

}  // namespace vdi::thin_client::view
