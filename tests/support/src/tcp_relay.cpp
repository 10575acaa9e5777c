// The test relay (tcp_relay.h): poll() over the listening socket, an eventfd and every pair.
#include "vdi/test/tcp_relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <tuple>

namespace vdi::test {

TcpRelay::TcpRelay(int target_port) : target_port_(target_port)
{
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
        ::listen(listen_fd_, 16) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
        throw std::runtime_error("the test relay cannot listen on 127.0.0.1");
    }
    port_ = ntohs(address.sin_port);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    thread_ = std::thread([this] { loop(); });
}

TcpRelay::~TcpRelay()
{
    stop_ = true;
    const std::uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
    thread_.join();
    for (const auto& p : pairs_) {
        ::close(p.client);
        ::close(p.server);
    }
    ::close(listen_fd_);
    ::close(wake_fd_);
}

int TcpRelay::cut()
{
    const int open = connections();
    cut_requested_ = true;
    const std::uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
    while (cut_requested_) std::this_thread::yield();
    return open;
}

int TcpRelay::connections() const
{
    std::lock_guard lock(mutex_);
    return static_cast<int>(pairs_.size());
}

void TcpRelay::loop()
{
    char buffer[65536];
    while (!stop_) {
        std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        std::vector<Pair> pairs;
        {
            std::lock_guard lock(mutex_);
            pairs = pairs_;
        }
        for (const auto& p : pairs) {
            fds.push_back({p.client, POLLIN, 0});
            fds.push_back({p.server, POLLIN, 0});
        }
        if (::poll(fds.data(), fds.size(), 1000) < 0) continue;
        if (fds[1].revents & POLLIN) {
            std::uint64_t count = 0;
            (void)!::read(wake_fd_, &count, sizeof count);
        }
        if (cut_requested_) {
            std::lock_guard lock(mutex_);
            for (const auto& p : pairs_) {
                // RST rather than FIN on the client side: a dropped network, not a server that hung up
                const linger hard{1, 0};
                ::setsockopt(p.client, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
                ::close(p.client);
                ::close(p.server);
            }
            pairs_.clear();
            cut_requested_ = false;
            continue;
        }
        if (fds[0].revents & POLLIN) {
            const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client >= 0) {
                const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                sockaddr_in target{};
                target.sin_family = AF_INET;
                target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                target.sin_port = htons(static_cast<std::uint16_t>(target_port_.load()));
                if (::connect(server, reinterpret_cast<sockaddr*>(&target), sizeof target) == 0) {
                    std::lock_guard lock(mutex_);
                    pairs_.push_back({client, server});
                    ++accepted_;
                } else {
                    ::close(client);
                    ::close(server);
                }
            }
        }
        std::vector<Pair> closed;
        for (std::size_t i = 0; i < pairs.size(); ++i) {
            const auto& p = pairs[i];
            bool done = false;
            for (const auto& [from, to, index] : {std::tuple{p.client, p.server, 2 + 2 * i}, std::tuple{p.server, p.client, 3 + 2 * i}}) {
                if (done || !(fds[index].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                const ssize_t n = ::read(from, buffer, sizeof buffer);
                if (n <= 0) {
                    done = true;
                    break;
                }
                for (ssize_t sent = 0; sent < n;) {
                    const ssize_t m = ::send(to, buffer + sent, static_cast<std::size_t>(n - sent), MSG_NOSIGNAL);
                    if (m <= 0) {
                        done = true;
                        break;
                    }
                    sent += m;
                }
            }
            if (done) closed.push_back(p);
        }
        if (!closed.empty()) {
            std::lock_guard lock(mutex_);
            for (const auto& c : closed) {
                ::close(c.client);
                ::close(c.server);
                std::erase_if(pairs_, [&](const Pair& p) { return p.client == c.client; });
            }
        }
    }
}

}  // namespace vdi::test
