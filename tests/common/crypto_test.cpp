// Hashing, tokens and Argon2id passwords.
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include <catch2/catch.hpp>
#include <sodium.h>

#include "vdi/common/crypto.h"

TEST_CASE("crypto: sha256 matches the standard test vector", "[crypto]")
{
    CHECK(vdi::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(vdi::sha256_hex("").size() == 64);
}

TEST_CASE("crypto: random tokens are long and distinct", "[crypto]")
{
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const auto token = vdi::random_token(32);
        CHECK(token.size() == 43);  // 256 bits, base64url without padding
        CHECK(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
              std::string::npos);
        seen.insert(token);
    }
    CHECK(seen.size() == 1000);
    CHECK(vdi::random_hex(16).size() == 32);
}

TEST_CASE("crypto: Argon2id password hashes verify only the right password", "[crypto]")
{
    const vdi::PasswordHashParams cheap{1, 8 * 1024 * 1024};
    const auto hash = vdi::hash_password("correct horse", cheap);
    CHECK(hash.rfind("$argon2id$", 0) == 0);
    CHECK(vdi::verify_password("correct horse", hash));
    CHECK_FALSE(vdi::verify_password("correct horsE", hash));
    CHECK_FALSE(vdi::verify_password("correct horse", "not a hash"));
    // same password, fresh salt
    CHECK(vdi::hash_password("correct horse", cheap) != hash);
    CHECK(vdi::password_needs_rehash(hash));  // weaker than the defaults
    CHECK_FALSE(vdi::password_needs_rehash(hash, cheap));
}

TEST_CASE("crypto: Argon2id in resident memory makes and checks the same hashes as libsodium alone", "[crypto]")
{
    // hash_password and verify_password reuse the hash's memory between calls (password.cpp);
    // libsodium's own functions here run outside that scope, with glibc's mappings.
    REQUIRE(sodium_init() >= 0);
    const vdi::PasswordHashParams defaults;
    char plain[crypto_pwhash_STRBYTES];
    REQUIRE(crypto_pwhash_str_alg(plain, "s3cret", 6, defaults.ops_limit, defaults.mem_limit,
                                  crypto_pwhash_ALG_ARGON2ID13) == 0);
    CHECK(vdi::verify_password("s3cret", plain));
    CHECK_FALSE(vdi::verify_password("s3creT", plain));

    const auto ours = vdi::hash_password("s3cret", defaults);
    CHECK(crypto_pwhash_str_verify(ours.c_str(), "s3cret", 6) == 0);
    CHECK(crypto_pwhash_str_verify(ours.c_str(), "s3creT", 6) != 0);
    // a region left by a failed check, by another password or by another cost changes nothing
    for (int i = 0; i < 3; ++i) {
        CHECK_FALSE(vdi::verify_password("wrong", ours));
        CHECK(vdi::verify_password("s3cret", ours));
        CHECK(vdi::verify_password("s3cret", plain));
    }
    const auto cheap = vdi::hash_password("other", vdi::PasswordHashParams{1, 16 * 1024 * 1024});
    CHECK(crypto_pwhash_str_verify(cheap.c_str(), "other", 5) == 0);
    CHECK(vdi::verify_password("s3cret", ours));
}

TEST_CASE("crypto: mappings outside a password hash are glibc's own", "[crypto]")
{
    const std::size_t size = 16u * 1024 * 1024;
    auto* memory = static_cast<unsigned char*>(mmap(nullptr, size, PROT_READ | PROT_WRITE,
                                                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0));
    REQUIRE(memory != MAP_FAILED);
    CHECK(std::all_of(memory, memory + size, [](unsigned char b) { return b == 0; }));
    CHECK(munmap(memory, size) == 0);
    errno = 0;
    CHECK(munmap(reinterpret_cast<void*>(1), 4096) == -1);  // not page-aligned
    CHECK(errno == EINVAL);
    errno = 0;
    CHECK(mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, -1, 0) == MAP_FAILED);  // no file, not anonymous
    CHECK(errno == EBADF);
}
