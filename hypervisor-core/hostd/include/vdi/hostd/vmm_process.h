// One vdi-vmm process as the host agent sees it: started (in its own session, so it outlives
// an agent restart) or adopted from a record file, watched through a pidfd, stopped on request.
//
// Layout: STATE_DIR/desktop-ID.json is the agent's record {"desktop","generation","pid","socket",
// "image"}; STATE_DIR/desktop-ID/ is the VMM's own directory (control.sock, vmm.log), the only
// place its sandbox lets it write. Errors: vdi::hv::HvError. Threads: the agent's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "vdi/common/unique_fd.h"

namespace vdi::hostd {

struct VmmLaunch {
    std::filesystem::path vmm_binary;
    std::filesystem::path image_dir;
    std::filesystem::path state_dir;
    std::int64_t desktop_id = 0;
    std::int64_t generation = 0;
    nlohmann::json identity;      // {"host":..,"user":..}
    bool sandbox = true;          // --sandbox: no capabilities, seccomp filter, filesystem limits
    std::string vnc_bind;         // "ADDRESS" to serve VNC on a free port there; empty: no VNC
    std::string rdp_bind;         // the same for RDP (needs the host's certificate below)
    std::filesystem::path rdp_certificate;
    std::filesystem::path rdp_private_key;
};

class VmmProcess {
public:
    // Spawns the VMM and waits (up to `timeout`) until its vCPUs run. HvError with the VMM's
    // last log line when it fails to start.
    static std::unique_ptr<VmmProcess> start(const VmmLaunch& launch, std::chrono::milliseconds timeout);
    // Adopts the VMM a record file describes, if that process is alive, is a vdi-vmm, and answers
    // on its control socket; nullopt otherwise (the record is removed).
    static std::unique_ptr<VmmProcess> adopt(const std::filesystem::path& record);
    ~VmmProcess();
    VmmProcess(const VmmProcess&) = delete;
    VmmProcess& operator=(const VmmProcess&) = delete;

    std::int64_t desktop_id() const { return desktop_id_; }
    std::int64_t generation() const { return generation_; }
    int pid() const { return pid_; }
    int pidfd() const { return pidfd_.get(); }
    const std::filesystem::path& socket() const { return socket_; }
    bool adopted() const { return adopted_; }
    // The VNC port the VMM listens on (from its status); nullopt if it serves none.
    std::optional<int> vnc_port() const { return vnc_port_; }
    std::optional<int> rdp_port() const { return rdp_port_; }

    // The user the desktop was last told it serves ("" none; nullopt: not known, a VMM that did
    // not say).
    const std::optional<std::string>& user() const { return user_; }
    // Tells the desktop its user ("": none) through the control socket's identity; the error
    // when the VMM did not take it.
    std::optional<std::string> tell_user(const std::string& user);

    // One control request; nullopt when the VMM does not answer.
    std::optional<nlohmann::json> request(const nlohmann::json& request) const;
    // Non-blocking: has the process exited? Then `exit_reason()` says how.
    bool exited();
    const std::string& exit_reason() const { return exit_reason_; }
    // SIGTERM, then SIGKILL after `grace`; removes the record and the log.
    void stop(std::chrono::milliseconds grace);

private:
    VmmProcess() = default;
    void write_record() const;
    std::string last_log_line() const;

    std::int64_t desktop_id_ = 0;
    std::int64_t generation_ = 0;
    int pid_ = -1;
    UniqueFd pidfd_;
    bool adopted_ = false;
    std::optional<int> vnc_port_;
    std::optional<int> rdp_port_;
    std::optional<std::string> user_;
    void read_status();  // ports and the identity's user
    bool exited_ = false;
    std::string exit_reason_;
    std::filesystem::path dir_;
    std::filesystem::path socket_;
    std::filesystem::path record_;
    std::filesystem::path log_;
    std::filesystem::path image_;
};

}  // namespace vdi::hostd
