// vdi-display-rdp.so: the RDP server as a module of vdi-vmm.
#include "vdi/hv/display/display_module.h"
#include "vdi/hv/display/rdp_server.h"
#include "vdi/hv/hypervisor.h"

extern "C" __attribute__((visibility("default"))) vdi::hv::DisplayServer* vdi_create_display_server(
    vdi::hv::Machine& machine, const vdi::hv::DisplayOptions& options)
{
    if (options.certificate.empty() || options.private_key.empty()) {
        throw vdi::hv::HvError("RDP needs a TLS certificate and key (--rdp-cert, --rdp-key)");
    }
    vdi::hv::RdpConfig config;
    config.address = options.address;
    config.port = options.port;
    config.certificate = options.certificate;
    config.private_key = options.private_key;
    config.key_checked = options.key_checked;
    config.frame_interval = options.frame_interval;
    return new vdi::hv::RdpServer(machine, config);
}
