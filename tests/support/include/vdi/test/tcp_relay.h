// A TCP relay on 127.0.0.1 for tests that cut connections: accepts on a port of its own, forwards
// each connection to the target port, and cut() drops every connection open at that moment (as a
// network failure would) while new ones keep working. One thread; any thread may call the methods.
#pragma once

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace vdi::test {

class TcpRelay {
public:
    explicit TcpRelay(int target_port = 0);
    ~TcpRelay();
    TcpRelay(const TcpRelay&) = delete;
    TcpRelay& operator=(const TcpRelay&) = delete;

    int port() const { return port_; }
    void set_target(int target_port) { target_port_ = target_port; }
    // Closes every relayed connection now (both sides see it end); returns how many there were.
    int cut();
    int connections() const;
    int accepted() const { return accepted_; }

private:
    struct Pair {
        int client;
        int server;
    };
    void loop();

    int listen_fd_ = -1;
    int wake_fd_ = -1;
    int port_ = 0;
    std::atomic<int> target_port_;
    std::atomic<int> accepted_{0};
    std::atomic<bool> stop_{false};
    std::atomic<bool> cut_requested_{false};
    mutable std::mutex mutex_;  // guards pairs_
    std::vector<Pair> pairs_;
    std::thread thread_;
};

}  // namespace vdi::test
