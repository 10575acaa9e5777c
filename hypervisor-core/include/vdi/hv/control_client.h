// The client side of the VMM's control socket (and of any line-per-request unix socket): one
// request line out, the first response line back. Used by the host agent and by tests.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

namespace vdi::hv {

// nullopt when the socket cannot be reached or no complete answer arrives within `timeout`.
std::optional<std::string> request_line(const std::filesystem::path& socket, const std::string& line,
                                        std::chrono::milliseconds timeout);

}  // namespace vdi::hv
