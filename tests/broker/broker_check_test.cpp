// `vdi-broker --check` as a process: the effective configuration (file and command line
// merged, the DSN's password masked), then the schema check.
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "vdi/test/process.h"
#include "vdi/test/test_database.h"

namespace fs = std::filesystem;

TEST_CASE("vdi-broker --check prints the effective configuration, then checks the schema", "[broker][config]")
{
    vdi::test::TestDatabase db;
    const fs::path file = fs::temp_directory_path() / ("vdi-broker-check-" + std::to_string(::getpid()) + ".toml");
    std::ofstream(file) << "[broker]\nlisten = \"127.0.0.1:9443\"\nticket_ttl_s = 45\n";
    const auto result = vdi::test::run_process({VDI_BROKER, "--config", file.string(), "--dsn", db.dsn(), "--listen",
                                                "127.0.0.1:0", "--check"});
    std::ofstream(file) << "[broker]\nlisten = \"127.0.0.1:9443\"\nticket_tll_s = 45\n";
    const auto refused = vdi::test::run_process({VDI_BROKER, "--config", file.string(), "--dsn", db.dsn(), "--check"});
    fs::remove(file);
    INFO(result.output);
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.output, Catch::Contains("listen = \"127.0.0.1:0\"") && Catch::Contains("ticket_ttl_s = 45"));
    CHECK_THAT(result.output, Catch::Contains("schema current"));
    CHECK_THAT(result.output, !Catch::Contains(db.dsn()));
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.output, Catch::Contains("unknown key 'ticket_tll_s'"));
}
