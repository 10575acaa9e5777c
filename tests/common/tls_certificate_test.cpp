// The self-signed certificates and the private key check the host agent runs once at its start.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "vdi/common/error.h"
#include "vdi/common/tls_certificate.h"

namespace fs = std::filesystem;

TEST_CASE("a made key passes its full check: a damaged one is refused with what to do")
{
    const fs::path dir = fs::temp_directory_path() / ("vdi-tls-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const fs::path certificate = dir / "host.crt", key = dir / "host.key";
    vdi::ensure_certificate(certificate, key, "host-1");
    CHECK((fs::status(key).permissions() & fs::perms::group_all) == fs::perms::none);
    CHECK_NOTHROW(vdi::check_private_key(key));

    // the same key with one digit of its private exponent changed: still parses, no longer sound
    std::stringstream pem;
    pem << std::ifstream(key).rdbuf();
    std::string text = pem.str();
    const fs::path damaged = dir / "damaged.key";
    {
        const auto begin = text.find('\n') + 1;  // the base64 after the BEGIN line
        const auto at = begin + 400;              // inside the private exponent of a 2048-bit key
        text[at] = text[at] == 'A' ? 'B' : 'A';
        std::ofstream(damaged) << text;
    }
    try {
        vdi::check_private_key(damaged);
        FAIL("a damaged key passed");
    } catch (const vdi::Error& e) {
        const std::string message = e.what();
        CHECK((message.find("consistency check") != std::string::npos ||
               message.find("not a PEM private key") != std::string::npos));
    }
    CHECK_THROWS_AS(vdi::check_private_key(dir / "missing.key"), vdi::Error);
    std::ofstream(dir / "garbage.key") << "not a key\n";
    CHECK_THROWS_WITH(vdi::check_private_key(dir / "garbage.key"), Catch::Contains("is not a PEM private key"));
    fs::remove_all(dir);
}
