// Display servers are loadable modules (vdi-display-vnc.so, vdi-display-rdp.so) that vdi-vmm
// opens only when asked to serve that protocol. A VMM without a display (a golden-image build,
// a clone restored before its first connection is wanted) then maps none of libvncserver's or
// FreeRDP's ~110 libraries: measured, linking them in raised the clone restore p50 from 2.6 ms
// to 22.6 ms and each clone's private memory from 0.6 MiB to 4.7 MiB (docs/snapshots.md).
//
// A module resolves the VMM core (Machine, framebuffer, PS/2 keymap) from the executable, which
// exports the vdi::hv symbols; it is never unloaded.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "vdi/hv/display/display_server.h"
#include "vdi/hv/machine.h"

namespace vdi::hv {

struct DisplayOptions {
    std::string protocol;  // "vnc" or "rdp"
    std::string address = "127.0.0.1";
    int port = 0;  // 0: any free port
    std::filesystem::path certificate;  // RDP: PEM certificate and key (created if missing)
    std::filesystem::path private_key;
    bool key_checked = false;  // RDP: the host agent checked the key (--rdp-key-checked)
    std::chrono::milliseconds frame_interval{16};
};

// "ADDRESS:PORT" or "ADDRESS" into options for `protocol`. HvError on a malformed port.
DisplayOptions parse_display_endpoint(const std::string& protocol, const std::string& endpoint);

// The directory modules are looked for in: $VDI_DISPLAY_MODULE_DIR if set, else the running
// executable's directory.
std::filesystem::path default_display_module_dir();

// Loads vdi-display-<protocol>.so from `module_dir` and creates its server (the socket is bound
// on return). HvError naming the file and the loader's reason when it cannot.
std::unique_ptr<DisplayServer> load_display_server(Machine& machine, const DisplayOptions& options,
                                                   const std::filesystem::path& module_dir = default_display_module_dir());

// The entry point every module exports (C linkage, so dlsym finds it by this name).
using CreateDisplayServer = DisplayServer* (*)(Machine& machine, const DisplayOptions& options);
inline constexpr const char* create_display_server_symbol = "vdi_create_display_server";

}  // namespace vdi::hv
