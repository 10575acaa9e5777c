// A TCP port free on an IPv4 address right now (for display servers whose libraries cannot
// listen on port 0 and report the port themselves). 0 if none could be found.
#pragma once

#include <string>

namespace vdi::hv {

int free_tcp_port(const std::string& ipv4_address);

}  // namespace vdi::hv
