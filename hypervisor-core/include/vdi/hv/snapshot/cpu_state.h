// vCPU and VM-wide KVM state as plain data, saved and restored in Firecracker's order.
//
// Save (vCPUs paused): per vCPU MP state first (reading it can change LAPIC state), then CPUID,
// regs, sregs, XSAVE, XCRS, debug regs, LAPIC, MSRs, and vCPU events last; then PIT2, kvmclock
// and the irqchip (PIC master, PIC slave, IOAPIC).
// Restore: per vCPU CPUID, MP state, regs, sregs, XSAVE, XCRS, debug regs, LAPIC, MSRs (with
// TSC_DEADLINE in a final chunk after TSC), vCPU events (after regs, which clear pending
// exceptions), then KVMCLOCK_CTRL; then PIT2, kvmclock, irqchip.
#pragma once

#include <cstdint>
#include <vector>

#include "vdi/hv/hypervisor.h"

namespace vdi::hv {

inline constexpr std::uint32_t msr_ia32_tsc = 0x10;
inline constexpr std::uint32_t msr_ia32_tsc_deadline = 0x6e0;

struct VcpuState {
    std::uint32_t index = 0;
    std::vector<kvm_cpuid_entry2> cpuid;
    kvm_mp_state mp_state{};
    kvm_regs regs{};
    kvm_sregs sregs{};
    std::vector<std::uint8_t> xsave;
    kvm_xcrs xcrs{};
    kvm_debugregs debugregs{};
    kvm_lapic_state lapic{};
    std::vector<kvm_msr_entry> msrs;
    kvm_vcpu_events events{};
};

struct VmState {
    kvm_pit_state2 pit{};
    kvm_clock_data clock{};
    kvm_irqchip pic_master{};
    kvm_irqchip pic_slave{};
    kvm_irqchip ioapic{};
};

// The MSRs of the hypervisor's index list that this vCPU can read back (some are refused on
// nested or emulating hosts); those are the ones a snapshot carries.
std::vector<std::uint32_t> saveable_msrs(Vm& vm, Vcpu& vcpu);

VcpuState save_vcpu(Vcpu& vcpu, const std::vector<std::uint32_t>& msr_indices);
void restore_vcpu(Vcpu& vcpu, const VcpuState& state);

VmState save_vm(Vm& vm);
void restore_vm(Vm& vm, const VmState& state);

}  // namespace vdi::hv
