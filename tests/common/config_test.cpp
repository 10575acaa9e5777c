// Configuration loading: DSN resolution order and clear errors for bad files.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "vdi/common/config.h"
#include "vdi/common/error.h"
#include "vdi/common/logging.h"

namespace {

std::filesystem::path write_temp(const std::string& name, const std::string& content)
{
    const auto path = std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "-" + name);
    std::ofstream(path) << content;
    return path;
}

}  // namespace

TEST_CASE("config: DSN comes from the strongest source", "[config]")
{
    unsetenv("VDI_DSN");
    const auto dsn_file = write_temp("db.dsn", "\n  postgresql://a:b@127.0.0.1:1/x  \n");
    const auto config_file = write_temp("c.toml", "[database]\ndsn = \"postgresql://from-file/db\"\n"
                                                   "connect_timeout_s = 9\n[log]\nlevel = \"debug\"\n");

    auto config = vdi::Config::load(config_file);
    CHECK(config.require_dsn() == "postgresql://from-file/db");
    CHECK(config.database().connect_timeout_s == 9);
    CHECK(config.log().level == "debug");

    setenv("VDI_DSN", "postgresql://from-env/db", 1);
    CHECK(vdi::Config::load(config_file).require_dsn() == "postgresql://from-env/db");

    vdi::ConfigOverrides overrides;
    overrides.dsn_file = dsn_file;
    CHECK(vdi::Config::load(config_file, overrides).require_dsn() == "postgresql://a:b@127.0.0.1:1/x");
    overrides.dsn = "postgresql://cli/db";
    CHECK(vdi::Config::load(config_file, overrides).require_dsn() == "postgresql://cli/db");
    unsetenv("VDI_DSN");
}

TEST_CASE("config: mistakes are refused with the file and key named", "[config]")
{
    unsetenv("VDI_DSN");
    const auto typo = write_temp("typo.toml", "[database]\ndsnn = \"x\"\n");
    CHECK_THROWS_WITH(vdi::Config::load(typo), Catch::Contains("unknown key 'dsnn' in [database]"));

    const auto broken = write_temp("broken.toml", "[database\n");
    CHECK_THROWS_AS(vdi::Config::load(broken), vdi::ConfigError);

    const auto level = write_temp("level.toml", "[log]\nlevel = \"loud\"\n");
    CHECK_THROWS_WITH(vdi::Config::load(level), Catch::Contains("'loud'"));

    const auto timeout = write_temp("timeout.toml", "[database]\nconnect_timeout_s = 0\n");
    CHECK_THROWS_WITH(vdi::Config::load(timeout), Catch::Contains("connect_timeout_s"));

    vdi::ConfigOverrides missing;
    missing.dsn_file = "/nonexistent/db.dsn";
    CHECK_THROWS_WITH(vdi::Config::load(std::nullopt, missing), Catch::Contains("/nonexistent/db.dsn"));
}

TEST_CASE("config: a component section is available to its component", "[config]")
{
    const auto file = write_temp("section.toml", "[broker]\nlisten = \"127.0.0.1:8443\"\n");
    const auto config = vdi::Config::load(file);
    CHECK(config.section("broker")["listen"].value_or(std::string()) == "127.0.0.1:8443");
    CHECK(config.section("pool_manager").empty());
}

TEST_CASE("logging: DSN passwords are redacted", "[logging]")
{
    CHECK(vdi::redact_dsn("postgresql://vdi:s3cret@127.0.0.1:5432/vdi") == "postgresql://vdi:***@127.0.0.1:5432/vdi");
    CHECK(vdi::redact_dsn("host=db user=vdi password=s3cret dbname=vdi") == "host=db user=vdi password=*** dbname=vdi");
    CHECK(vdi::redact_dsn("postgresql://127.0.0.1/vdi") == "postgresql://127.0.0.1/vdi");
}
