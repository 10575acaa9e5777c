// A VNC display session through libvncclient (RFB 3.8, VNC authentication with the ticket), on
// the worker thread of RemoteSession. Clipboard text is Latin-1 on the wire (RFB's cut text).
#pragma once

#include "vdi/thin_client/view/remote_session.h"

namespace vdi::thin_client::view {

struct VncCallbacks;

class VncSession final : public RemoteSession {
    Q_OBJECT
public:
    explicit VncSession(QObject* parent = nullptr);
    ~VncSession() override;

    QString protocol_name() const override { return QStringLiteral("VNC"); }

protected:
    void run(const DisplayTarget& target) override;

private:
    friend struct VncCallbacks;  // libvncclient's C callbacks
};

}  // namespace vdi::thin_client::view
