// vdi-vmm: one desktop VM's monitor process. Today: --probe reports what /dev/kvm offers.
#include <iostream>

#include <CLI/CLI.hpp>

#include "vdi/hv/kvm_probe.h"

int main(int argc, char** argv)
{
    CLI::App app{"vdi-vmm: KVM virtual machine monitor for one desktop"};
    bool probe = false;
    std::string device = "/dev/kvm";
    app.add_flag("--probe", probe, "print the KVM API version and capabilities as JSON, then exit");
    app.add_option("--kvm-device", device, "the KVM device node");
    CLI11_PARSE(app, argc, argv);

    if (!probe) {
        std::cerr << "vdi-vmm: only --probe is available in this version (running VMs is not built yet)\n";
        return 2;
    }
    try {
        std::cout << vdi::hv::probe_kvm(device).to_json().dump(2) << "\n";
        return 0;
    } catch (const vdi::hv::KvmUnavailable& e) {
        std::cerr << "vdi-vmm: " << e.what() << "\n";
        return 1;
    }
}
