// The KVM probe against the real /dev/kvm.
#include <catch2/catch.hpp>

#include "vdi/hv/kvm_probe.h"

TEST_CASE("kvm probe: the device speaks API 12 and has what the VMM needs", "[kvm]")
{
    const auto probe = vdi::hv::probe_kvm();
    CHECK(probe.api_version == 12);
    CHECK(probe.max_vcpus >= 4);  // the VMM runs desktops with up to 4 vCPUs
    for (const auto& cap : probe.capabilities) {
        INFO(cap.name);
        if (cap.required) {
            CHECK(cap.value > 0);
        }
    }
    const auto json = probe.to_json();
    CHECK(json["capabilities"].contains("KVM_CAP_IRQCHIP"));
}

TEST_CASE("kvm probe: a missing device is reported with advice", "[kvm]")
{
    CHECK_THROWS_WITH(vdi::hv::probe_kvm("/dev/no-such-kvm"),
                      Catch::Contains("cannot open /dev/no-such-kvm") && Catch::Contains("VT-x/AMD-V"));
}
