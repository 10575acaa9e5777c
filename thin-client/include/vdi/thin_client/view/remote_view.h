// The protocol-neutral desktop view (KRDC's RemoteView): paints its session's picture scaled to
// fit (aspect kept, only changed rectangles repainted), sends keys (keysyms or scancodes through
// key_map.h), pointer and wheel with coordinates mapped back, grabs the keyboard while focused so
// that system keys reach the desktop, and releases every pressed key when it loses focus. The
// clipboard's text goes both ways while connected. GUI thread only.
#pragma once

#include <QKeyCombination>
#include <QList>
#include <QWidget>
#include <map>
#include <memory>

#include "vdi/thin_client/view/key_map.h"
#include "vdi/thin_client/view/remote_session.h"
#include "vdi/thin_client/view/view_geometry.h"

namespace vdi::thin_client::view {

// What the connection-info popup shows.
struct ConnectionInfo {
    QString protocol;
    std::optional<double> round_trip_ms;
    double frames_per_second = 0;
    QSize size;
};

class RemoteView : public QWidget {
    Q_OBJECT
public:
    explicit RemoteView(std::unique_ptr<RemoteSession> session, QWidget* parent = nullptr);
    ~RemoteView() override;

    RemoteSession& session() { return *session_; }
    void connect_to_desktop(const DisplayTarget& target);
    void disconnect_from_desktop();  // disconnected(user) follows

    // Key chords that stay with the thin client (the session bar's hot key, kiosk's admin keys):
    // never sent to the desktop.
    void set_reserved_keys(const QList<QKeyCombination>& keys) { reserved_ = keys; }
    void send_ctrl_alt_del();

    ConnectionInfo connection_info() const;
    QImage framebuffer_image() const { return session_->picture(); }
    ViewGeometry geometry_now() const;
    int pressed_key_count() const { return static_cast<int>(pressed_.size()); }

signals:
    void firstFrame();
    void disconnected(vdi::thin_client::view::DisconnectReason reason, const QString& message);

protected:
    bool event(QEvent* event) override;
    void paintEvent(QPaintEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void keyReleaseEvent(QKeyEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void focusInEvent(QFocusEvent* event) override;
    void focusOutEvent(QFocusEvent* event) override;
    bool focusNextPrevChild(bool next) override;

private:
    bool reserved(const QKeyEvent& event) const;
    void pointer(const QPointF& position, Qt::MouseButtons buttons);
    void release_all_keys();
    void on_updated(const QRegion& region);

    std::unique_ptr<RemoteSession> session_;
    QList<QKeyCombination> reserved_;
    // the keys pressed on the desktop, by the event's native scan code (or Qt key when synthetic)
    std::map<quint64, KeyInfo> pressed_;
    int wheel_remainder_ = 0;
    QString last_from_desktop_;  // clipboard text the desktop sent, not to be echoed back
};

}  // namespace vdi::thin_client::view
