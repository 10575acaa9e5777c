// The RDP server's RSA key check, once per key (rsa_check_cache.cpp explains why).
#pragma once

#include <filesystem>

namespace vdi::hv {

// Marks the RSA key in this PEM file as already checked (the host agent checks the host's key
// once, at its start, and says so with --rdp-key-checked): FreeRDP's check of it on each RDP
// connection, the first included, then costs nothing. False when the file holds no RSA key.
bool remember_checked_rsa_key(const std::filesystem::path& pem);

}  // namespace vdi::hv
