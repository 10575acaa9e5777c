// One connect as the thin client saw it: its stages on this machine's monotonic clock, from the
// Login button (or, for a reconnect, the moment the drop was noticed) to the first picture painted
// in the view. Time between stages that no stage accounts for is the trace's "unaccounted" time.
// The stages, in order:
//   sign_in                 the sign-in request, sent to answered (Argon2id on the broker is in it)
//   desktop_list            GET /desktops, sent to answered
//   pool_choice             the user choosing on the pool screen (only when they were asked)
//   reconnect_wait          a reconnect: the drop noticed to the try that came through (backoff and
//                           failed tries)
//   connect_request         POST /connect, sent to answered (claim, ticket delivered to the desktop)
//   display_connection      the display session started to the server's security handshake done
//                           (VNC: TCP and the RFB version and security type; RDP: TCP, X.224, TLS)
//   display_authentication  the ticket sent to the session being up (VNC: the VNC authentication and
//                           ServerInit; RDP: MCS, the client info with the ticket, licensing,
//                           capabilities)
//   first_picture           the session up to the first complete update painted in the view
// Widget-free, GUI thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "vdi/common/api/desktop.h"

namespace vdi::thin_client {

using TraceClock = std::chrono::steady_clock;

struct TraceStage {
    std::string name;
    TraceClock::time_point start;
    TraceClock::time_point end;
};

struct ConnectTrace {
    bool reconnect = false;
    std::string protocol;  // "vnc" | "rdp", once known
    TraceClock::time_point origin;
    std::vector<TraceStage> stages;

    void begin(TraceClock::time_point at, bool is_reconnect);  // a fresh trace
    void add(std::string name, TraceClock::time_point start, TraceClock::time_point end);
    // origin to the end of the last stage
    std::chrono::nanoseconds total() const;
    // the named stage's length; zero when it is not in the trace
    std::chrono::nanoseconds duration(std::string_view name) const;
    // total minus the stages' union: the gaps between them (event loop turns, painting order)
    std::chrono::nanoseconds unaccounted() const;
    bool has(std::string_view name) const;
};

// The trace as the broker takes it (POST /api/v1/sessions/{id}/timing): microseconds from the
// origin, the total, the reconnect flag.
api::TimingReport timing_report(const ConnectTrace& trace, api::Id trace_id);

}  // namespace vdi::thin_client
