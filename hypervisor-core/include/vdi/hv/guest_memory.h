// Guest-physical memory: regions backed by anonymous memory or a file, each one KVM memslot.
//
// A file-backed region is mapped MAP_PRIVATE (copy on write): clones of one golden image share
// unchanged pages through the page cache and never write the file. Accessors check bounds and
// throw HvError on an address outside every region. Thread-safety: the region list is fixed
// after set-up; reads and writes of guest memory race with the guest like any DMA would.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "vdi/hv/hypervisor.h"

namespace vdi::hv {

struct GuestRegion {
    std::string name;  // "ram", "framebuffer"
    std::uint32_t slot = 0;
    std::uint64_t guest_address = 0;
    std::uint64_t size = 0;
    std::uint8_t* host = nullptr;
    bool dirty_logging = false;
    bool contains(std::uint64_t address, std::uint64_t length) const
    {
        return address >= guest_address && length <= size && address - guest_address <= size - length;
    }
};

class GuestMemory {
public:
    GuestMemory() = default;
    ~GuestMemory();
    GuestMemory(const GuestMemory&) = delete;
    GuestMemory& operator=(const GuestMemory&) = delete;

    // Adds a zero-filled anonymous region. `size` is rounded up to whole pages.
    GuestRegion& add_anonymous(const std::string& name, std::uint64_t guest_address, std::uint64_t size,
                               bool dirty_logging = false);
    // Maps `offset..offset+size` of `file` copy-on-write. HvError if the file is too short.
    GuestRegion& add_file(const std::string& name, std::uint64_t guest_address, std::uint64_t size,
                          const std::filesystem::path& file, std::uint64_t offset = 0, bool dirty_logging = false);

    // Registers every region with the VM as a memslot.
    void register_with(Vm& vm) const;

    const std::vector<GuestRegion>& regions() const { return regions_; }
    const GuestRegion& region(const std::string& name) const;

    // Host pointer for [address, address+length) inside one region; HvError otherwise.
    std::uint8_t* host_pointer(std::uint64_t address, std::uint64_t length) const;
    void write(std::uint64_t address, std::span<const std::uint8_t> bytes) const;
    void read(std::uint64_t address, std::span<std::uint8_t> bytes) const;
    template <typename T>
    void write_object(std::uint64_t address, const T& value) const
    {
        write(address, std::span(reinterpret_cast<const std::uint8_t*>(&value), sizeof(T)));
    }
    template <typename T>
    T read_object(std::uint64_t address) const
    {
        T value{};
        read(address, std::span(reinterpret_cast<std::uint8_t*>(&value), sizeof(T)));
        return value;
    }

private:
    struct Mapping {
        void* address;
        std::size_t length;
    };
    std::vector<GuestRegion> regions_;
    std::vector<Mapping> mappings_;
};

}  // namespace vdi::hv
