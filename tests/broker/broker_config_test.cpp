// The broker's configuration: defaults stated once, the file, command-line overrides, refusals,
// and the effective configuration that `vdi-broker --check` prints.
#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "vdi/broker/broker_config.h"
#include "vdi/common/error.h"

namespace fs = std::filesystem;
using vdi::broker::BrokerConfig;
using vdi::broker::BrokerOverrides;

namespace {

vdi::Config load_text(const std::string& text)
{
    const auto path = fs::temp_directory_path() / ("vdi-broker-config-" + std::to_string(::getpid()) + ".toml");
    std::ofstream(path) << text;
    vdi::ConfigOverrides overrides;
    overrides.dsn = "postgresql://vdi:s3cret-pw@db.example:5432/vdi";
    auto config = vdi::Config::load(path, overrides);
    fs::remove(path);
    return config;
}

}  // namespace

TEST_CASE("broker config: without a [broker] section every value is BrokerConfig's default", "[broker][unit][config]")
{
    const auto broker = vdi::broker::load_broker_config(load_text(""));
    const BrokerConfig defaults;
    CHECK(broker.http.address == "127.0.0.1");
    CHECK(broker.http.port == 8443);
    CHECK(broker.http.certificate == defaults.http.certificate);
    CHECK(broker.http.private_key == defaults.http.private_key);
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    CHECK(broker.http.threads == std::clamp(4 * cores, 4, 64));
    CHECK(broker.db_connections == std::clamp(2 * cores, 4, 64));
    CHECK_FALSE(broker.generate_certificate);
    CHECK(broker.api.token_ttl == defaults.api.token_ttl);
    CHECK(broker.api.ticket_ttl == std::chrono::seconds(60));
    CHECK(broker.api.ticket_delivery_timeout == defaults.api.ticket_delivery_timeout);
    CHECK(broker.api.retry_after_s == defaults.api.retry_after_s);
    CHECK(broker.api.password_hash.ops_limit == defaults.api.password_hash.ops_limit);
    CHECK(broker.api.password_hash.mem_limit == defaults.api.password_hash.mem_limit);
    CHECK(broker.api.throttle.max_lock == defaults.api.throttle.max_lock);
    CHECK(broker.http.limits.body_bytes == defaults.http.limits.body_bytes);
    CHECK(broker.http.limits.max_connections == defaults.http.limits.max_connections);
}

TEST_CASE("broker config: the command line wins over the file", "[broker][unit][config]")
{
    const std::string file = "[broker]\nlisten = \"0.0.0.0:9443\"\ncertificate = \"/etc/vdi/b.crt\"\n"
                             "private_key = \"/etc/vdi/b.key\"\nticket_ttl_s = 30\n";
    auto broker = vdi::broker::load_broker_config(load_text(file));
    CHECK(broker.http.address == "0.0.0.0");
    CHECK(broker.http.port == 9443);
    CHECK(broker.http.certificate == "/etc/vdi/b.crt");
    CHECK(broker.api.ticket_ttl == std::chrono::seconds(30));

    BrokerOverrides overrides;
    overrides.listen = "[::1]:0";
    overrides.certificate = "/tmp/c.crt";
    overrides.private_key = "/tmp/c.key";
    overrides.generate_certificate = true;
    broker = vdi::broker::load_broker_config(load_text(file), overrides);
    CHECK(broker.http.address == "::1");
    CHECK(broker.http.port == 0);
    CHECK(broker.http.certificate == "/tmp/c.crt");
    CHECK(broker.http.private_key == "/tmp/c.key");
    CHECK(broker.generate_certificate);
    CHECK(broker.api.ticket_ttl == std::chrono::seconds(30));  // not overridden: the file's

    overrides = {};
    overrides.listen = "no-port";
    CHECK_THROWS_WITH(vdi::broker::load_broker_config(load_text(file), overrides), Catch::Contains("ADDRESS:PORT"));
}

TEST_CASE("broker config: unknown keys anywhere are refused, naming the table", "[broker][unit][config]")
{
    CHECK_THROWS_WITH(vdi::broker::load_broker_config(load_text("[broker]\ntoken_ttl = 60\n")),
                      Catch::Contains("[broker]: unknown key 'token_ttl'"));
    CHECK_THROWS_WITH(vdi::broker::load_broker_config(load_text("[broker.limits]\nbody = 1\n")),
                      Catch::Contains("[broker.limits]: unknown key 'body'"));
    CHECK_THROWS_WITH(vdi::broker::load_broker_config(load_text("[broker.throttle]\nfirst_lock = 1\n")),
                      Catch::Contains("[broker.throttle]: unknown key 'first_lock'"));
    CHECK_THROWS_AS(vdi::broker::load_broker_config(load_text("[broker]\ngenerate_certificate = \"yes\"\n")),
                    vdi::ConfigError);
}

TEST_CASE("broker config: --check's effective configuration masks the DSN and reads back the same", "[broker][unit][config]")
{
    BrokerOverrides overrides;
    overrides.listen = "127.0.0.1:9000";
    const auto config = load_text("[broker]\nthreads = 6\n[broker.argon2]\nmem_limit_kib = 1024\n");
    const auto broker = vdi::broker::load_broker_config(config, overrides);
    const auto text = vdi::broker::describe_broker_config(config, broker);
    CHECK_THAT(text, Catch::Contains("dsn = \"postgresql://vdi:***@db.example:5432/vdi\""));
    CHECK_THAT(text, !Catch::Contains("s3cret-pw"));
    CHECK_THAT(text, Catch::Contains("[broker]\nlisten = \"127.0.0.1:9000\"\n"));
    CHECK_THAT(text, Catch::Contains("threads = 6\n"));
    CHECK_THAT(text, Catch::Contains("[broker.argon2]\nops_limit = 3\nmem_limit_kib = 1024\n"));
    CHECK_THAT(text, Catch::Contains("[broker.limits]\nheader_bytes = 8192\n"));

    const auto reread = vdi::broker::load_broker_config(load_text(text));
    CHECK(reread.http.port == 9000);
    CHECK(reread.http.threads == 6);
    CHECK(reread.api.password_hash.mem_limit == 1024u * 1024);
    CHECK(reread.http.limits.idle_timeout == broker.http.limits.idle_timeout);
    CHECK(reread.db_connections == broker.db_connections);
}
