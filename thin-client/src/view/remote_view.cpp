// RemoteView (remote_view.h): painting from the session's picture, input translation, keyboard
// grab and release, clipboard text both ways.
#include "vdi/thin_client/view/remote_view.h"

#include <QClipboard>
#include <QGuiApplication>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPaintEvent>
#include <QPainter>
#include <QWheelEvent>

namespace vdi::thin_client::view {

namespace {

int rfb_buttons(Qt::MouseButtons buttons)
{
    return (buttons & Qt::LeftButton ? 1 : 0) | (buttons & Qt::MiddleButton ? 2 : 0) | (buttons & Qt::RightButton ? 4 : 0);
}

quint64 key_identity(const QKeyEvent& event)
{
    // real keyboards: the scan code names the physical key, whatever text it made; synthetic
    // events (tests, input methods) have none: the Qt key stands in
    return event.nativeScanCode() != 0 ? (quint64{1} << 32) | event.nativeScanCode()
                                       : static_cast<quint64>(static_cast<quint32>(event.key()));
}

}  // namespace

RemoteView::RemoteView(std::unique_ptr<RemoteSession> session, QWidget* parent)
    : QWidget(parent), session_(std::move(session))
{
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setAttribute(Qt::WA_InputMethodEnabled, false);
    setMinimumSize(160, 120);
    connect(session_.get(), &RemoteSession::framebufferResized, this, [this] { update(); });
    connect(session_.get(), &RemoteSession::framebufferUpdated, this, &RemoteView::on_updated);
    connect(session_.get(), &RemoteSession::firstFrame, this, &RemoteView::firstFrame);
    connect(session_.get(), &RemoteSession::disconnected, this, [this](DisconnectReason reason, const QString& message) {
        pressed_.clear();
        emit disconnected(reason, message);
    });
    connect(session_.get(), &RemoteSession::stateChanged, this, [this](SessionState state) {
        if (state != SessionState::connected) return;
        // the terminal's clipboard as the desktop's starting one
        const QString text = QGuiApplication::clipboard()->text();
        if (!text.isEmpty()) session_->send_clipboard(text);
    });
    connect(session_.get(), &RemoteSession::clipboardReceived, this, [this](const QString& text) {
        last_from_desktop_ = text;
        QGuiApplication::clipboard()->setText(text);
    });
    connect(QGuiApplication::clipboard(), &QClipboard::dataChanged, this, [this] {
        const QString text = QGuiApplication::clipboard()->text();
        if (text.isEmpty() || text == last_from_desktop_) return;
        session_->send_clipboard(text);
    });
}

RemoteView::~RemoteView()
{
    // no signals into a half-destroyed view
    session_->disconnect(this);
    session_->stop();
}

void RemoteView::connect_to_desktop(const DisplayTarget& target)
{
    pressed_.clear();
    last_from_desktop_.clear();
    session_->start(target);
}

void RemoteView::disconnect_from_desktop()
{
    release_all_keys();
    session_->stop();
}

void RemoteView::send_ctrl_alt_del()
{
    session_->send_ctrl_alt_del();
}

ConnectionInfo RemoteView::connection_info() const
{
    return {session_->protocol_name(), session_->round_trip_ms(), session_->frames_per_second(),
            session_->framebuffer_size()};
}

ViewGeometry RemoteView::geometry_now() const
{
    return {session_->framebuffer_size(), size()};
}

void RemoteView::on_updated(const QRegion& region)
{
    const ViewGeometry g = geometry_now();
    QRegion dirty;
    for (const QRect& r : region) dirty += g.to_widget(r);
    update(dirty);
}

void RemoteView::paintEvent(QPaintEvent* event)
{
    QPainter painter(this);
    const ViewGeometry g = geometry_now();
    const QRectF target = g.target();
    // the bars around the picture
    QRegion bars = event->region() - QRegion(target.toAlignedRect());
    for (const QRect& r : bars) painter.fillRect(r, Qt::black);
    if (g.picture.isEmpty()) {
        painter.fillRect(event->rect(), Qt::black);
        return;
    }
    const double s = g.scale();
    if (s != 1.0) painter.setRenderHint(QPainter::SmoothPixmapTransform);
    session_->with_picture([&](const QImage& picture) {
        for (const QRect& r : event->region()) {
            const QRectF source = g.to_picture_rect(r);
            if (source.isEmpty()) continue;
            const QRectF dest(target.left() + source.left() * s, target.top() + source.top() * s, source.width() * s,
                              source.height() * s);
            painter.drawImage(dest, picture, source);
        }
    });
    session_->note_painted();
}

bool RemoteView::reserved(const QKeyEvent& event) const
{
    const QKeyCombination chord(event.modifiers() & ~Qt::KeypadModifier, static_cast<Qt::Key>(event.key()));
    return reserved_.contains(chord);
}

bool RemoteView::event(QEvent* event)
{
    if (event->type() == QEvent::ShortcutOverride) {
        // every key goes to the desktop, except the thin client's own chords
        auto* key = static_cast<QKeyEvent*>(event);
        if (!reserved(*key)) {
            event->accept();
            return true;
        }
        return false;
    }
    return QWidget::event(event);
}

bool RemoteView::focusNextPrevChild(bool)
{
    return false;  // Tab belongs to the desktop
}

void RemoteView::keyPressEvent(QKeyEvent* event)
{
    if (reserved(*event)) {
        event->ignore();
        return;
    }
    event->accept();
    const auto info = key_info(event->key(), event->text(), event->nativeScanCode());
    if (!info) return;
    const quint64 id = key_identity(*event);
    const auto known = pressed_.find(id);
    const KeyInfo key = known != pressed_.end() ? known->second : *info;  // autorepeat: the same key
    pressed_[id] = key;
    const bool shift_held = (event->modifiers() & Qt::ShiftModifier) != 0;
    if (key.needs_shift && !shift_held) {
        // a shifted character without Shift (synthetic input, input methods): type it as a person would
        session_->send_key(left_shift(true));
        session_->send_key(stroke(key, true));
        session_->send_key(left_shift(false));
    } else {
        session_->send_key(stroke(key, true));
    }
}

void RemoteView::keyReleaseEvent(QKeyEvent* event)
{
    if (reserved(*event) && !pressed_.count(key_identity(*event))) {
        event->ignore();
        return;
    }
    event->accept();
    if (event->isAutoRepeat()) return;  // held: the desktop repeats by itself on the next press
    const auto found = pressed_.find(key_identity(*event));
    if (found == pressed_.end()) return;
    session_->send_key(stroke(found->second, false));
    pressed_.erase(found);
}

void RemoteView::release_all_keys()
{
    for (const auto& [id, key] : pressed_) session_->send_key(stroke(key, false));
    pressed_.clear();
}

void RemoteView::pointer(const QPointF& position, Qt::MouseButtons buttons)
{
    const QPoint p = geometry_now().to_picture(position);
    session_->send_pointer(p.x(), p.y(), rfb_buttons(buttons));
}

void RemoteView::mouseMoveEvent(QMouseEvent* event)
{
    pointer(event->position(), event->buttons());
}

void RemoteView::mousePressEvent(QMouseEvent* event)
{
    setFocus(Qt::MouseFocusReason);
    pointer(event->position(), event->buttons());
}

void RemoteView::mouseReleaseEvent(QMouseEvent* event)
{
    pointer(event->position(), event->buttons());
}

void RemoteView::wheelEvent(QWheelEvent* event)
{
    // 120 per notch; touchpads send less at a time: keep the remainder
    wheel_remainder_ += event->angleDelta().y();
    const int steps = wheel_remainder_ / 120;
    wheel_remainder_ -= steps * 120;
    const QPoint p = geometry_now().to_picture(event->position());
    session_->send_wheel(p.x(), p.y(), steps);
    event->accept();
}

void RemoteView::focusInEvent(QFocusEvent* event)
{
    QWidget::focusInEvent(event);
    grabKeyboard();  // Alt+Tab, Super and the like reach the desktop, not the terminal's window manager
}

void RemoteView::focusOutEvent(QFocusEvent* event)
{
    releaseKeyboard();
    release_all_keys();  // no modifier stays down on the desktop
    QWidget::focusOutEvent(event);
}

}  // namespace vdi::thin_client::view
