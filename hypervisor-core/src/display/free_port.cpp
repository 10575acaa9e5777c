// Asking the kernel for a free TCP port.
#include "vdi/hv/display/free_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vdi::hv {

int free_tcp_port(const std::string& ipv4_address)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in bound{};
    bound.sin_family = AF_INET;
    if (inet_pton(AF_INET, ipv4_address.c_str(), &bound.sin_addr) != 1) {
        ::close(fd);
        return 0;
    }
    socklen_t length = sizeof bound;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&bound), sizeof bound) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) == 0) {
        port = ntohs(bound.sin_port);
    }
    ::close(fd);
    return port;
}

}  // namespace vdi::hv
