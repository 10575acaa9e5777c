// vdi-broker: the HTTPS API for thin clients and administrators (docs/api.md).
#include <csignal>
#include <fstream>
#include <iostream>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "vdi/broker/api.h"
#include "vdi/broker/broker_config.h"
#include "vdi/broker/connection_pool.h"
#include "vdi/broker/http_server.h"
#include "vdi/broker/metrics.h"
#include "vdi/broker/ticket_delivery.h"
#include "vdi/common/component.h"
#include "vdi/common/db/database.h"
#include "vdi/common/tls_certificate.h"
#include "vdi/common/logging.h"

int main(int argc, char** argv)
{
    CLI::App app{"vdi-broker: the HTTPS API for thin clients and administrators"};
    vdi::CommonOptions common;
    vdi::add_common_options(app, common);
    bool check = false;
    std::string port_file;
    vdi::broker::BrokerOverrides overrides;
    app.add_flag("--check", check,
                 "print the effective configuration, validate it and the database schema, then exit");
    app.add_option("--listen", overrides.listen,
                   "ADDRESS:PORT to serve on (overrides [broker] listen; port 0: any free port)");
    app.add_option("--certificate", overrides.certificate, "PEM certificate chain (overrides [broker] certificate)");
    app.add_option("--private-key", overrides.private_key, "PEM private key (overrides [broker] private_key)");
    app.add_flag("--generate-certificate", overrides.generate_certificate,
                 "create a self-signed certificate and key if the files are missing (demo)");
    app.add_option("--port-file", port_file, "write the port served on to this file once listening");
    CLI11_PARSE(app, argc, argv);

    return vdi::run_main("vdi-broker", [&]() -> int {
        const vdi::Config config = vdi::load_component_config(common);
        const vdi::broker::BrokerConfig broker = vdi::broker::load_broker_config(config, overrides);
        if (check) {
            std::cout << vdi::broker::describe_broker_config(config, broker) << "\n";
            return vdi::check_database(config, "vdi-broker");
        }
        if (broker.generate_certificate) {
            // valid for the names a client on this machine uses, and the address served on
            std::vector<std::string> names = {"DNS:localhost", "IP:127.0.0.1", "IP:::1"};
            char host[256] = {};
            if (::gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') names.push_back(std::string("DNS:") + host);
            if (broker.http.address != "127.0.0.1" && broker.http.address != "0.0.0.0" && broker.http.address != "::") {
                names.push_back((broker.http.address.find_first_not_of("0123456789.:") == std::string::npos ? "IP:" : "DNS:") +
                                broker.http.address);
            }
            vdi::ensure_certificate(broker.http.certificate, broker.http.private_key, "vdi-broker", names);
        }
        const std::string dsn = config.require_dsn();
        {
            // refuse to serve against a schema this build does not know
            auto connection = vdi::db::connect(dsn, "vdi-broker");
            vdi::require_current_schema(*connection);
        }

        // SIGTERM/SIGINT are taken by this thread only (sigwait below), never by request threads
        sigset_t signals;
        sigemptyset(&signals);
        sigaddset(&signals, SIGTERM);
        sigaddset(&signals, SIGINT);
        pthread_sigmask(SIG_BLOCK, &signals, nullptr);

        vdi::broker::Metrics metrics;
        vdi::broker::ConnectionPool pool(dsn, "vdi-broker", broker.db_connections);
        vdi::broker::TicketDelivery tickets(dsn);
        vdi::broker::Api api(broker.api, pool, tickets, metrics);
        vdi::broker::HttpServer server(
            broker.http,
            [&](const vdi::broker::HttpRequest& request, const vdi::broker::RequestContext& context,
                vdi::broker::HttpServer::Respond respond) { api.handle(request, context, std::move(respond)); },
            [](unsigned status, const std::string& message) {
                return vdi::broker::Api::error_response(status, status == 413   ? "body_too_large"
                                                                : status == 431 ? "headers_too_large"
                                                                                : "bad_request",
                                                        message);
            });
        server.start();
        vdi::logger("broker")->info("listening url=https://{}:{} threads={} db_connections={}", broker.http.address,
                                server.port(), broker.http.threads, broker.db_connections);
        if (!port_file.empty()) {
            const std::string temporary = port_file + ".tmp";
            std::ofstream(temporary) << server.port() << "\n";
            std::filesystem::rename(temporary, port_file);
        }
        int signal = 0;
        sigwait(&signals, &signal);
        vdi::logger("broker")->info("stopping: finishing requests in flight signal={}", signal);
        server.shutdown(std::chrono::seconds(10));
        tickets.stop();  // (its waiting requests hold connections of the server: dropped first)
        vdi::logger("broker")->info("stopped");
        return 0;
    });
}
