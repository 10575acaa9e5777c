// Hashing, tokens and Argon2id passwords.
#include <set>

#include <catch2/catch.hpp>

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
