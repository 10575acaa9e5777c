// Routes port I/O and MMIO exits to devices by address range.
//
// Devices register non-overlapping ranges at set-up; the map is immutable afterwards, so
// dispatch needs no lock (devices guard their own state). An access no device claims is logged
// once per address and ignored: reads return all ones, as an empty ISA bus does.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>

namespace vdi::hv {

class BusDevice {
public:
    virtual ~BusDevice() = default;
    // `offset` is relative to the registered base. Called from vCPU threads.
    virtual void read(std::uint64_t offset, std::span<std::uint8_t> data) = 0;
    virtual void write(std::uint64_t offset, std::span<const std::uint8_t> data) = 0;
};

class IoBus {
public:
    explicit IoBus(std::string name) : name_(std::move(name)) {}

    // Throws std::logic_error on overlap. The bus does not own the device.
    void insert(std::uint64_t base, std::uint64_t length, BusDevice& device, std::string device_name);

    // False when no device claims the address (the access was logged and ignored).
    bool read(std::uint64_t address, std::span<std::uint8_t> data);
    bool write(std::uint64_t address, std::span<const std::uint8_t> data);

    // Addresses that hit no device so far (for tests and diagnostics).
    std::set<std::uint64_t> unclaimed() const;

private:
    struct Range {
        std::uint64_t length;
        BusDevice* device;
        std::string name;
    };
    const Range* find(std::uint64_t address, std::uint64_t& base) const;
    void note_unclaimed(std::uint64_t address, bool is_write);

    std::string name_;
    std::map<std::uint64_t, Range> ranges_;  // by base; immutable after set-up
    mutable std::mutex unclaimed_mutex_;     // guards unclaimed_
    std::set<std::uint64_t> unclaimed_;
};

}  // namespace vdi::hv
