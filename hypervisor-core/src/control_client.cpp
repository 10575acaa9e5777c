// One request line over a unix stream socket.
#include "vdi/hv/control_client.h"

#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vdi/common/unique_fd.h"

namespace vdi::hv {

std::optional<std::string> request_line(const std::filesystem::path& socket, const std::string& line,
                                        std::chrono::milliseconds timeout)
{
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (socket.string().size() >= sizeof address.sun_path) {
        return std::nullopt;
    }
    std::strcpy(address.sun_path, socket.c_str());
    const UniqueFd socket_fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int fd = socket_fd.get();
    if (!socket_fd || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        return std::nullopt;
    }
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
    timeval limit{static_cast<time_t>(micros / 1000000), static_cast<suseconds_t>(micros % 1000000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    const std::string request = line + "\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
        return std::nullopt;
    }
    std::string response;
    char buffer[65536];
    while (response.find('\n') == std::string::npos) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) {
            break;
        }
        response.append(buffer, static_cast<std::size_t>(n));
    }
    const auto newline = response.find('\n');
    if (newline == std::string::npos) {
        return std::nullopt;
    }
    return response.substr(0, newline);
}

}  // namespace vdi::hv
