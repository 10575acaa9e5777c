// An RDP display session through the FreeRDP 2 client library (TLS security, the ticket as the
// password, software GDI drawing into the session's QImage), on the worker thread of
// RemoteSession. A refused ticket arrives as Set Error Info "insufficient privileges" and is
// reported as DisconnectReason::refused.
#pragma once

#include "vdi/thin_client/view/remote_session.h"

namespace vdi::thin_client::view {

struct RdpCallbacks;

class RdpSession final : public RemoteSession {
    Q_OBJECT
public:
    explicit RdpSession(QObject* parent = nullptr);
    ~RdpSession() override;

    QString protocol_name() const override { return QStringLiteral("RDP"); }

protected:
    void run(const DisplayTarget& target) override;

private:
    friend struct RdpCallbacks;  // FreeRDP's C callbacks
    bool certificate_rejected_ = false;  // worker thread
    QByteArray expected_sha256_;         // worker thread
    bool accept_any_ = false;
    int buttons_ = 0;                    // the pointer buttons the server believes are down
};

}  // namespace vdi::thin_client::view
