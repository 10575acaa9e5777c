// vdi-display-vnc.so: the VNC server as a module of vdi-vmm.
#include "vdi/hv/display/display_module.h"
#include "vdi/hv/display/vnc_server.h"

extern "C" __attribute__((visibility("default"))) vdi::hv::DisplayServer* vdi_create_display_server(
    vdi::hv::Machine& machine, const vdi::hv::DisplayOptions& options)
{
    vdi::hv::VncConfig config;
    config.address = options.address;
    config.port = options.port;
    config.frame_interval = options.frame_interval;
    return new vdi::hv::VncServer(machine, config);
}
