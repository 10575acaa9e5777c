// The scripted fake backend.
#include "vdi/test/fake_hypervisor.h"

namespace vdi::hv {

VmExit FakeVcpu::run()
{
    std::unique_lock lock(mutex_);
    if (last_is_read_) {
        reads_.push_back(last_);
        last_is_read_ = false;
    }
    changed_.wait(lock, [&] { return kicked_ || !script_.empty(); });
    VmExit exit;
    if (kicked_) {
        kicked_ = false;
        exit.kind = VmExit::Kind::interrupted;
        return exit;
    }
    const ScriptedExit next = script_.front();
    script_.pop_front();
    exit.kind = next.kind;
    exit.address = next.address;
    exit.rip = next.rip;
    last_ = next.data;
    exit.size = static_cast<std::uint32_t>(last_.size());
    exit.data = last_.data();
    last_is_read_ = next.kind == VmExit::Kind::io_in || next.kind == VmExit::Kind::mmio_read;
    if (next.kind == VmExit::Kind::emulation_failure) {
        exit.reason = "instruction not supported";
    }
    return exit;
}

void FakeVcpu::request_exit()
{
    std::lock_guard lock(mutex_);
    kicked_ = true;
    changed_.notify_all();
}

void FakeVcpu::script(const ScriptedExit& exit)
{
    std::lock_guard lock(mutex_);
    script_.push_back(exit);
    changed_.notify_all();
}

std::vector<std::vector<std::uint8_t>> FakeVcpu::reads() const
{
    std::lock_guard lock(mutex_);
    return reads_;
}

std::vector<kvm_msr_entry> FakeVcpu::get_msrs(const std::vector<std::uint32_t>& indices)
{
    std::vector<kvm_msr_entry> out;
    for (auto index : indices) {
        kvm_msr_entry e{};
        e.index = index;
        e.data = msrs_.count(index) ? msrs_.at(index) : 0;
        out.push_back(e);
    }
    return out;
}

void FakeVcpu::set_msrs(const std::vector<kvm_msr_entry>& msrs)
{
    for (const auto& e : msrs) {
        msrs_[e.index] = e.data;
    }
}

void FakeVm::set_memory_region(const MemoryRegionSpec& region)
{
    std::lock_guard lock(mutex_);
    regions_.push_back(region);
    if (region.dirty_logging) {
        dirty_[region.slot].assign((region.size / 4096 + 63) / 64, 0);
    }
}

std::unique_ptr<Vcpu> FakeVm::create_vcpu(int index)
{
    auto vcpu = std::make_unique<FakeVcpu>(index);
    std::lock_guard lock(mutex_);
    vcpus_.push_back(vcpu.get());
    return vcpu;
}

void FakeVm::set_irq_line(std::uint32_t irq, bool level)
{
    std::lock_guard lock(mutex_);
    irq_events_.emplace_back(irq, level);
}

std::vector<std::uint64_t> FakeVm::get_dirty_log(std::uint32_t slot, std::uint64_t size)
{
    std::lock_guard lock(mutex_);
    auto& bitmap = dirty_[slot];
    bitmap.resize((size / 4096 + 63) / 64, 0);
    auto out = bitmap;
    std::fill(bitmap.begin(), bitmap.end(), 0);
    return out;
}

std::vector<kvm_cpuid_entry2> FakeVm::supported_cpuid()
{
    kvm_cpuid_entry2 leaf0{};
    leaf0.function = 0;
    leaf0.eax = 1;
    kvm_cpuid_entry2 leaf1{};
    leaf1.function = 1;
    return {leaf0, leaf1};
}

std::vector<MemoryRegionSpec> FakeVm::regions() const
{
    std::lock_guard lock(mutex_);
    return regions_;
}

std::vector<std::pair<std::uint32_t, bool>> FakeVm::irq_events() const
{
    std::lock_guard lock(mutex_);
    return irq_events_;
}

FakeVcpu* FakeVm::vcpu(int index) const
{
    std::lock_guard lock(mutex_);
    return index < static_cast<int>(vcpus_.size()) ? vcpus_[static_cast<std::size_t>(index)] : nullptr;
}

void FakeVm::mark_dirty(std::uint32_t slot, std::uint64_t page)
{
    std::lock_guard lock(mutex_);
    auto& bitmap = dirty_[slot];
    if (bitmap.size() <= page / 64) {
        bitmap.resize(page / 64 + 1, 0);
    }
    bitmap[page / 64] |= 1ull << (page % 64);
}

std::unique_ptr<Vm> FakeHypervisor::create_vm()
{
    auto vm = std::make_unique<FakeVm>();
    last_vm_ = vm.get();
    return vm;
}

}  // namespace vdi::hv
