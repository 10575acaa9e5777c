// A remote display server for one VM: serves the guest framebuffer and feeds keyboard and mouse
// input back into it. The VMM core knows only this interface; VNC (and RDP) live behind it.
//
// Authentication is by one-time ticket: the broker issues it, the host agent sets it through the
// VMM's control socket, and the first client that proves it wins; the ticket is then burned.
// A ticket may carry the connect's logon trace id: the server then records what the client that
// used it went through (display_trace.h), for the host agent to collect.
// Threads: set_ticket/port/clients/take_traces from any thread; the server runs its own thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "vdi/hv/display/display_trace.h"

namespace vdi::hv {

class DisplayServer {
public:
    virtual ~DisplayServer() = default;
    virtual std::string protocol() const = 0;
    virtual int port() const = 0;
    // Replaces any ticket not yet used; HvError if the protocol cannot carry it. `trace_id` (0:
    // none) names the logon trace of the connect the ticket is for.
    virtual void set_ticket(const std::string& ticket, std::chrono::seconds ttl, std::int64_t trace_id) = 0;
    void set_ticket(const std::string& ticket, std::chrono::seconds ttl) { set_ticket(ticket, ttl, 0); }
    // The traces of clients that came with a traced ticket and have had their first update.
    virtual std::vector<DisplayTrace> take_traces() = 0;
    virtual int clients() const = 0;
    // Starts serving (the server thread); call once the VM runs.
    virtual void start() = 0;
};

}  // namespace vdi::hv
