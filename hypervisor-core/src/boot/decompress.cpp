// Payload decompression with zlib, liblzma, libzstd and liblz4.
#include "vdi/hv/boot/decompress.h"

#include <cstring>

#include <fmt/format.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "vdi/hv/hypervisor.h"

namespace vdi::hv {
namespace {

bool starts_with(std::span<const std::uint8_t> data, std::initializer_list<std::uint8_t> magic)
{
    return data.size() >= magic.size() && std::equal(magic.begin(), magic.end(), data.begin());
}

void grow(std::vector<std::uint8_t>& out, std::size_t used, std::size_t limit, const char* format)
{
    if (out.size() >= limit) {
        throw HvError(fmt::format("{} payload decompresses to more than {} MiB; refusing", format, limit >> 20));
    }
    out.resize(std::min(limit, std::max<std::size_t>(out.size() * 2, used + (1u << 20))));
}

std::vector<std::uint8_t> gunzip(std::span<const std::uint8_t> in, std::size_t hint, std::size_t limit)
{
    z_stream zs{};
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        throw HvError("zlib initialisation failed");
    }
    std::vector<std::uint8_t> out(hint ? hint : in.size() * 4);
    zs.next_in = const_cast<Bytef*>(in.data());
    zs.avail_in = static_cast<uInt>(in.size());
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        if (zs.total_out == out.size()) {
            grow(out, zs.total_out, limit, "gzip");
        }
        zs.next_out = out.data() + zs.total_out;
        zs.avail_out = static_cast<uInt>(out.size() - zs.total_out);
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && zs.avail_out == 0)) {
            const std::string message = zs.msg ? zs.msg : "corrupt data";
            inflateEnd(&zs);
            throw HvError("gzip payload is corrupt: " + message);
        }
    }
    out.resize(zs.total_out);
    inflateEnd(&zs);
    return out;
}

std::vector<std::uint8_t> unxz(std::span<const std::uint8_t> in, std::size_t hint, std::size_t limit)
{
    lzma_stream xs = LZMA_STREAM_INIT;
    if (lzma_stream_decoder(&xs, UINT64_MAX, 0) != LZMA_OK) {
        throw HvError("liblzma initialisation failed");
    }
    std::vector<std::uint8_t> out(hint ? hint : in.size() * 4);
    xs.next_in = in.data();
    xs.avail_in = in.size();
    lzma_ret rc = LZMA_OK;
    while (rc != LZMA_STREAM_END) {
        if (xs.total_out == out.size()) {
            grow(out, xs.total_out, limit, "xz");
        }
        xs.next_out = out.data() + xs.total_out;
        xs.avail_out = out.size() - xs.total_out;
        rc = lzma_code(&xs, LZMA_FINISH);
        if (rc != LZMA_OK && rc != LZMA_STREAM_END && !(rc == LZMA_BUF_ERROR && xs.avail_out == 0)) {
            lzma_end(&xs);
            throw HvError(fmt::format("xz payload is corrupt (liblzma error {})", static_cast<int>(rc)));
        }
    }
    out.resize(xs.total_out);
    lzma_end(&xs);
    return out;
}

std::vector<std::uint8_t> unzstd(std::span<const std::uint8_t> in, std::size_t hint, std::size_t limit)
{
    ZSTD_DStream* ds = ZSTD_createDStream();
    std::vector<std::uint8_t> out(hint ? hint : in.size() * 4);
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    std::size_t produced = 0;
    for (;;) {
        if (produced == out.size()) {
            grow(out, produced, limit, "zstd");
        }
        ZSTD_outBuffer output{out.data() + produced, out.size() - produced, 0};
        const std::size_t rc = ZSTD_decompressStream(ds, &output, &input);
        produced += output.pos;
        if (ZSTD_isError(rc)) {
            ZSTD_freeDStream(ds);
            throw HvError(std::string("zstd payload is corrupt: ") + ZSTD_getErrorName(rc));
        }
        if (rc == 0) {
            break;  // frame complete (the kernel appends its size after the frame)
        }
        if (input.pos == input.size && output.pos < output.size) {
            ZSTD_freeDStream(ds);
            throw HvError("zstd payload is truncated");
        }
    }
    ZSTD_freeDStream(ds);
    out.resize(produced);
    return out;
}

std::uint32_t le32(const std::uint8_t* p)
{
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

// LZ4 legacy format: magic, then blocks of [u32 compressed size][data], each up to 8 MiB when
// decompressed; the kernel's payload ends with the u32 decompressed size.
std::vector<std::uint8_t> unlz4_legacy(std::span<const std::uint8_t> in, std::size_t hint, std::size_t limit)
{
    constexpr std::uint32_t legacy_magic = 0x184c2102;
    constexpr std::size_t block_max = 8u << 20;
    std::vector<std::uint8_t> out;
    out.reserve(hint);
    std::size_t pos = 4;
    while (pos + 4 <= in.size()) {
        const std::uint32_t block = le32(in.data() + pos);
        if (block == legacy_magic) {
            pos += 4;
            continue;
        }
        if (block == 0 || pos + 4 + block > in.size()) {
            break;  // the trailing size field, or the end
        }
        const std::size_t start = out.size();
        if (start + block_max > limit) {
            throw HvError(fmt::format("lz4 payload decompresses to more than {} MiB; refusing", limit >> 20));
        }
        out.resize(start + block_max);
        const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in.data() + pos + 4),
                                          reinterpret_cast<char*>(out.data() + start), static_cast<int>(block),
                                          static_cast<int>(block_max));
        if (n < 0) {
            throw HvError(fmt::format("lz4 payload is corrupt (block at offset {})", pos));
        }
        out.resize(start + static_cast<std::size_t>(n));
        pos += 4 + block;
    }
    if (out.empty()) {
        throw HvError("lz4 payload holds no data");
    }
    return out;
}

}  // namespace

std::string compression_format(std::span<const std::uint8_t> data)
{
    if (starts_with(data, {0x1f, 0x8b})) return "gzip";
    if (starts_with(data, {0xfd, '7', 'z', 'X', 'Z', 0x00})) return "xz";
    if (starts_with(data, {0x28, 0xb5, 0x2f, 0xfd})) return "zstd";
    if (starts_with(data, {0x02, 0x21, 0x4c, 0x18})) return "lz4";
    return "";
}

std::vector<std::uint8_t> decompress(std::span<const std::uint8_t> data, std::size_t size_hint, std::size_t limit)
{
    const std::string format = compression_format(data);
    if (format == "gzip") return gunzip(data, size_hint, limit);
    if (format == "xz") return unxz(data, size_hint, limit);
    if (format == "zstd") return unzstd(data, size_hint, limit);
    if (format == "lz4") return unlz4_legacy(data, size_hint, limit);
    if (starts_with(data, {'B', 'Z', 'h'})) {
        throw HvError("bzip2-compressed kernels are not supported; build the kernel with gzip, xz, zstd or lz4");
    }
    throw HvError("the kernel payload uses an unknown compression (supported: gzip, xz, zstd, lz4)");
}

}  // namespace vdi::hv
