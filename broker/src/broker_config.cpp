// Reading the [broker] configuration section.
#include "vdi/broker/broker_config.h"

#include <algorithm>
#include <thread>

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

BrokerConfig load_broker_config(const Config& config)
{
    const toml::table& b = config.section("broker");
    reject_unknown_keys(b, "broker",
                   {"listen", "certificate", "private_key", "generate_certificate", "threads", "db_connections",
                    "token_ttl_s", "ticket_ttl_s", "ticket_delivery_timeout_ms", "retry_after_s", "argon2",
                    "throttle", "limits"});
    BrokerConfig out;
    parse_listen(config_string(b, "broker", "listen", "127.0.0.1:8443"), out.http);
    out.http.certificate = config_string(b, "broker", "certificate", "var/broker/tls.crt");
    out.http.private_key = config_string(b, "broker", "private_key", "var/broker/tls.key");
    if (const auto* node = b.get("generate_certificate")) {
        const auto value = node->value<bool>();
        if (!value) throw ConfigError("[broker] generate_certificate must be true or false");
        out.generate_certificate = *value;
    }
    // request threads wait only on the database (a connect's ticket acknowledgement holds none):
    // a few per core; more only add switching and unfairness (a worse p99)
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    out.http.threads = config_integer(b, "broker", "threads", std::clamp(4 * cores, 4, 64), 1, 256);
    // statements in flight at once: PostgreSQL does best with a few per core busy; more only
    // queue inside it, unfairly (the pool's own queue is first come, first served)
    out.db_connections = config_integer(b, "broker", "db_connections", std::clamp(2 * cores, 4, 64), 1, 256);
    out.api.token_ttl = std::chrono::seconds(config_integer<long>(b, "broker", "token_ttl_s", 8 * 3600, 60, 30L * 86400));
    out.api.ticket_ttl = std::chrono::seconds(config_integer<long>(b, "broker", "ticket_ttl_s", 60, 5, 3600));
    out.api.ticket_delivery_timeout =
        std::chrono::milliseconds(config_integer<long>(b, "broker", "ticket_delivery_timeout_ms", 5000, 100, 60000));
    out.api.retry_after_s = config_integer(b, "broker", "retry_after_s", 5, 1, 3600);

    const auto& argon = config_table(b, "broker", "argon2");
    reject_unknown_keys(argon, "broker.argon2", {"ops_limit", "mem_limit_kib"});
    out.api.password_hash.ops_limit = config_integer<unsigned long long>(argon, "broker.argon2", "ops_limit", 3, 1, 20);
    out.api.password_hash.mem_limit =
        config_integer<std::size_t>(argon, "broker.argon2", "mem_limit_kib", 65536, 8, 4 * 1024 * 1024) * 1024;

    const auto& throttle = config_table(b, "broker", "throttle");
    reject_unknown_keys(throttle, "broker.throttle",
                   {"user_failures_before_lock", "address_failures_before_lock", "first_lock_s", "max_lock_s"});
    auto& t = out.api.throttle;
    t.user_failures_before_lock = config_integer(throttle, "broker.throttle", "user_failures_before_lock", 5, 1, 1000);
    t.address_failures_before_lock = config_integer(throttle, "broker.throttle", "address_failures_before_lock", 20, 1, 100000);
    t.first_lock = std::chrono::seconds(config_integer<long>(throttle, "broker.throttle", "first_lock_s", 30, 1, 86400));
    t.max_lock = std::chrono::seconds(config_integer<long>(throttle, "broker.throttle", "max_lock_s", 900, 1, 7 * 86400));

    const auto& limits = config_table(b, "broker", "limits");
    reject_unknown_keys(limits, "broker.limits",
                   {"header_bytes", "body_bytes", "handshake_timeout_ms", "request_timeout_ms", "idle_timeout_ms",
                    "max_connections"});
    auto& l = out.http.limits;
    l.header_bytes = config_integer<std::size_t>(limits, "broker.limits", "header_bytes", 8192, 1024, 1 << 20);
    l.body_bytes = config_integer<std::size_t>(limits, "broker.limits", "body_bytes", 65536, 1024, 16 << 20);
    l.handshake_timeout = std::chrono::milliseconds(config_integer<long>(limits, "broker.limits", "handshake_timeout_ms", 10000, 100, 600000));
    l.request_timeout = std::chrono::milliseconds(config_integer<long>(limits, "broker.limits", "request_timeout_ms", 10000, 100, 600000));
    l.idle_timeout = std::chrono::milliseconds(config_integer<long>(limits, "broker.limits", "idle_timeout_ms", 30000, 100, 3600000));
    l.max_connections = config_integer(limits, "broker.limits", "max_connections", 4096, 1, 1000000);
    return out;
}

}  // namespace vdi::broker
