// Guest memory regions: mmap, bounds-checked access, memslot registration.
#include "vdi/hv/guest_memory.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "vdi/common/unique_fd.h"

namespace vdi::hv {
namespace {

constexpr std::uint64_t page_size = 4096;

std::uint64_t round_up(std::uint64_t value)
{
    return (value + page_size - 1) & ~(page_size - 1);
}

}  // namespace

GuestMemory::~GuestMemory()
{
    for (const auto& m : mappings_) {
        ::munmap(m.address, m.length);
    }
}

GuestRegion& GuestMemory::add_anonymous(const std::string& name, std::uint64_t guest_address, std::uint64_t size,
                                        bool dirty_logging)
{
    size = round_up(size);
    void* mapped = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mapped == MAP_FAILED) {
        throw HvError(fmt::format("cannot allocate {} MiB of guest memory for {}: {}", size >> 20, name,
                                  std::strerror(errno)));
    }
    // guest memory must not end up in a core dump of the VMM (it holds the user's data)
    ::madvise(mapped, size, MADV_DONTDUMP);
    mappings_.push_back({mapped, size});
    regions_.push_back({name, static_cast<std::uint32_t>(regions_.size()), guest_address, size,
                        static_cast<std::uint8_t*>(mapped), dirty_logging});
    return regions_.back();
}

GuestRegion& GuestMemory::add_file(const std::string& name, std::uint64_t guest_address, std::uint64_t size,
                                   const std::filesystem::path& file, std::uint64_t offset, bool dirty_logging)
{
    const UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw HvError(fmt::format("cannot open memory file {}: {}", file.string(), std::strerror(errno)));
    }
    struct stat st {};
    ::fstat(fd.get(), &st);
    if (static_cast<std::uint64_t>(st.st_size) < offset + size) {
        throw HvError(fmt::format("memory file {} is {} bytes, shorter than the {} bytes its state says; rebuild "
                                  "the golden image",
                                  file.string(), st.st_size, offset + size));
    }
    // PROT_WRITE on a read-only fd is fine with MAP_PRIVATE: writes go to private copies
    void* mapped = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd.get(),
                          static_cast<off_t>(offset));
    if (mapped == MAP_FAILED) {
        // the mapping, once made, keeps the file; fd closes as this function returns
        throw HvError(fmt::format("cannot map memory file {}: {}", file.string(), std::strerror(errno)));
    }
    ::madvise(mapped, size, MADV_DONTDUMP);
    mappings_.push_back({mapped, size});
    regions_.push_back({name, static_cast<std::uint32_t>(regions_.size()), guest_address, size,
                        static_cast<std::uint8_t*>(mapped), dirty_logging});
    return regions_.back();
}

void GuestMemory::register_with(Vm& vm) const
{
    for (const auto& r : regions_) {
        vm.set_memory_region({r.slot, r.guest_address, r.size, r.host, r.dirty_logging, false});
    }
}

const GuestRegion& GuestMemory::region(const std::string& name) const
{
    for (const auto& r : regions_) {
        if (r.name == name) {
            return r;
        }
    }
    throw HvError("no guest memory region named " + name);
}

std::uint8_t* GuestMemory::host_pointer(std::uint64_t address, std::uint64_t length) const
{
    for (const auto& r : regions_) {
        if (r.contains(address, length)) {
            return r.host + (address - r.guest_address);
        }
    }
    throw HvError(fmt::format("guest range {:#x}+{:#x} is outside guest memory", address, length));
}

void GuestMemory::write(std::uint64_t address, std::span<const std::uint8_t> bytes) const
{
    std::memcpy(host_pointer(address, bytes.size()), bytes.data(), bytes.size());
}

void GuestMemory::read(std::uint64_t address, std::span<std::uint8_t> bytes) const
{
    std::memcpy(bytes.data(), host_pointer(address, bytes.size()), bytes.size());
}

}  // namespace vdi::hv
