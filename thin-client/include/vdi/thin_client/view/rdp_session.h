// An RDP display session through the FreeRDP 2 client library (TLS security, the ticket as the
// password, software GDI drawing into the session's QImage), on the worker thread of
// RemoteSession. A refused ticket arrives as Set Error Info "insufficient privileges" and is
// reported as DisconnectReason::refused. Clipboard text goes both ways over the cliprdr channel
// (CF_UNICODETEXT): what the desktop copies is fetched at once and announced with
// clipboardReceived(); send_clipboard() offers the terminal's text, which the desktop fetches when
// it pastes.
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
    // cliprdr, worker thread: the channel once connected, whether its initialisation is done
    // (the server's Monitor Ready answered), and the terminal's text it may ask for
    void* clipboard_ = nullptr;  // CliprdrClientContext*
    bool clipboard_ready_ = false;
    QString local_clipboard_;
};

}  // namespace vdi::thin_client::view
