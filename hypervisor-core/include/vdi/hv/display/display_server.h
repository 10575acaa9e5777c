// A remote display server for one VM: serves the guest framebuffer and feeds keyboard and mouse
// input back into it. The VMM core knows only this interface; VNC (and RDP) live behind it.
//
// Authentication is by one-time ticket: the broker issues it, the host agent sets it through the
// VMM's control socket, and the first client that proves it wins; the ticket is then burned.
// Threads: set_ticket/port/clients from any thread; the server runs its own thread.
#pragma once

#include <chrono>
#include <string>

namespace vdi::hv {

class DisplayServer {
public:
    virtual ~DisplayServer() = default;
    virtual std::string protocol() const = 0;
    virtual int port() const = 0;
    // Replaces any ticket not yet used; HvError if the protocol cannot carry it.
    virtual void set_ticket(const std::string& ticket, std::chrono::seconds ttl) = 0;
    virtual int clients() const = 0;
    // Starts serving (the server thread); call once the VM runs.
    virtual void start() = 0;
};

}  // namespace vdi::hv
