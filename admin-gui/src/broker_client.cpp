// The admin tools' HTTPS client: address parsing, certificate trust (CA, pin, system store), and
// requests over one keep-alive TLS connection.
#include "vdi/admin/broker_client.h"

#include "vdi/common/api/error.h"

#include <algorithm>
#include <cctype>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

namespace vdi::admin {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

// A broker answer is JSON of at most the broker's own limits; lists of 1000 rows fit easily.
constexpr std::uint64_t response_body_limit = 64ull * 1024 * 1024;

bool is_ip_literal(const std::string& host)
{
    boost::system::error_code error;
    net::ip::make_address(host, error);
    return !error;
}

std::string fingerprint_of(X509* certificate)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (X509_digest(certificate, EVP_sha256(), digest, &length) != 1) {
        return "";
    }
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += fmt::format("{}{:02X}", i == 0 ? "" : ":", digest[i]);
    }
    return out;
}

}  // namespace

BrokerAddress BrokerAddress::parse(const std::string& input)
{
    const auto fail = [&](const std::string& why) {
        return ConfigError(fmt::format("the broker address '{}' {}", input, why));
    };
    std::string text = input;
    text.erase(0, text.find_first_not_of(" \t"));
    text.erase(text.find_last_not_of(" \t") + 1);
    if (text.empty()) {
        throw ConfigError("no broker address given");
    }
    if (const auto scheme = text.find("://"); scheme != std::string::npos) {
        std::string name = text.substr(0, scheme);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        if (name != "https") {
            throw fail("must use https, not " + name);
        }
        text = text.substr(scheme + 3);
    }
    if (text.find_first_of("?#") != std::string::npos) {
        throw fail("must not contain a query or a fragment");
    }
    std::string path;
    if (const auto slash = text.find('/'); slash != std::string::npos) {
        path = text.substr(slash);
        text = text.substr(0, slash);
    }
    if (!path.empty() && path != "/" && path != "/api/v1" && path != "/api/v1/") {
        throw fail("must not have a path (the API is always under /api/v1)");
    }
    if (text.find('@') != std::string::npos) {
        throw fail("must not contain credentials (log in with --user instead)");
    }
    BrokerAddress address;
    std::string port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos) {
            throw fail("has an unclosed '['");
        }
        address.host = text.substr(1, close - 1);
        const std::string rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') throw fail("has text after ']'");
            port = rest.substr(1);
        }
    } else if (const auto colon = text.find(':'); colon != std::string::npos) {
        if (text.find(':', colon + 1) != std::string::npos) {
            throw fail("is an IPv6 address without brackets (write [ADDRESS]:PORT)");
        }
        address.host = text.substr(0, colon);
        port = text.substr(colon + 1);
    } else {
        address.host = text;
    }
    if (address.host.empty()) {
        throw fail("has no host name");
    }
    if (!port.empty() || text.back() == ':') {
        if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
            std::stoi(port) < 1 || std::stoi(port) > 65535) {
            throw fail("has an invalid port (1-65535)");
        }
        address.port = static_cast<unsigned short>(std::stoi(port));
    }
    return address;
}

std::string BrokerAddress::url() const
{
    const bool v6 = host.find(':') != std::string::npos;
    return fmt::format("https://{}{}{}:{}", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

std::string normalize_fingerprint(const std::string& text)
{
    std::string hex;
    for (const char c : text) {
        if (c == ':' || c == ' ') continue;
        if (!std::isxdigit(static_cast<unsigned char>(c))) {
            throw ConfigError(fmt::format("'{}' is not a SHA-256 fingerprint: expected 64 hex digits, colons allowed "
                                          "(openssl x509 -noout -fingerprint -sha256 -in CERT)",
                                          text));
        }
        hex.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
    if (hex.size() != 64) {
        throw ConfigError(fmt::format("'{}' is not a SHA-256 fingerprint: it has {} hex digits, not 64", text, hex.size()));
    }
    std::string out;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        if (i > 0) out.push_back(':');
        out += hex.substr(i, 2);
    }
    return out;
}

nlohmann::json BrokerResponse::json() const
{
    auto parsed = nlohmann::json::parse(body, nullptr, false);
    if (parsed.is_discarded()) {
        throw Error(fmt::format("the broker answered {} with a body that is not JSON: {}", status, body.substr(0, 200)));
    }
    return parsed;
}

std::optional<api::Error> BrokerResponse::error() const
{
    const auto parsed = nlohmann::json::parse(body, nullptr, false);
    try {
        return parsed.get<api::Error>();
    } catch (const std::exception&) {
        return std::nullopt;  // not the API's error body (a proxy's page, say)
    }
}

struct BrokerClient::Impl {
    BrokerAddress address;
    BrokerTrust trust;
    std::chrono::milliseconds timeout;
    net::io_context io;
    ssl::context tls{ssl::context::tls_client};
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream;
    beast::flat_buffer buffer;
    // what the last handshake's verification saw (set by the verify callback)
    std::string fingerprint_seen;
    std::string verify_failure;  // why the certificate was refused; "" if it was not

    Impl(BrokerAddress address_in, BrokerTrust trust_in, std::chrono::milliseconds timeout_in)
        : address(std::move(address_in)), trust(std::move(trust_in)), timeout(timeout_in)
    {
        tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
        if (trust.ca_file && trust.pin) {
            throw ConfigError("give either a CA file or a certificate fingerprint to trust, not both");
        }
        if (trust.ca_file) {
            boost::system::error_code error;
            tls.load_verify_file(trust.ca_file->string(), error);
            if (error) {
                throw ConfigError(fmt::format("cannot use {} as the broker's CA certificate: {} (a PEM file is "
                                              "needed, such as the broker's tls.crt)",
                                              trust.ca_file->string(), error.message()));
            }
        } else if (!trust.pin) {
            tls.set_default_verify_paths();
        }
        tls.set_verify_mode(ssl::verify_peer);
        tls.set_verify_callback([this](bool preverified, ssl::verify_context& context) {
            return verify(preverified, context);
        });
    }

    bool verify(bool preverified, ssl::verify_context& context)
    {
        X509_STORE_CTX* store = context.native_handle();
        if (X509* leaf = X509_STORE_CTX_get0_cert(store)) {
            fingerprint_seen = fingerprint_of(leaf);
        }
        if (trust.pin) {
            // the pinned certificate is trusted as it is, whoever issued it and for whichever name
            const bool match = fingerprint_seen == *trust.pin;
            if (!match) verify_failure = "pin";
            return match;
        }
        const bool ok = ssl::host_name_verification(address.host)(preverified, context);
        if (!ok && verify_failure.empty()) {
            const int error = X509_STORE_CTX_get_error(store);
            verify_failure = error != X509_V_OK ? X509_verify_cert_error_string(error)
                                                : "it was not issued for " + address.host;
        }
        return ok;
    }

    [[noreturn]] void fail_connection(const boost::system::system_error& e, const char* doing)
    {
        stream.reset();
        if (e.code() == beast::error::timeout || e.code() == net::error::timed_out) {
            throw BrokerUnreachable(BrokerUnreachable::Reason::timeout,
                                    fmt::format("the broker at {} did not answer within {} s ({})", address.url(),
                                                timeout.count() / 1000.0, doing));
        }
        throw BrokerUnreachable(BrokerUnreachable::Reason::connect,
                                fmt::format("cannot reach the broker at {}: {} (is vdi-broker running there?)",
                                            address.url(), e.code().message()));
    }

    void connect()
    {
        stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io, tls);
        buffer.clear();
        fingerprint_seen.clear();
        verify_failure.clear();
        auto& socket = beast::get_lowest_layer(*stream);
        try {
            tcp::resolver resolver(io);
            const auto endpoints = resolver.resolve(address.host, std::to_string(address.port));
            socket.expires_after(timeout);
            socket.connect(endpoints);
            socket.socket().set_option(tcp::no_delay(true));
        } catch (const boost::system::system_error& e) {
            fail_connection(e, "connecting");
        }
        if (!is_ip_literal(address.host)) {
            SSL_set_tlsext_host_name(stream->native_handle(), address.host.c_str());
        }
        try {
            stream->handshake(ssl::stream_base::client);
        } catch (const boost::system::system_error& e) {
            stream.reset();
            if (verify_failure == "pin") {
                throw BrokerUnreachable(BrokerUnreachable::Reason::pin_mismatch,
                                        fmt::format("the broker at {} presented a certificate with SHA-256 "
                                                    "fingerprint {}, not the pinned {}; refused",
                                                    address.url(), fingerprint_seen, *trust.pin),
                                        fingerprint_seen);
            }
            if (!verify_failure.empty()) {
                throw BrokerUnreachable(
                    BrokerUnreachable::Reason::untrusted_certificate,
                    fmt::format("the broker at {} presented a certificate that is not trusted ({}; checked against "
                                "{}); its SHA-256 fingerprint is {}",
                                address.url(), verify_failure,
                                trust.ca_file ? trust.ca_file->string() : std::string("the system's trust store"),
                                fingerprint_seen),
                    fingerprint_seen);
            }
            if (e.code() == beast::error::timeout) {
                fail_connection(e, "during the TLS handshake");
            }
            throw BrokerUnreachable(BrokerUnreachable::Reason::tls,
                                    fmt::format("the TLS handshake with {} failed: {} (is it a vdi-broker?)",
                                                address.url(), e.code().message()));
        }
    }

    void close()
    {
        if (stream) {
            beast::get_lowest_layer(*stream).close();
            stream.reset();
        }
    }
};

BrokerClient::BrokerClient(BrokerAddress address, BrokerTrust trust, std::chrono::milliseconds timeout)
    : address_(address), impl_(std::make_unique<Impl>(std::move(address), std::move(trust), timeout))
{
}

BrokerClient::~BrokerClient() = default;

BrokerResponse BrokerClient::request(std::string_view method, const std::string& target,
                                     const std::optional<nlohmann::json>& body)
{
    http::request<http::string_body> request{http::string_to_verb(beast::string_view(method.data(), method.size())),
                                             target, 11};
    request.set(http::field::host, address_.host);
    request.set(http::field::user_agent, "vdi-admin");
    request.set(http::field::accept, "application/json");
    if (!token_.empty()) request.set(http::field::authorization, "Bearer " + token_);
    if (body) {
        request.set(http::field::content_type, "application/json");
        request.body() = body->dump();
    }
    request.keep_alive(true);
    request.prepare_payload();

    // A kept-alive connection that the broker closed meanwhile fails before any answer: then
    // once more on a fresh one. A fresh connection that fails is the answer.
    for (int attempt = 0;; ++attempt) {
        const bool fresh = !impl_->stream;
        if (fresh) impl_->connect();
        try {
            auto& socket = beast::get_lowest_layer(*impl_->stream);
            socket.expires_after(impl_->timeout);
            http::write(*impl_->stream, request);
            http::response_parser<http::string_body> parser;
            parser.body_limit(response_body_limit);
            http::read(*impl_->stream, impl_->buffer, parser);
            auto response = parser.release();
            BrokerResponse result;
            result.status = static_cast<int>(response.result_int());
            result.body = std::move(response.body());
            for (const auto& field : response) {
                std::string name(field.name_string());
                std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
                result.headers[name] = std::string(field.value());
            }
            if (!response.keep_alive()) impl_->close();
            return result;
        } catch (const boost::system::system_error& e) {
            impl_->stream.reset();
            if (!fresh && attempt == 0) continue;
            if (e.code() == beast::error::timeout) impl_->fail_connection(e, "waiting for the answer");
            throw BrokerUnreachable(BrokerUnreachable::Reason::protocol,
                                    fmt::format("the broker at {} closed the connection without an answer to {} {} "
                                                "({})",
                                                address_.url(), method, target, e.code().message()));
        }
    }
}

}  // namespace vdi::admin
