// Reading the [broker] configuration section.
#include "vdi/broker/broker_config.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "vdi/common/effective_config.h"
#include "vdi/common/error.h"

namespace vdi::broker {
void parse_listen(const std::string& listen, HttpServerConfig& http)
{
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        throw ConfigError("listen address '" + listen + "' must look like ADDRESS:PORT");
    }
    http.address = listen.substr(0, colon);
    if (http.address.size() > 2 && http.address.front() == '[' && http.address.back() == ']') {
        http.address = http.address.substr(1, http.address.size() - 2);
    }
    try {
        std::size_t used = 0;
        const int port = std::stoi(listen.substr(colon + 1), &used);
        if (used != listen.size() - colon - 1 || port < 0 || port > 65535) throw std::out_of_range("port");
        http.port = static_cast<unsigned short>(port);
    } catch (const std::exception&) {
        throw ConfigError("listen address '" + listen + "' has no valid port");
    }
}

BrokerConfig::BrokerConfig()
{
    http.address = "127.0.0.1";
    http.port = 8443;
    http.certificate = "var/broker/tls.crt";
    http.private_key = "var/broker/tls.key";
    // request threads wait only on the database (a connect's ticket acknowledgement holds none):
    // a few per core; more only add switching and unfairness (a worse p99)
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    http.threads = std::clamp(4 * cores, 4, 64);
    // statements in flight at once: PostgreSQL does best with a few per core busy; more only
    // queue inside it, unfairly (the pool's own queue is first come, first served)
    db_connections = std::clamp(2 * cores, 4, 64);
}

BrokerConfig load_broker_config(const Config& config, const BrokerOverrides& overrides)
{
    const toml::table& b = config.section("broker");
    reject_unknown_keys(b, "broker",
                   {"listen", "certificate", "private_key", "generate_certificate", "threads", "db_connections",
                    "token_ttl_s", "ticket_ttl_s", "ticket_delivery_timeout_ms", "retry_after_s", "trace_logons",
                    "argon2", "throttle", "limits"});
    BrokerConfig out;
    if (b.contains("listen")) parse_listen(config_string(b, "broker", "listen", ""), out.http);
    out.http.certificate = config_string(b, "broker", "certificate", out.http.certificate.string());
    out.http.private_key = config_string(b, "broker", "private_key", out.http.private_key.string());
    if (const auto* node = b.get("generate_certificate")) {
        const auto value = node->value<bool>();
        if (!value) throw ConfigError("[broker] generate_certificate must be true or false");
        out.generate_certificate = *value;
    }
    out.http.threads = config_integer(b, "broker", "threads", out.http.threads, 1, 256);
    out.db_connections = config_integer(b, "broker", "db_connections", out.db_connections, 1, 256);
    auto& api = out.api;
    api.token_ttl = std::chrono::seconds(config_integer<long>(b, "broker", "token_ttl_s", api.token_ttl.count(), 60, 30L * 86400));
    api.ticket_ttl = std::chrono::seconds(config_integer<long>(b, "broker", "ticket_ttl_s", api.ticket_ttl.count(), 5, 3600));
    api.ticket_delivery_timeout = std::chrono::milliseconds(config_integer<long>(
        b, "broker", "ticket_delivery_timeout_ms", api.ticket_delivery_timeout.count(), 100, 60000));
    api.retry_after_s = config_integer(b, "broker", "retry_after_s", api.retry_after_s, 1, 3600);
    if (const auto* node = b.get("trace_logons")) {
        const auto value = node->value<bool>();
        if (!value) throw ConfigError("[broker] trace_logons must be true or false");
        api.trace_logons = *value;
    }

    const auto& argon = config_table(b, "broker", "argon2");
    reject_unknown_keys(argon, "broker.argon2", {"ops_limit", "mem_limit_kib"});
    auto& hash = api.password_hash;
    hash.ops_limit = config_integer<unsigned long long>(argon, "broker.argon2", "ops_limit", hash.ops_limit, 1, 20);
    hash.mem_limit =
        config_integer<std::size_t>(argon, "broker.argon2", "mem_limit_kib", hash.mem_limit / 1024, 8, 4 * 1024 * 1024) * 1024;

    const auto& throttle = config_table(b, "broker", "throttle");
    reject_unknown_keys(throttle, "broker.throttle",
                   {"user_failures_before_lock", "address_failures_before_lock", "first_lock_s", "max_lock_s"});
    auto& t = api.throttle;
    t.user_failures_before_lock =
        config_integer(throttle, "broker.throttle", "user_failures_before_lock", t.user_failures_before_lock, 1, 1000);
    t.address_failures_before_lock = config_integer(throttle, "broker.throttle", "address_failures_before_lock",
                                                    t.address_failures_before_lock, 1, 100000);
    t.first_lock = std::chrono::seconds(
        config_integer<long>(throttle, "broker.throttle", "first_lock_s", t.first_lock.count(), 1, 86400));
    t.max_lock = std::chrono::seconds(
        config_integer<long>(throttle, "broker.throttle", "max_lock_s", t.max_lock.count(), 1, 7 * 86400));

    const auto& limits = config_table(b, "broker", "limits");
    reject_unknown_keys(limits, "broker.limits",
                   {"header_bytes", "body_bytes", "handshake_timeout_ms", "request_timeout_ms", "idle_timeout_ms",
                    "max_connections"});
    auto& l = out.http.limits;
    l.header_bytes = config_integer<std::size_t>(limits, "broker.limits", "header_bytes", l.header_bytes, 1024, 1 << 20);
    l.body_bytes = config_integer<std::size_t>(limits, "broker.limits", "body_bytes", l.body_bytes, 1024, 16 << 20);
    l.handshake_timeout = std::chrono::milliseconds(
        config_integer<long>(limits, "broker.limits", "handshake_timeout_ms", l.handshake_timeout.count(), 100, 600000));
    l.request_timeout = std::chrono::milliseconds(
        config_integer<long>(limits, "broker.limits", "request_timeout_ms", l.request_timeout.count(), 100, 600000));
    l.idle_timeout = std::chrono::milliseconds(
        config_integer<long>(limits, "broker.limits", "idle_timeout_ms", l.idle_timeout.count(), 100, 3600000));
    l.max_connections = config_integer(limits, "broker.limits", "max_connections", l.max_connections, 1, 1000000);

    if (overrides.listen) parse_listen(*overrides.listen, out.http);
    if (overrides.certificate) out.http.certificate = *overrides.certificate;
    if (overrides.private_key) out.http.private_key = *overrides.private_key;
    if (overrides.generate_certificate) out.generate_certificate = true;
    return out;
}

std::string describe_broker_config(const Config& config, const BrokerConfig& broker)
{
    const auto number = [](auto value) { return static_cast<long long>(value); };
    EffectiveConfig out;
    out.add_common(config);
    out.section("broker");
    const bool ipv6 = broker.http.address.find(':') != std::string::npos;
    out.add("listen", ipv6 ? fmt::format("[{}]:{}", broker.http.address, broker.http.port)
                           : fmt::format("{}:{}", broker.http.address, broker.http.port));
    out.add("certificate", broker.http.certificate.string());
    out.add("private_key", broker.http.private_key.string());
    out.add("generate_certificate", broker.generate_certificate);
    out.add("threads", number(broker.http.threads));
    out.add("db_connections", number(broker.db_connections));
    out.add("token_ttl_s", number(broker.api.token_ttl.count()));
    out.add("ticket_ttl_s", number(broker.api.ticket_ttl.count()));
    out.add("ticket_delivery_timeout_ms", number(broker.api.ticket_delivery_timeout.count()));
    out.add("retry_after_s", number(broker.api.retry_after_s));
    out.add("trace_logons", broker.api.trace_logons);
    out.section("broker.argon2");
    out.add("ops_limit", number(broker.api.password_hash.ops_limit));
    out.add("mem_limit_kib", number(broker.api.password_hash.mem_limit / 1024));
    out.section("broker.throttle");
    const auto& t = broker.api.throttle;
    out.add("user_failures_before_lock", number(t.user_failures_before_lock));
    out.add("address_failures_before_lock", number(t.address_failures_before_lock));
    out.add("first_lock_s", number(t.first_lock.count()));
    out.add("max_lock_s", number(t.max_lock.count()));
    out.section("broker.limits");
    const auto& l = broker.http.limits;
    out.add("header_bytes", number(l.header_bytes));
    out.add("body_bytes", number(l.body_bytes));
    out.add("handshake_timeout_ms", number(l.handshake_timeout.count()));
    out.add("request_timeout_ms", number(l.request_timeout.count()));
    out.add("idle_timeout_ms", number(l.idle_timeout.count()));
    out.add("max_connections", number(l.max_connections));
    return out.text();
}

}  // namespace vdi::broker
