// The linear framebuffer: XRGB8888 pixels in their own dirty-logged memslot, described to the
// guest through boot_params.screen_info (EFI framebuffer), read by display servers and
// screenshots. Pixels live in guest memory (and so in snapshots); only geometry is state here.
// Threads: damage() from one display thread; pixels are read while the guest writes them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "vdi/hv/guest_memory.h"
#include "vdi/hv/hypervisor.h"

namespace vdi::hv {

struct FramebufferState {
    std::uint32_t width = 1024;
    std::uint32_t height = 768;
    std::uint64_t guest_address = 0xe0000000;
};

struct Rect {
    std::uint32_t x = 0, y = 0, width = 0, height = 0;
};

class Framebuffer {
public:
    static constexpr std::uint32_t bytes_per_pixel = 4;
    static constexpr std::uint32_t max_dimension = 8192;

    // Validates the geometry (HvError: "framebuffer 0x768 is not usable; ...").
    explicit Framebuffer(const FramebufferState& state);

    // Adds the framebuffer region (dirty-logged) to guest memory and remembers where it lives.
    void attach(GuestMemory& memory);
    // The same, with the pixels mapped copy-on-write from `offset` of a snapshot memory file.
    void attach_file(GuestMemory& memory, const std::filesystem::path& file, std::uint64_t offset);

    std::uint32_t width() const { return state_.width; }
    std::uint32_t height() const { return state_.height; }
    std::uint32_t stride() const { return state_.width * bytes_per_pixel; }
    std::uint64_t size() const;  // bytes, page-aligned
    std::uint64_t guest_address() const { return state_.guest_address; }
    std::uint32_t slot() const { return slot_; }
    const std::uint8_t* pixels() const { return pixels_; }
    std::uint32_t pixel(std::uint32_t x, std::uint32_t y) const;

    // Rows written since this consumer's last call, as full-width rectangles (merged where
    // adjacent). Several display servers can each follow the damage: every reader of the
    // dirty log passes what it read on to the others. Thread-safe.
    std::vector<Rect> damage(Vm& vm, int consumer = 0);
    // A new consumer id for damage() (0 is the default one).
    int add_damage_consumer();

    // The current picture as PNG bytes (RGB, 8 bits per channel).
    std::vector<std::uint8_t> to_png() const;

    FramebufferState save() const { return state_; }

private:
    FramebufferState state_;
    std::uint8_t* pixels_ = nullptr;
    std::uint32_t slot_ = 0;
    std::mutex damage_mutex_;                       // guards pending_rows_
    std::vector<std::vector<bool>> pending_rows_;  // per consumer: rows damaged, not yet taken
};

}  // namespace vdi::hv
