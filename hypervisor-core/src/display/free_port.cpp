// Asking the kernel for a free TCP port.
#include "vdi/hv/display/free_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vdi/common/unique_fd.h"

namespace vdi::hv {

int free_tcp_port(const std::string& ipv4_address)
{
    const UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in bound{};
    bound.sin_family = AF_INET;
    if (!fd || inet_pton(AF_INET, ipv4_address.c_str(), &bound.sin_addr) != 1) {
        return 0;
    }
    socklen_t length = sizeof bound;
    int port = 0;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&bound), sizeof bound) == 0 &&
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &length) == 0) {
        port = ntohs(bound.sin_port);
    }
    return port;
}

}  // namespace vdi::hv
