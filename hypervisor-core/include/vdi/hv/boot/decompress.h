// Decompressing a bzImage payload on the host: gzip, xz, zstd or LZ4 (legacy frames), by magic.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vdi::hv {

// "gzip", "xz", "zstd", "lz4", or "" when the data starts with none of their magics.
std::string compression_format(std::span<const std::uint8_t> data);

// Decompresses a whole payload. `size_hint` pre-sizes the output (0: unknown). Throws HvError
// naming the format and what went wrong; output larger than `limit` is refused.
std::vector<std::uint8_t> decompress(std::span<const std::uint8_t> data, std::size_t size_hint = 0,
                                     std::size_t limit = 1ull << 30);

}  // namespace vdi::hv
