// Small cryptographic helpers on libsodium: hashing, random tokens, Argon2id passwords.
// All functions are thread-safe (sodium_init() runs once, on first use).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vdi {

// SHA-256 of `data` as 64 lowercase hex digits (what bytea hash columns are written from).
std::string sha256_hex(std::string_view data);

// `bytes` bytes from the system CSPRNG, hex-encoded (2 * bytes characters).
std::string random_hex(std::size_t bytes);

// `bytes` bytes from the system CSPRNG, base64url without padding (bearer tokens).
std::string random_token(std::size_t bytes = 32);

// Cost of Argon2id password hashing (libsodium crypto_pwhash parameters).
struct PasswordHashParams {
    unsigned long long ops_limit = 3;             // crypto_pwhash_OPSLIMIT_MODERATE is 3
    std::size_t mem_limit = 64ull * 1024 * 1024;  // bytes
};

// Argon2id hash in libsodium's encoded form ("$argon2id$v=19$m=65536,t=3,p=1$..."). Throws
// vdi::Error when the machine cannot provide mem_limit bytes.
std::string hash_password(std::string_view password, const PasswordHashParams& params = {});

// Constant-time check of `password` against an encoded hash; false for a malformed hash.
bool verify_password(std::string_view password, const std::string& encoded_hash);

// True when `encoded_hash` was made with weaker parameters than `params` (rehash on next login).
bool password_needs_rehash(const std::string& encoded_hash, const PasswordHashParams& params = {});

}  // namespace vdi
