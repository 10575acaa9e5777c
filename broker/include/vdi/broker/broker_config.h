// The [broker] section of the broker's configuration file (all keys optional; each default is
// stated once, by BrokerConfig's constructor and the structs it holds):
//
//   [broker]
//   listen = "127.0.0.1:8443"            # ADDRESS:PORT (port 0: any free port)
//   certificate = "/etc/vdi/broker.crt"  # PEM; with generate_certificate, created self-signed
//   private_key = "/etc/vdi/broker.key"  #   if missing (the demo does this)
//   generate_certificate = false
//   threads = 8                          # request threads (wait only on the database);
//                                        #   default 4 per core, between 4 and 64
//   db_connections = 4                   # statements in flight; default 2 per core, 4 to 64
//                                        #   (replicas sharing a machine split it)
//   token_ttl_s = 28800                  # session tokens of logged-in clients
//   ticket_ttl_s = 60                    # one-time display tickets
//   ticket_delivery_timeout_ms = 5000    # how long connect waits for the host agent
//   retry_after_s = 5
//   [broker.argon2]      ops_limit = 3, mem_limit_kib = 65536
//   [broker.throttle]    user_failures_before_lock = 5, address_failures_before_lock = 20,
//                        first_lock_s = 30, max_lock_s = 900
//   [broker.limits]      header_bytes = 8192, body_bytes = 65536, handshake_timeout_ms = 10000,
//                        request_timeout_ms = 10000, idle_timeout_ms = 30000, max_connections = 4096
// Unknown keys are errors (ConfigError naming them), so a typo never passes silently.
#pragma once

#include <optional>
#include <string>

#include "vdi/broker/api.h"
#include "vdi/broker/http_server.h"
#include "vdi/common/config.h"

namespace vdi::broker {

struct BrokerConfig {
    // The service's defaults where they differ from the library structs': listen on
    // 127.0.0.1:8443, the demo's certificate files, threads and db_connections from the cores.
    BrokerConfig();

    HttpServerConfig http;
    ApiSettings api;
    int db_connections = 4;
    bool generate_certificate = false;
};

// The command line's say over the file.
struct BrokerOverrides {
    std::optional<std::string> listen;       // --listen ADDRESS:PORT
    std::optional<std::string> certificate;  // --certificate
    std::optional<std::string> private_key;  // --private-key
    bool generate_certificate = false;       // --generate-certificate (only turns it on)
};

// The file's [broker] section over the defaults, the overrides over both. ConfigError naming
// the key for an unknown key or a bad value.
BrokerConfig load_broker_config(const Config& config, const BrokerOverrides& overrides = {});

// The effective configuration as `--check` prints it: [database] (the DSN's password masked),
// [log] and every [broker] key. No secret is printed, only the paths of the key files.
std::string describe_broker_config(const Config& config, const BrokerConfig& broker);

// "ADDRESS:PORT" into the server config. ConfigError when malformed.
void parse_listen(const std::string& listen, HttpServerConfig& http);

}  // namespace vdi::broker
