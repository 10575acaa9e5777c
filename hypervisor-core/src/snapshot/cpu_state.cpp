// Saving and restoring KVM vCPU and VM state in the order KVM needs.
#include "vdi/hv/snapshot/cpu_state.h"

#include <algorithm>

namespace vdi::hv {

std::vector<std::uint32_t> saveable_msrs(Vm& vm, Vcpu& vcpu)
{
    std::vector<std::uint32_t> readable;
    for (std::uint32_t index : vm.msr_index_list()) {
        try {
            vcpu.get_msrs({index});
            readable.push_back(index);
        } catch (const HvError&) {
            // not readable here: neither saved nor restored
        }
    }
    return readable;
}

VcpuState save_vcpu(Vcpu& vcpu, const std::vector<std::uint32_t>& msr_indices)
{
    VcpuState state;
    state.index = static_cast<std::uint32_t>(vcpu.index());
    state.mp_state = vcpu.get_mp_state();
    state.cpuid = vcpu.get_cpuid();
    state.regs = vcpu.get_regs();
    state.sregs = vcpu.get_sregs();
    state.xsave = vcpu.get_xsave();
    state.xcrs = vcpu.get_xcrs();
    state.debugregs = vcpu.get_debugregs();
    state.lapic = vcpu.get_lapic();
    state.msrs = vcpu.get_msrs(msr_indices);
    // a zero deadline would leave the restored vCPU without timer interrupts: use the TSC
    const auto tsc = std::find_if(state.msrs.begin(), state.msrs.end(),
                                  [](const kvm_msr_entry& e) { return e.index == msr_ia32_tsc; });
    for (auto& msr : state.msrs) {
        if (msr.index == msr_ia32_tsc_deadline && msr.data == 0 && tsc != state.msrs.end()) {
            msr.data = tsc->data;
        }
    }
    state.events = vcpu.get_vcpu_events();
    return state;
}

void restore_vcpu(Vcpu& vcpu, const VcpuState& state)
{
    vcpu.set_cpuid(state.cpuid);
    vcpu.set_mp_state(state.mp_state);
    vcpu.set_regs(state.regs);
    vcpu.set_sregs(state.sregs);
    vcpu.set_xsave(state.xsave);
    vcpu.set_xcrs(state.xcrs);
    vcpu.set_debugregs(state.debugregs);
    vcpu.set_lapic(state.lapic);
    std::vector<kvm_msr_entry> first, deadline;
    for (const auto& msr : state.msrs) {
        (msr.index == msr_ia32_tsc_deadline ? deadline : first).push_back(msr);
    }
    if (!first.empty()) {
        vcpu.set_msrs(first);
    }
    if (!deadline.empty()) {
        vcpu.set_msrs(deadline);  // after TSC, or the timer interrupt is lost
    }
    vcpu.set_vcpu_events(state.events);
    vcpu.kvmclock_ctrl();
}

VmState save_vm(Vm& vm)
{
    VmState state;
    state.pit = vm.get_pit2();
    state.clock = vm.get_clock();
    state.pic_master = vm.get_irqchip(KVM_IRQCHIP_PIC_MASTER);
    state.pic_slave = vm.get_irqchip(KVM_IRQCHIP_PIC_SLAVE);
    state.ioapic = vm.get_irqchip(KVM_IRQCHIP_IOAPIC);
    return state;
}

void restore_vm(Vm& vm, const VmState& state)
{
    vm.set_pit2(state.pit);
    vm.set_clock(state.clock);
    vm.set_irqchip(state.pic_master);
    vm.set_irqchip(state.pic_slave);
    vm.set_irqchip(state.ioapic);
}

}  // namespace vdi::hv
