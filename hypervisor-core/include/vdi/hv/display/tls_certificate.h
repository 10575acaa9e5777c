// The TLS certificate a host's RDP servers present: generated self-signed on first start and
// kept with the host's state, so clients can pin it.
#pragma once

#include <filesystem>
#include <string>

namespace vdi::hv {

// Creates a self-signed RSA-2048 certificate and key for `common_name` unless both files exist;
// the key is written 0600. HvError when it cannot.
void ensure_certificate(const std::filesystem::path& certificate, const std::filesystem::path& private_key,
                        const std::string& common_name);

}  // namespace vdi::hv
