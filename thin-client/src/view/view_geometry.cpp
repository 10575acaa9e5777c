// Aspect-preserving fit of the picture into the view (view_geometry.h).
#include "vdi/thin_client/view/view_geometry.h"

#include <algorithm>
#include <cmath>

namespace vdi::thin_client::view {

double ViewGeometry::scale() const
{
    if (picture.isEmpty() || widget.isEmpty()) return 1.0;
    return std::min(static_cast<double>(widget.width()) / picture.width(),
                    static_cast<double>(widget.height()) / picture.height());
}

QRectF ViewGeometry::target() const
{
    const double s = scale();
    const double w = picture.width() * s, h = picture.height() * s;
    return {(widget.width() - w) / 2.0, (widget.height() - h) / 2.0, w, h};
}

QPoint ViewGeometry::to_picture(const QPointF& position) const
{
    if (picture.isEmpty()) return {};
    const QRectF t = target();
    const double s = scale();
    const int x = static_cast<int>(std::floor((position.x() - t.left()) / s));
    const int y = static_cast<int>(std::floor((position.y() - t.top()) / s));
    return {std::clamp(x, 0, picture.width() - 1), std::clamp(y, 0, picture.height() - 1)};
}

QRect ViewGeometry::to_widget(const QRect& picture_rect) const
{
    const QRectF t = target();
    const double s = scale();
    const double left = t.left() + picture_rect.x() * s, top = t.top() + picture_rect.y() * s;
    const double right = t.left() + (picture_rect.x() + picture_rect.width()) * s;
    const double bottom = t.top() + (picture_rect.y() + picture_rect.height()) * s;
    const int l = static_cast<int>(std::floor(left)), tp = static_cast<int>(std::floor(top));
    return {l, tp, static_cast<int>(std::ceil(right)) - l, static_cast<int>(std::ceil(bottom)) - tp};
}

QRectF ViewGeometry::to_picture_rect(const QRect& widget_rect) const
{
    const QRectF t = target();
    const double s = scale();
    const double left = std::floor((widget_rect.x() - t.left()) / s);
    const double top = std::floor((widget_rect.y() - t.top()) / s);
    const double right = std::ceil((widget_rect.x() + widget_rect.width() - t.left()) / s);
    const double bottom = std::ceil((widget_rect.y() + widget_rect.height() - t.top()) / s);
    return QRectF(left, top, right - left, bottom - top).intersected(QRectF(0, 0, picture.width(), picture.height()));
}

}  // namespace vdi::thin_client::view
