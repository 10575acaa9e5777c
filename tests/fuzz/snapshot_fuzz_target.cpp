// Fuzz target for the snapshot state-file parser (libFuzzer entry point).
//
// Each input is parsed twice: as it is, and with its header's length and CRC fixed up, so that
// mutations reach the section parser behind the CRC check. The parser may refuse an input
// (SnapshotError); it must never crash, hang, read out of bounds or allocate without limit.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include <zlib.h>

#include "vdi/hv/snapshot/snapshot.h"

namespace {

void parse(const std::vector<std::uint8_t>& bytes)
{
    try {
        const auto snapshot = vdi::hv::decode_snapshot(bytes);
        // whatever decodes must encode back to the same bytes
        if (vdi::hv::encode_snapshot(snapshot) != bytes) {
            __builtin_trap();
        }
    } catch (const vdi::hv::SnapshotError&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::vector<std::uint8_t> bytes(data, data + size);
    parse(bytes);
    if (bytes.size() >= 32) {
        const std::uint64_t length = bytes.size() - 32;
        std::memcpy(bytes.data() + 16, &length, sizeof length);
        const auto crc = static_cast<std::uint32_t>(crc32(crc32(0L, Z_NULL, 0), bytes.data() + 32,
                                                          static_cast<uInt>(length)));
        std::memcpy(bytes.data() + 24, &crc, sizeof crc);
        parse(bytes);
    }
    return 0;
}
