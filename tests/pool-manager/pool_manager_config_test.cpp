// The pool manager's configuration: defaults, the file, command-line overrides, refusals, and
// what `vdi-pool-manager --check` prints.
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "vdi/common/error.h"
#include "vdi/pool/pool_manager_config.h"
#include "vdi/test/process.h"
#include "vdi/test/test_database.h"

namespace fs = std::filesystem;
using vdi::pool::PoolManagerConfig;

namespace {

// A TOML file for one test, removed at the end.
class ConfigFile {
public:
    explicit ConfigFile(const std::string& text)
        : path_(fs::temp_directory_path() / ("vdi-pm-config-" + std::to_string(::getpid()) + "-" +
                                             std::to_string(counter_++) + ".toml"))
    {
        std::ofstream(path_) << text;
    }
    ~ConfigFile() { fs::remove(path_); }
    const fs::path& path() const { return path_; }

private:
    static inline int counter_ = 0;
    fs::path path_;
};

const std::string dsn = "postgresql://vdi:s3cret-pw@127.0.0.1:5432/vdi";

vdi::Config load(const std::optional<fs::path>& path)
{
    vdi::ConfigOverrides overrides;
    overrides.dsn = dsn;
    return vdi::Config::load(path, overrides);
}

std::string host_name()
{
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    return host;
}

}  // namespace

TEST_CASE("pool manager config: without a file every value is the struct's default", "[pool][config]")
{
    const auto pm = vdi::pool::load_pool_manager_config(load(std::nullopt));
    const PoolManagerConfig defaults;
    CHECK(pm.dsn == dsn);
    CHECK(pm.name == host_name());  // an empty name is the host's
    CHECK(pm.interval == defaults.interval);
    CHECK(pm.heartbeat_timeout == defaults.heartbeat_timeout);
    CHECK(pm.trim_grace == defaults.trim_grace);
    CHECK(pm.failures_before_stop == defaults.failures_before_stop);
    CHECK(pm.failure_window == defaults.failure_window);
    CHECK(pm.time_zone == defaults.time_zone);
    CHECK(pm.refresh_deadline == defaults.refresh_deadline);
    CHECK(pm.vcpu_overcommit == defaults.vcpu_overcommit);
}

TEST_CASE("pool manager config: the file sets every key, the command line wins over it", "[pool][config]")
{
    const ConfigFile file(R"([pool_manager]
name = "pm-file"
interval_ms = 250
heartbeat_timeout_s = 20
trim_grace_s = 60
failures_before_stop = 5
failure_window_s = 120
time_zone = "Europe/Berlin"
refresh_deadline_s = 900
vcpu_overcommit = 4
)");
    auto pm = vdi::pool::load_pool_manager_config(load(file.path()));
    CHECK(pm.name == "pm-file");
    CHECK(pm.interval == std::chrono::milliseconds(250));
    CHECK(pm.heartbeat_timeout == std::chrono::seconds(20));
    CHECK(pm.trim_grace == std::chrono::seconds(60));
    CHECK(pm.failures_before_stop == 5);
    CHECK(pm.failure_window == std::chrono::seconds(120));
    CHECK(pm.time_zone == "Europe/Berlin");
    CHECK(pm.refresh_deadline == std::chrono::seconds(900));
    CHECK(pm.vcpu_overcommit == 4);

    vdi::pool::PoolManagerOverrides overrides;
    overrides.name = "pm-cli";
    pm = vdi::pool::load_pool_manager_config(load(file.path()), overrides);
    CHECK(pm.name == "pm-cli");
    CHECK(pm.interval == std::chrono::milliseconds(250));  // the rest stays the file's
}

TEST_CASE("pool manager config: unknown keys, values out of range and unknown zones are refused", "[pool][config]")
{
    const ConfigFile typo("[pool_manager]\nintervall_ms = 250\n");
    CHECK_THROWS_WITH(vdi::pool::load_pool_manager_config(load(typo.path())),
                      Catch::Contains("unknown key 'intervall_ms'") && Catch::Contains("pool_manager"));
    const ConfigFile range("[pool_manager]\ninterval_ms = 10\n");
    CHECK_THROWS_WITH(vdi::pool::load_pool_manager_config(load(range.path())),
                      Catch::Contains("[pool_manager] interval_ms must be an integer from 50 to 600000"));
    const ConfigFile zone("[pool_manager]\ntime_zone = \"Mars/Olympus\"\n");
    CHECK_THROWS_AS(vdi::pool::load_pool_manager_config(load(zone.path())), vdi::ConfigError);
    CHECK_THROWS_WITH(vdi::pool::load_pool_manager_config(load(zone.path())),
                      Catch::Contains("[pool_manager] time_zone") && Catch::Contains("Mars/Olympus"));
}

TEST_CASE("pool manager config: the effective configuration, with the DSN's password masked", "[pool][config]")
{
    const ConfigFile file("[pool_manager]\ninterval_ms = 250\n");
    vdi::pool::PoolManagerOverrides overrides;
    overrides.name = "pm-7";
    const auto config = load(file.path());
    const auto text = vdi::pool::describe_pool_manager_config(config, vdi::pool::load_pool_manager_config(config, overrides));
    CHECK_THAT(text, Catch::Contains("[database]\ndsn = \"postgresql://vdi:***@127.0.0.1:5432/vdi\"\n"));
    CHECK_THAT(text, !Catch::Contains("s3cret-pw"));
    CHECK_THAT(text, Catch::Contains("[log]\nlevel = \"info\"\n"));
    CHECK_THAT(text, Catch::Contains("[pool_manager]\nname = \"pm-7\"\ninterval_ms = 250\nheartbeat_timeout_s = 15\n"));
    CHECK_THAT(text, Catch::Contains("time_zone = \"UTC\"\nrefresh_deadline_s = 3600\nvcpu_overcommit = 8\n"));
    // what it prints is a configuration file the pool manager reads back to the same values
    const ConfigFile again(text);
    const auto reread = vdi::pool::load_pool_manager_config(vdi::Config::load(again.path()));
    CHECK(reread.name == "pm-7");
    CHECK(reread.interval == std::chrono::milliseconds(250));
}

TEST_CASE("vdi-pool-manager --check prints the effective configuration, then checks the schema", "[pool][config]")
{
    vdi::test::TestDatabase db;
    const ConfigFile file("[pool_manager]\nheartbeat_timeout_s = 42\n");
    const auto result = vdi::test::run_process(
        {VDI_POOL_MANAGER, "--dsn", db.dsn(), "--config", file.path().string(), "--name", "pm-check", "--check"});
    INFO(result.output);
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.output, Catch::Contains("name = \"pm-check\"") && Catch::Contains("heartbeat_timeout_s = 42"));
    CHECK_THAT(result.output, Catch::Contains("schema current"));
    CHECK_THAT(result.output, !Catch::Contains(db.dsn()));

    const ConfigFile typo("[pool_manager]\nnmae = \"x\"\n");
    const auto refused = vdi::test::run_process({VDI_POOL_MANAGER, "--dsn", db.dsn(), "--config", typo.path().string(), "--check"});
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.output, Catch::Contains("unknown key 'nmae'"));
}
