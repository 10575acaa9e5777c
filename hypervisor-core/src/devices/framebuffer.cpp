// Framebuffer geometry, damage from the dirty log, PNG encoding with libpng.
#include "vdi/hv/devices/framebuffer.h"

#include <cstring>

#include <fmt/format.h>
#include <png.h>

namespace vdi::hv {

Framebuffer::Framebuffer(const FramebufferState& state) : state_(state)
{
    if (state.width < 64 || state.height < 64 || state.width > max_dimension || state.height > max_dimension) {
        throw HvError(fmt::format("framebuffer {}x{} is not usable; choose a size between 64x64 and {}x{}",
                                  state.width, state.height, max_dimension, max_dimension));
    }
    if (state.guest_address % 4096 != 0) {
        throw HvError("framebuffer address must be page-aligned");
    }
}

std::uint64_t Framebuffer::size() const
{
    const std::uint64_t bytes = static_cast<std::uint64_t>(stride()) * state_.height;
    return (bytes + 4095) & ~std::uint64_t{4095};
}

void Framebuffer::attach(GuestMemory& memory)
{
    auto& region = memory.add_anonymous("framebuffer", state_.guest_address, size(), true);
    pixels_ = region.host;
    slot_ = region.slot;
}

void Framebuffer::attach_file(GuestMemory& memory, const std::filesystem::path& file, std::uint64_t offset)
{
    auto& region = memory.add_file("framebuffer", state_.guest_address, size(), file, offset, true);
    pixels_ = region.host;
    slot_ = region.slot;
}

std::uint32_t Framebuffer::pixel(std::uint32_t x, std::uint32_t y) const
{
    std::uint32_t value = 0;
    std::memcpy(&value, pixels_ + static_cast<std::uint64_t>(y) * stride() + x * bytes_per_pixel, sizeof value);
    return value;
}

int Framebuffer::add_damage_consumer()
{
    std::lock_guard lock(damage_mutex_);
    if (pending_rows_.empty()) {
        pending_rows_.emplace_back(state_.height, false);  // consumer 0
    }
    pending_rows_.emplace_back(state_.height, false);
    return static_cast<int>(pending_rows_.size()) - 1;
}

std::vector<Rect> Framebuffer::damage(Vm& vm, int consumer)
{
    std::lock_guard lock(damage_mutex_);
    if (pending_rows_.empty()) {
        pending_rows_.emplace_back(state_.height, false);
    }
    if (consumer < 0 || consumer >= static_cast<int>(pending_rows_.size())) {
        throw HvError("unknown framebuffer damage consumer");
    }
    const auto bitmap = vm.get_dirty_log(slot_, size());
    const std::uint64_t row_bytes = stride();
    for (std::uint64_t page = 0; page < size() / 4096; ++page) {
        if (!(bitmap[page / 64] >> (page % 64) & 1)) {
            continue;
        }
        const std::uint64_t first_byte = page * 4096;
        const auto top = static_cast<std::uint32_t>(first_byte / row_bytes);
        const auto bottom = std::min<std::uint32_t>(
            state_.height, static_cast<std::uint32_t>((first_byte + 4096 + row_bytes - 1) / row_bytes));
        for (auto& rows : pending_rows_) {
            for (std::uint32_t y = top; y < bottom; ++y) {
                rows[y] = true;
            }
        }
    }
    auto& rows = pending_rows_[static_cast<std::size_t>(consumer)];
    std::vector<Rect> rects;
    for (std::uint32_t y = 0; y < state_.height;) {
        if (!rows[y]) {
            ++y;
            continue;
        }
        const std::uint32_t top = y;
        while (y < state_.height && rows[y]) {
            rows[y] = false;
            ++y;
        }
        rects.push_back({0, top, state_.width, y - top});
    }
    return rects;
}

std::vector<std::uint8_t> Framebuffer::to_png() const
{
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    image.width = state_.width;
    image.height = state_.height;
    image.format = PNG_FORMAT_BGRA;  // XRGB8888 little-endian is B, G, R, X in memory
    // the X byte is not alpha: write an opaque copy
    std::vector<std::uint8_t> opaque(static_cast<std::size_t>(stride()) * state_.height);
    std::memcpy(opaque.data(), pixels_, opaque.size());
    for (std::size_t i = 3; i < opaque.size(); i += 4) {
        opaque[i] = 0xff;
    }
    png_alloc_size_t size = 0;
    if (!png_image_write_to_memory(&image, nullptr, &size, 0, opaque.data(), static_cast<png_int_32>(stride()),
                                   nullptr)) {
        throw HvError(std::string("PNG encoding failed: ") + image.message);
    }
    std::vector<std::uint8_t> png(size);
    if (!png_image_write_to_memory(&image, png.data(), &size, 0, opaque.data(), static_cast<png_int_32>(stride()),
                                   nullptr)) {
        throw HvError(std::string("PNG encoding failed: ") + image.message);
    }
    png.resize(size);
    return png;
}

}  // namespace vdi::hv
