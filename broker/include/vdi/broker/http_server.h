// An HTTPS/1.1 server on Boost.Beast and OpenSSL for the broker's API.
//
// Sockets are asynchronous (a slow client holds no thread); a complete request is handed to the
// handler on one of the server's threads, which may block (database calls) and answers through
// Respond, at once or later from another thread (a request waiting for something outside the
// database holds no thread either). Limits: header and
// body sizes, a deadline for the TLS handshake and for each request to arrive in full (so a
// slowloris client is cut off), keep-alive idle time. shutdown() stops accepting, lets requests
// in flight finish, closes idle connections and returns when all are gone (or at the deadline).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace vdi::broker {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

struct HttpLimits {
    std::size_t header_bytes = 8 * 1024;
    std::size_t body_bytes = 64 * 1024;
    std::chrono::milliseconds handshake_timeout{10'000};
    std::chrono::milliseconds request_timeout{10'000};  // first byte to last byte of one request
    std::chrono::milliseconds idle_timeout{30'000};     // keep-alive wait for the next request
    std::chrono::milliseconds write_timeout{10'000};
    int max_connections = 4096;  // beyond this, new connections are closed at once
};

struct HttpServerConfig {
    std::string address = "127.0.0.1";
    unsigned short port = 0;  // 0: any free port (see port())
    std::filesystem::path certificate;  // PEM chain
    std::filesystem::path private_key;  // PEM
    int threads = 8;
    HttpLimits limits;
};

// What the handler knows about the connection a request came on.
struct RequestContext {
    std::string remote_address;
};

class HttpServer {
public:
    // Sends the response to a request: called exactly once, from any thread.
    using Respond = std::function<void(HttpResponse)>;
    using Handler = std::function<void(const HttpRequest&, const RequestContext&, Respond)>;
    // A response for a request the server refused before the handler saw it (status, message).
    using ErrorResponder = std::function<HttpResponse(unsigned status, const std::string& message)>;

    // Binds and listens (vdi::Error when it cannot, or the certificate is unusable).
    HttpServer(HttpServerConfig config, Handler handler, ErrorResponder error_responder);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    unsigned short port() const { return port_; }
    void start();
    // Graceful: no new connections; requests in flight finish; returns once every connection is
    // closed or `deadline` passed. Idempotent.
    void shutdown(std::chrono::milliseconds deadline = std::chrono::milliseconds(10'000));
    int open_connections() const { return connections_.load(); }

    struct Shared;  // state the connections share with the server

private:
    HttpServerConfig config_;
    boost::asio::io_context io_;
    // keeps the threads running while no socket operation is pending (a request waiting to be
    // answered from another thread, during shutdown); released at the end of shutdown()
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    boost::asio::ssl::context tls_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<Shared> shared_;
    std::vector<std::thread> threads_;
    unsigned short port_ = 0;
    std::atomic<int> connections_{0};
    std::atomic<bool> stopped_{false};

    void accept();
};

}  // namespace vdi::broker
