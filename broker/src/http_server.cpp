// HTTPS server: one Connection per TCP connection, its operations serialised on a strand.
#include "vdi/broker/http_server.h"

#include <mutex>
#include <optional>
#include <unordered_set>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "vdi/common/error.h"
#include "vdi/common/logging.h"

namespace vdi::broker {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

class Connection;

struct HttpServer::Shared {
    Handler handler;
    ErrorResponder error_responder;
    HttpLimits limits;
    std::atomic<int>* connections = nullptr;
    std::atomic<bool> draining{false};
    std::mutex mutex;  // guards live
    std::unordered_set<Connection*> live;
};

namespace {

// The status a refused request gets, by the parser's error.
unsigned status_for(const beast::error_code& error)
{
    if (error == http::error::body_limit) return 413;
    if (error == http::error::header_limit) return 431;
    return 400;
}

}  // namespace

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(tcp::socket socket, ssl::context& tls, std::shared_ptr<HttpServer::Shared> shared)
        : stream_(std::move(socket), tls), shared_(std::move(shared))
    {
        beast::error_code ignored;
        const auto endpoint = beast::get_lowest_layer(stream_).socket().remote_endpoint(ignored);
        context_.remote_address = ignored ? "" : endpoint.address().to_string();
        ++*shared_->connections;
        std::lock_guard lock(shared_->mutex);
        shared_->live.insert(this);
    }
    ~Connection()
    {
        {
            std::lock_guard lock(shared_->mutex);
            shared_->live.erase(this);
        }
        --*shared_->connections;
    }

    void run()
    {
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
            beast::get_lowest_layer(self->stream_).expires_after(self->shared_->limits.handshake_timeout);
            self->stream_.async_handshake(ssl::stream_base::server,
                                          [self](beast::error_code error) { self->on_handshake(error); });
        });
    }

    // From the server's shutdown: close now unless a request is being handled (that one closes
    // after its response). Posted onto this connection's strand.
    void close_if_idle()
    {
        net::post(stream_.get_executor(), [self = shared_from_this()] {
            if (!self->busy_) {
                beast::get_lowest_layer(self->stream_).cancel();
            }
        });
    }

private:
    void on_handshake(beast::error_code error)
    {
        if (error) {
            return;  // a client that cannot do TLS (or too slowly): just drop it
        }
        read_request(shared_->limits.request_timeout);
    }

    void read_request(std::chrono::milliseconds timeout)
    {
        if (shared_->draining) {
            return close();
        }
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(shared_->limits.header_bytes));
        parser_->body_limit(shared_->limits.body_bytes);
        // one deadline for the whole request: a client trickling bytes is cut off all the same
        beast::get_lowest_layer(stream_).expires_after(timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code error, std::size_t) { self->on_read(error); });
    }

    void on_read(beast::error_code error)
    {
        if (error == http::error::end_of_stream || error == net::error::operation_aborted ||
            error == beast::error::timeout || error == net::ssl::error::stream_truncated ||
            error == net::error::connection_reset || error == net::error::eof) {
            return close();
        }
        if (error && error.category() == http::make_error_code(http::error::body_limit).category()) {
            // malformed or oversized: answer once, then close (the stream is out of step)
            keep_alive_ = false;
            const unsigned status = status_for(error);
            return write(shared_->error_responder(status, status == 413   ? "request body too large"
                                                          : status == 431 ? "request headers too large"
                                                                          : "malformed HTTP request: " + error.message()));
        }
        if (error) {
            return close();
        }
        busy_ = true;
        HttpRequest request = parser_->release();
        keep_alive_ = request.keep_alive() && !shared_->draining;
        // the answer may come from another thread: it is written on this connection's strand,
        // and only the first one counts (a handler that failed after answering)
        auto answered = std::make_shared<std::atomic<bool>>(false);
        HttpServer::Respond respond = [self = shared_from_this(), version = request.version(),
                                       answered](HttpResponse response) {
            if (answered->exchange(true)) {
                return;
            }
            response.version(version);
            net::dispatch(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
                self->write(std::move(response));
            });
        };
        try {
            shared_->handler(request, context_, respond);
        } catch (const std::exception& e) {
            logger("broker.http")->error("handler failed method={} target=\"{}\" error=\"{}\"",
                                          std::string(request.method_string()), std::string(request.target()), e.what());
            respond(shared_->error_responder(500, "internal error"));
        }
    }

    void write(HttpResponse response)
    {
        busy_ = true;
        keep_alive_ = keep_alive_ && !shared_->draining;
        response.keep_alive(keep_alive_);
        response.prepare_payload();
        response_ = std::make_shared<HttpResponse>(std::move(response));
        beast::get_lowest_layer(stream_).expires_after(shared_->limits.write_timeout);
        http::async_write(stream_, *response_, [self = shared_from_this()](beast::error_code error, std::size_t) {
            self->busy_ = false;
            self->response_.reset();
            if (error || !self->keep_alive_) {
                return self->close();
            }
            self->read_request(self->shared_->limits.idle_timeout);
        });
    }

    void close()
    {
        beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
        stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
            beast::error_code ignored;
            beast::get_lowest_layer(self->stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
            beast::get_lowest_layer(self->stream_).close();
        });
    }

    beast::ssl_stream<beast::tcp_stream> stream_;
    std::shared_ptr<HttpServer::Shared> shared_;
    RequestContext context_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::shared_ptr<HttpResponse> response_;
    bool busy_ = false;
    bool keep_alive_ = true;
};

HttpServer::HttpServer(HttpServerConfig config, Handler handler, ErrorResponder error_responder)
    : config_(std::move(config)), tls_(ssl::context::tls_server), acceptor_(io_), shared_(std::make_shared<Shared>())
{
    shared_->handler = std::move(handler);
    shared_->error_responder = std::move(error_responder);
    shared_->limits = config_.limits;
    shared_->connections = &connections_;
    try {
        tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
        tls_.use_certificate_chain_file(config_.certificate.string());
        tls_.use_private_key_file(config_.private_key.string(), ssl::context::pem);
    } catch (const std::exception& e) {
        throw Error("the broker's TLS certificate or key is unusable (" + config_.certificate.string() + ", " +
                    config_.private_key.string() + "): " + e.what());
    }
    try {
        const tcp::endpoint endpoint(net::ip::make_address(config_.address), config_.port);
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(net::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(net::socket_base::max_listen_connections);
        port_ = acceptor_.local_endpoint().port();
    } catch (const std::exception& e) {
        throw Error("the broker cannot listen on " + config_.address + ":" + std::to_string(config_.port) + ": " +
                    e.what());
    }
}

HttpServer::~HttpServer()
{
    shutdown(std::chrono::milliseconds(2000));
}

void HttpServer::start()
{
    work_.emplace(io_.get_executor());
    accept();
    const int threads = std::max(1, config_.threads);
    for (int i = 0; i < threads; ++i) {
        threads_.emplace_back([this] { io_.run(); });
    }
}

void HttpServer::accept()
{
    acceptor_.async_accept(net::make_strand(io_), [this](beast::error_code error, tcp::socket socket) {
        if (error == net::error::operation_aborted || !acceptor_.is_open()) {
            return;
        }
        if (!error) {
            if (connections_.load() >= config_.limits.max_connections) {
                beast::error_code ignored;
                socket.close(ignored);  // full: refuse rather than let idle clients exhaust descriptors
            } else {
                std::make_shared<Connection>(std::move(socket), tls_, shared_)->run();
            }
        }
        accept();
    });
}

void HttpServer::shutdown(std::chrono::milliseconds deadline)
{
    if (stopped_.exchange(true)) {
        return;
    }
    shared_->draining = true;
    net::post(io_, [this] {
        beast::error_code ignored;
        acceptor_.close(ignored);
    });
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (connections_.load() > 0 && std::chrono::steady_clock::now() < until) {
        {
            std::lock_guard lock(shared_->mutex);
            for (Connection* connection : shared_->live) {
                // (one being destroyed has no owner left and is skipped)
                if (auto owner = connection->weak_from_this().lock()) {
                    owner->close_if_idle();
                }
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    work_.reset();
    io_.stop();
    for (auto& thread : threads_) {
        if (thread.joinable()) {
            thread.join();
        }
    }
}

}  // namespace vdi::broker
