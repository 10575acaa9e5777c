// Address-range dispatch of port I/O and MMIO.
#include "vdi/hv/io_bus.h"
#include "vdi/common/logging.h"

#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace vdi::hv {

void IoBus::insert(std::uint64_t base, std::uint64_t length, BusDevice& device, std::string device_name)
{
    auto next = ranges_.lower_bound(base);
    if (next != ranges_.end() && next->first < base + length) {
        throw std::logic_error(fmt::format("{} bus: {} at {:#x} overlaps {}", name_, device_name, base, next->second.name));
    }
    if (next != ranges_.begin()) {
        auto previous = std::prev(next);
        if (previous->first + previous->second.length > base) {
            throw std::logic_error(
                fmt::format("{} bus: {} at {:#x} overlaps {}", name_, device_name, base, previous->second.name));
        }
    }
    ranges_.emplace(base, Range{length, &device, std::move(device_name)});
}

const IoBus::Range* IoBus::find(std::uint64_t address, std::uint64_t& base) const
{
    auto it = ranges_.upper_bound(address);
    if (it == ranges_.begin()) {
        return nullptr;
    }
    --it;
    if (address - it->first >= it->second.length) {
        return nullptr;
    }
    base = it->first;
    return &it->second;
}

void IoBus::note_unclaimed(std::uint64_t address, bool is_write)
{
    std::lock_guard lock(unclaimed_mutex_);
    if (unclaimed_.insert(address).second) {
        logger("vmm.bus")->debug("unclaimed address ignored (logged once) bus={} access={} address={:#x}", name_,
                                  is_write ? "write" : "read", address);
    }
}

bool IoBus::read(std::uint64_t address, std::span<std::uint8_t> data)
{
    std::uint64_t base = 0;
    if (const Range* range = find(address, base)) {
        range->device->read(address - base, data);
        return true;
    }
    std::memset(data.data(), 0xff, data.size());
    note_unclaimed(address, false);
    return false;
}

bool IoBus::write(std::uint64_t address, std::span<const std::uint8_t> data)
{
    std::uint64_t base = 0;
    if (const Range* range = find(address, base)) {
        range->device->write(address - base, data);
        return true;
    }
    note_unclaimed(address, true);
    return false;
}

std::set<std::uint64_t> IoBus::unclaimed() const
{
    std::lock_guard lock(unclaimed_mutex_);
    return unclaimed_;
}

}  // namespace vdi::hv
