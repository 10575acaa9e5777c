// The host agent's configuration: [hostd] of its TOML file, the command line's overrides, and
// `vdi-hostd --check` printing what it would run with.
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <toml++/toml.h>

#include "vdi/common/config.h"
#include "vdi/hostd/hostd_config.h"
#include "vdi/test/process.h"
#include "vdi/test/test_database.h"

using vdi::hostd::HostdConfig;
using vdi::hostd::HostdOverrides;
using vdi::hostd::load_hostd_config;
using vdi::test::run_process;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const std::string test_dsn = "postgresql://vdi@127.0.0.1:1/vdi";

// A TOML file that goes away with the object.
struct ConfigFile {
    explicit ConfigFile(const std::string& text)
        : path(fs::temp_directory_path() / ("vdi-hostd-config-" + std::to_string(::getpid()) + "-" +
                                            std::to_string(counter++) + ".toml"))
    {
        std::ofstream(path) << text;
    }
    ~ConfigFile() { fs::remove(path); }
    vdi::Config load(std::optional<std::string> dsn = test_dsn) const
    {
        vdi::ConfigOverrides overrides;
        overrides.dsn = dsn;
        return vdi::Config::load(path, overrides);
    }
    fs::path path;
    static inline int counter = 0;
};

HostdConfig load(const std::string& toml, const HostdOverrides& overrides = {})
{
    return load_hostd_config(ConfigFile(toml).load(), overrides);
}

}  // namespace

TEST_CASE("hostd config: without a [hostd] section every default is this machine's or the struct's", "[hostd][config]")
{
    const HostdConfig config = load("");
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    CHECK(config.dsn == test_dsn);
    CHECK(config.name == host);
    CHECK(config.address == "127.0.0.1");
    CHECK(config.display_bind == "127.0.0.1");
    CHECK(config.vcpus_total == ::sysconf(_SC_NPROCESSORS_ONLN));
    CHECK(config.memory_mib_total > 0);
    CHECK(config.max_concurrent_ops == 4);
    CHECK(config.state_dir == fs::absolute("var/hostd"));
    CHECK(config.vmm_binary == fs::canonical("/proc/self/exe").parent_path() / "vdi-vmm");
    CHECK(config.sandbox_vmms);
    CHECK(config.heartbeat == 2000ms);
    CHECK(config.resync == 5000ms);
    CHECK(config.vmm_start_timeout == 30000ms);
    CHECK(config.client_grace == 60s);
}

TEST_CASE("hostd config: [hostd] sets every key, and the command line overrides the file", "[hostd][config]")
{
    const ConfigFile file(R"([hostd]
name = "hv1"
address = "10.0.0.11"
display_bind = "0.0.0.0"
vcpus = 16
memory_mib = 65536
max_concurrent_ops = 8
state_dir = "/var/lib/vdi/hostd"
vmm = "/usr/libexec/vdi/vdi-vmm"
sandbox = false
heartbeat_ms = 1000
resync_ms = 3000
vmm_start_timeout_ms = 60000
client_grace_s = 120
)");
    const HostdConfig from_file = load_hostd_config(file.load());
    CHECK(from_file.name == "hv1");
    CHECK(from_file.address == "10.0.0.11");
    CHECK(from_file.display_bind == "0.0.0.0");
    CHECK(from_file.vcpus_total == 16);
    CHECK(from_file.memory_mib_total == 65536);
    CHECK(from_file.max_concurrent_ops == 8);
    CHECK(from_file.state_dir == "/var/lib/vdi/hostd");
    CHECK(from_file.vmm_binary == "/usr/libexec/vdi/vdi-vmm");
    CHECK_FALSE(from_file.sandbox_vmms);
    CHECK(from_file.heartbeat == 1000ms);
    CHECK(from_file.resync == 3000ms);
    CHECK(from_file.vmm_start_timeout == 60000ms);
    CHECK(from_file.client_grace == 120s);

    HostdOverrides overrides;
    overrides.name = "hv2";
    overrides.address = "10.0.0.12";
    overrides.vcpus_total = 4;
    overrides.state_dir = "relative/state";
    overrides.vmm_binary = "/opt/vdi-vmm";
    overrides.heartbeat_ms = 300;
    overrides.resync_ms = 500;
    overrides.client_grace_s = 2;
    const HostdConfig overridden = load_hostd_config(file.load(), overrides);
    CHECK(overridden.name == "hv2");
    CHECK(overridden.address == "10.0.0.12");
    CHECK(overridden.display_bind == "0.0.0.0");  // not overridden: the file's
    CHECK(overridden.vcpus_total == 4);
    CHECK(overridden.memory_mib_total == 65536);
    CHECK(overridden.state_dir == fs::absolute("relative/state"));
    CHECK(overridden.vmm_binary == "/opt/vdi-vmm");
    CHECK(overridden.heartbeat == 300ms);
    CHECK(overridden.resync == 500ms);
    CHECK(overridden.client_grace == 2s);

    HostdOverrides no_sandbox;
    no_sandbox.no_sandbox = true;
    CHECK_FALSE(load("[hostd]\nsandbox = true\n", no_sandbox).sandbox_vmms);
}

TEST_CASE("hostd config: unknown keys, wrong types and values out of range are refused by name", "[hostd][config]")
{
    CHECK_THROWS_WITH(load("[hostd]\nheartbeat = 1000\n"), "[hostd]: unknown key 'heartbeat'");
    CHECK_THROWS_WITH(load("[hostd]\nheartbeat_ms = 5\n"), "[hostd] heartbeat_ms must be an integer from 10 to 3600000");
    CHECK_THROWS_WITH(load("[hostd]\nvcpus = \"four\"\n"), "[hostd] vcpus must be an integer from 0 to 4096");
    CHECK_THROWS_WITH(load("[hostd]\nname = 7\n"), "[hostd] name must be a string");
    CHECK_THROWS_WITH(load("[hostd]\nsandbox = \"no\"\n"), "[hostd] sandbox must be true or false");
    CHECK_THROWS_WITH(load("[hostd]\naddress = \"\"\n"), "[hostd] address must not be empty");
    CHECK_THROWS_WITH(load("hostd = 3\n"), Catch::Contains("'hostd' must be a table"));
    HostdOverrides overrides;
    overrides.resync_ms = 0;
    CHECK_THROWS_WITH(load("", overrides), "--resync-ms must be an integer from 10 to 3600000");
    overrides = {};
    overrides.max_concurrent_ops = 0;
    CHECK_THROWS_WITH(load("", overrides), "--max-concurrent-ops must be an integer from 1 to 1024");
    overrides = {};
    overrides.address = "";
    CHECK_THROWS_WITH(load("", overrides), "--address must not be empty");
    // no database configured anywhere (no --dsn, no $VDI_DSN, no ./var/db.dsn here): it cannot run
    const ConfigFile empty("");
    ::unsetenv("VDI_DSN");
    REQUIRE_FALSE(fs::exists("var/db.dsn"));
    CHECK_THROWS_WITH(load_hostd_config(empty.load(std::nullopt)), Catch::Contains("no database configured"));
}

TEST_CASE("hostd config: the TOML it prints is a config file that loads to the same configuration", "[hostd][config]")
{
    HostdOverrides overrides;
    overrides.name = "hv \"quoted\"";
    overrides.no_sandbox = true;
    const HostdConfig config = load("[hostd]\nresync_ms = 700\n", overrides);
    const std::string printed = vdi::hostd::to_toml(config);
    CHECK_THAT(printed, Catch::StartsWith("[hostd]"));
    const HostdConfig again = load(printed);
    CHECK(again.name == config.name);
    CHECK(again.address == config.address);
    CHECK(again.display_bind == config.display_bind);
    CHECK(again.vcpus_total == config.vcpus_total);
    CHECK(again.memory_mib_total == config.memory_mib_total);
    CHECK(again.max_concurrent_ops == config.max_concurrent_ops);
    CHECK(again.state_dir == config.state_dir);
    CHECK(again.vmm_binary == config.vmm_binary);
    CHECK(again.sandbox_vmms == false);
    CHECK(again.heartbeat == config.heartbeat);
    CHECK(again.resync == 700ms);
    CHECK(again.vmm_start_timeout == config.vmm_start_timeout);
    CHECK(again.client_grace == config.client_grace);
}

TEST_CASE("vdi-hostd --check: prints the effective configuration, then checks the database", "[hostd][config][cli]")
{
    vdi::test::TestDatabase db;
    const ConfigFile file("[database]\ndsn = \"" + db.dsn() + "\"\n[hostd]\nname = \"check-host\"\nvmm = \"" VDI_VMM
                          "\"\nresync_ms = 700\n");
    const auto ok = run_process({VDI_HOSTD, "--config", file.path.string(), "--heartbeat-ms", "300", "--check"});
    INFO(ok.output);
    CHECK(ok.exit_code == 0);
    CHECK_THAT(ok.output, Catch::Contains("[hostd]"));
    CHECK_THAT(ok.output, Catch::Contains("name = 'check-host'") || Catch::Contains("name = \"check-host\""));
    CHECK_THAT(ok.output, Catch::Contains("heartbeat_ms = 300") && Catch::Contains("resync_ms = 700"));
    CHECK_THAT(ok.output, Catch::Contains("client_grace_s = 60"));  // a default, stated
    CHECK_THAT(ok.output, Catch::Contains("vdi-hostd: configuration ok") && Catch::Contains("schema current"));
    CHECK_THAT(ok.output, !Catch::Contains(db.dsn()));  // the DSN (a password, possibly) is not printed
    // nothing was registered: --check only looks
    pqxx::work tx(db.connection());
    CHECK(tx.exec1("SELECT count(*) FROM hosts")[0].as<int>() == 0);
    tx.commit();

    const ConfigFile typo("[database]\ndsn = \"" + db.dsn() + "\"\n[hostd]\nresync = 700\n");
    const auto refused = run_process({VDI_HOSTD, "--config", typo.path.string(), "--check"});
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.output, Catch::Contains("vdi-hostd: error: [hostd]: unknown key 'resync'"));

    const auto no_vmm = run_process({VDI_HOSTD, "--config", file.path.string(), "--vmm", "/nonexistent/vdi-vmm", "--check"});
    CHECK(no_vmm.exit_code == 1);
    CHECK_THAT(no_vmm.output, Catch::Contains("the VMM binary /nonexistent/vdi-vmm is not an executable file"));

    vdi::test::TestDatabase unmigrated(vdi::test::TestDatabase::Schema::empty);
    const auto old_schema = run_process({VDI_HOSTD, "--dsn", unmigrated.dsn(), "--vmm", VDI_VMM, "--check"});
    CHECK(old_schema.exit_code == 1);
    CHECK_THAT(old_schema.output, Catch::Contains("schema is at version 0") && Catch::Contains("vdictl migrate"));

    const auto unreachable = run_process(
        {VDI_HOSTD, "--dsn", "postgresql://vdi:topsecret@127.0.0.1:1/vdi", "--vmm", VDI_VMM, "--check"});
    CHECK(unreachable.exit_code == 1);
    CHECK_THAT(unreachable.output, Catch::Contains("cannot connect to PostgreSQL at postgresql://vdi:***@127.0.0.1:1"));
    CHECK_THAT(unreachable.output, !Catch::Contains("topsecret"));
}
