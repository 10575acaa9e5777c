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

std::string hash_password(std::string_view password, const PasswordHashParams& params)
{
    ensure_sodium();
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, password.data(), password.size(), params.ops_limit, params.mem_limit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        throw Error("Argon2id password hashing ran out of memory; lower the memory limit in the configuration");
    }
    return out;
}

bool verify_password(std::string_view password, const std::string& encoded_hash)
{
    ensure_sodium();
    return crypto_pwhash_str_verify(encoded_hash.c_str(), password.data(), password.size()) == 0;
}

bool password_needs_rehash(const std::string& encoded_hash, const PasswordHashParams& params)
{
    ensure_sodium();
    return crypto_pwhash_str_needs_rehash(encoded_hash.c_str(), params.ops_limit, params.mem_limit) != 0;
}

}  // namespace vdi
