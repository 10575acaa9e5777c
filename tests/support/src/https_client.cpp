// The tests' HTTPS client.
#include "vdi/test/https_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace vdi::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

struct HttpsClient::Impl {
    std::string host;
    unsigned short port;
    std::chrono::milliseconds timeout;
    net::io_context io;
    ssl::context tls{ssl::context::tls_client};
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream;
    beast::flat_buffer buffer;

    void connect()
    {
        stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io, tls);
        auto& socket = beast::get_lowest_layer(*stream);
        socket.expires_after(timeout);
        socket.connect(tcp::endpoint(net::ip::make_address(host), port));
        socket.socket().set_option(tcp::no_delay(true));
        stream->handshake(ssl::stream_base::client);
        buffer.clear();
    }
};

HttpsClient::HttpsClient(std::string host, unsigned short port, std::filesystem::path ca_certificate,
                         std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>())
{
    impl_->host = std::move(host);
    impl_->port = port;
    impl_->timeout = timeout;
    impl_->tls.load_verify_file(ca_certificate.string());
    impl_->tls.set_verify_mode(ssl::verify_peer);
}

HttpsClient::~HttpsClient() = default;

void HttpsClient::close()
{
    if (impl_->stream) {
        beast::error_code ignored;
        beast::get_lowest_layer(*impl_->stream).close();
        impl_->stream.reset();
    }
}

HttpResult HttpsClient::request(const std::string& method, const std::string& target, const std::string& body,
                                const std::string& token, const std::string& content_type)
{
    for (int attempt = 0; attempt < 2; ++attempt) {
        try {
            if (!impl_->stream) {
                impl_->connect();
            }
            http::request<http::string_body> request{http::string_to_verb(method), target, 11};
            request.set(http::field::host, impl_->host);
            if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
            if (!body.empty()) {
                request.set(http::field::content_type, content_type);
                request.body() = body;
            }
            request.keep_alive(true);
            request.prepare_payload();
            auto& socket = beast::get_lowest_layer(*impl_->stream);
            socket.expires_after(impl_->timeout);
            http::write(*impl_->stream, request);
            http::response_parser<http::string_body> parser;
            parser.body_limit(64 * 1024 * 1024);
            http::read(*impl_->stream, impl_->buffer, parser);
            auto response = parser.release();
            HttpResult result;
            result.status = response.result_int();
            result.body = response.body();
            for (const auto& field : response) {
                std::string name(field.name_string());
                for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                result.headers[name] = std::string(field.value());
            }
            if (!response.keep_alive()) {
                close();
            }
            return result;
        } catch (const std::exception&) {
            // a kept-alive connection the server closed meanwhile: one fresh attempt
            close();
        }
    }
    return {};
}

}  // namespace vdi::test
