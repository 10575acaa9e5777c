// What an operator may type as the broker address, and what is refused.
#include <catch2/catch.hpp>

#include "vdi/thin_client/broker_endpoint.h"

using vdi::thin_client::parse_broker_endpoint;

TEST_CASE("broker endpoint: host names become https URLs on the default port", "[thin-client]")
{
    QString error;
    const auto bare = parse_broker_endpoint(QStringLiteral("broker.example.org"), &error);
    REQUIRE(bare);
    CHECK(bare->base_url.toString().toStdString() == "https://broker.example.org:8443/api/v1/");
    CHECK(bare->api(QStringLiteral("login")).toString().toStdString() == "https://broker.example.org:8443/api/v1/login");

    const auto with_port = parse_broker_endpoint(QStringLiteral("  https://10.1.2.3:9443/  "), &error);
    REQUIRE(with_port);
    CHECK(with_port->base_url.port() == 9443);
    CHECK(with_port->api(QStringLiteral("desktops")).toString().toStdString() == "https://10.1.2.3:9443/api/v1/desktops");
}

TEST_CASE("broker endpoint: plain http, credentials and garbage are refused with a reason", "[thin-client]")
{
    QString error;
    CHECK_FALSE(parse_broker_endpoint(QStringLiteral("http://broker"), &error));
    CHECK(error.contains(QStringLiteral("https")));
    CHECK_FALSE(parse_broker_endpoint(QStringLiteral("https://user:pw@broker"), &error));
    CHECK(error.contains(QStringLiteral("credentials")));
    CHECK_FALSE(parse_broker_endpoint(QStringLiteral(""), &error));
    CHECK(error.contains(QStringLiteral("No broker")));
    CHECK_FALSE(parse_broker_endpoint(QStringLiteral("https://"), &error));
}
