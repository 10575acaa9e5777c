// Self-signed TLS certificates: the one a host's RDP servers present (generated on the host
// agent's first start and kept with its state, so clients can pin it) and the broker's demo pair.
// Only OpenSSL: vdi-tls is linked into the display modules as well as the services.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace vdi {

// Creates a self-signed RSA-2048 certificate and key for `common_name` (and subject alternative
// names such as "DNS:localhost", "IP:127.0.0.1", which TLS clients check the host against)
// unless both files exist; the key is written 0600. vdi::Error when it cannot.
void ensure_certificate(const std::filesystem::path& certificate, const std::filesystem::path& private_key,
                        const std::string& common_name, const std::vector<std::string>& alt_names = {});

// Reads the PEM private key and checks it in full (for RSA: p and q prime, n = pq, d and e
// inverse), so that processes given it can skip that check. vdi::Error saying what is wrong.
void check_private_key(const std::filesystem::path& private_key);

}  // namespace vdi
