// libsodium-backed hashing, randomness and Argon2id password hashing.
#include "vdi/common/crypto.h"

#include <mutex>
#include <vector>

#include <sodium.h>

#include "vdi/common/error.h"

namespace vdi {
namespace {

void ensure_sodium()
{
    static std::once_flag once;
    std::call_once(once, [] {
        if (sodium_init() < 0) {
            throw Error("libsodium failed to initialise (no usable random source?)");
        }
    });
}

std::string to_hex(const unsigned char* data, std::size_t size)
{
    std::string hex(size * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), data, size);
    hex.pop_back();
    return hex;
}

}  // namespace

std::string sha256_hex(std::string_view data)
{
    ensure_sodium();
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    return to_hex(digest, sizeof digest);
}

std::string random_hex(std::size_t bytes)
{
    ensure_sodium();
    std::vector<unsigned char> buffer(bytes);
    randombytes_buf(buffer.data(), buffer.size());
    return to_hex(buffer.data(), buffer.size());
}

std::string random_token(std::size_t bytes)
{
    ensure_sodium();
    std::vector<unsigned char> buffer(bytes);
    randombytes_buf(buffer.data(), buffer.size());
    const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    std::string out(sodium_base64_ENCODED_LEN(bytes, variant), '\0');
    sodium_bin2base64(out.data(), out.size(), buffer.data(), buffer.size(), variant);
    out.resize(out.find('\0'));
    return out;
}

}  // namespace vdi
