// The VMM's control socket: a unix stream socket speaking JSON lines, one request per line and
// one response line each, from a closed set of actions:
//   {"cmd":"status"}                          state, geometry, agent readiness, identity, timings
//   {"cmd":"pause"} {"cmd":"resume"} {"cmd":"stop"}
//   {"cmd":"screenshot"}                      {"png_base64": ...} (or "path": write a file)
//   {"cmd":"key","code":28,"extended":false,"down":true}   one set-2 key event
//   {"cmd":"type","text":"hello\n"}           presses and releases keys for each character
//   {"cmd":"mouse","dx":5,"dy":-3,"buttons":1}
//   {"cmd":"identity","host":"desk-1","user":"alice"}  (seed and time are filled in; "user":""
//                                             means none; without "host" the last one stays)
//   {"cmd":"notice","text":"Save your work"}  a line shown on the desktop ("" clears it)
//   {"cmd":"snapshot","dir":"/var/lib/vdi/images/x"}   write a golden image (pauses briefly)
//   {"cmd":"display_ticket","protocol":"vnc","ticket":"8chars..","ttl_s":60,"trace":42}   one-time
//                                             password ("trace": the connect's logon trace id)
//   {"cmd":"display_events"}                  {"traces":[{"trace":42,"protocol":"vnc","stages":
//                                             [["handshake",0,812],...]}]}: what the display
//                                             servers saw of traced clients since the last call
// Every response has "ok"; failures carry "error". The socket is created mode 0600.
// Threads: its own accept/serve thread; actions reach the Machine through its thread-safe API.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "vdi/common/unique_fd.h"
#include "vdi/hv/display/display_server.h"
#include "vdi/hv/machine.h"

namespace vdi::hv {

class ControlServer {
public:
    static constexpr std::size_t max_request = 64 * 1024;

    // The closed set of actions, without a socket (used for --identity and by tests). Each
    // command is one row of table(): its name, the arguments it takes (checked before it runs:
    // a missing or mistyped one is refused with "bad arguments: ...") and the member that
    // carries it out. A request naming no command of the table is refused ("unknown cmd").
    class Handler {
    public:
        enum class Type { string, integer, boolean };
        struct Argument {
            const char* name;
            Type type;
            bool required;
        };
        struct Command {
            const char* name;
            std::vector<Argument> arguments;  // others in the request are ignored
            nlohmann::json (Handler::*run)(const nlohmann::json& request);
        };
        // Every command, in the order the header comment above lists them.
        static const std::vector<Command>& table();

        explicit Handler(Machine& machine, std::vector<DisplayServer*> displays = {})
            : machine_(machine), displays_(std::move(displays))
        {
        }
        // Never throws: every failure is {"ok":false,"error":...}.
        nlohmann::json handle(const nlohmann::json& request);

    private:
        nlohmann::json status(const nlohmann::json& request);
        nlohmann::json pause(const nlohmann::json& request);
        nlohmann::json resume(const nlohmann::json& request);
        nlohmann::json stop(const nlohmann::json& request);
        nlohmann::json screenshot(const nlohmann::json& request);
        nlohmann::json key(const nlohmann::json& request);
        nlohmann::json type(const nlohmann::json& request);
        nlohmann::json mouse(const nlohmann::json& request);
        nlohmann::json identity(const nlohmann::json& request);
        nlohmann::json notice(const nlohmann::json& request);
        nlohmann::json snapshot(const nlohmann::json& request);
        nlohmann::json display_ticket(const nlohmann::json& request);
        nlohmann::json display_events(const nlohmann::json& request);
        nlohmann::json identity_status() const;  // {"host","user"} sent last, or null

        Machine& machine_;
        std::vector<DisplayServer*> displays_;
    };

    // Binds the socket (replacing a stale one) and starts serving. HvError if it cannot bind.
    ControlServer(Machine& machine, std::filesystem::path socket_path, std::vector<DisplayServer*> displays = {});
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

private:
    void serve();
    void serve_client(int fd);

    Handler handler_;
    std::filesystem::path path_;
    UniqueFd listen_fd_;
    UniqueFd wake_read_;  // the destructor writes to wake_write_ to stop serve()
    UniqueFd wake_write_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace vdi::hv
