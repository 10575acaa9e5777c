// An interrupt line a device drives: the VM's in-kernel PIC/IOAPIC pin, or a recorder in tests.
#pragma once

#include <cstdint>

#include "vdi/hv/hypervisor.h"

namespace vdi::hv {

class InterruptLine {
public:
    virtual ~InterruptLine() = default;
    virtual void set_level(bool level) = 0;
};

// ISA interrupt `irq` of the VM's in-kernel irqchip. Thread-safe (KVM_IRQ_LINE is).
class VmInterruptLine : public InterruptLine {
public:
    VmInterruptLine(Vm& vm, std::uint32_t irq) : vm_(vm), irq_(irq) {}
    void set_level(bool level) override { vm_.set_irq_line(irq_, level); }

private:
    Vm& vm_;
    std::uint32_t irq_;
};

}  // namespace vdi::hv
