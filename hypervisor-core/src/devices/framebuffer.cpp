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

std::vector<Rect> Framebuffer::damage(Vm& vm)
{
    const auto bitmap = vm.get_dirty_log(slot_, size());
    std::vector<Rect> rects;
    const std::uint64_t row_bytes = stride();
    std::int64_t open_top = -1;
    std::uint32_t open_bottom = 0;
    for (std::uint64_t page = 0; page < size() / 4096; ++page) {
        if (!(bitmap[page / 64] >> (page % 64) & 1)) {
            continue;
        }
        const std::uint64_t first_byte = page * 4096;
        const std::uint32_t top = static_cast<std::uint32_t>(first_byte / row_bytes);
        const std::uint32_t bottom =
            std::min<std::uint32_t>(state_.height, static_cast<std::uint32_t>((first_byte + 4096 + row_bytes - 1) / row_bytes));
        if (top >= state_.height) {
            break;
        }
        if (open_top >= 0 && top <= open_bottom) {
            open_bottom = std::max(open_bottom, bottom);
            continue;
        }
        if (open_top >= 0) {
            rects.push_back({0, static_cast<std::uint32_t>(open_top), state_.width, open_bottom - static_cast<std::uint32_t>(open_top)});
        }
        open_top = top;
        open_bottom = bottom;
    }
    if (open_top >= 0) {
        rects.push_back({0, static_cast<std::uint32_t>(open_top), state_.width, open_bottom - static_cast<std::uint32_t>(open_top)});
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
