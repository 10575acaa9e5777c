// RSA_check_key, checked once per key (linked into the RDP display server only).
//
// FreeRDP 2's server side loads the host's RSA key again for every connection (peer.c,
// freerdp_peer_initialize, for RDP standard security) and validates it with OpenSSL's
// RSA_check_key, whose primality tests of p and q take about 75 ms here: a quarter of an RDP
// connect, spent proving the same key sound again and again. libfreerdp2 calls RSA_check_key
// through its PLT, so this definition (in the display module, searched before libcrypto, or in a
// test executable) takes its place: the first check of a key is OpenSSL's own, and its success is
// remembered for keys equal to it in every part; any other key, and any key that failed, is
// checked in full each time. The host agent checks the host's key once at its start and tells
// its VMMs (--rdp-key-checked), which then skip even the first check (remember_checked_rsa_key).
#define OPENSSL_SUPPRESS_DEPRECATED  // RSA_* are deprecated in OpenSSL 3, and what FreeRDP 2 calls
#include "vdi/hv/display/rsa_check_cache.h"

#include <dlfcn.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdio>
#include <memory>
#include <mutex>

namespace {

struct BignumFree {
    void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
using Bignum = std::unique_ptr<BIGNUM, BignumFree>;

struct CheckedKey {
    Bignum n, e, d, p, q;
};

std::mutex checked_mutex;
std::unique_ptr<CheckedKey> checked;  // the last key OpenSSL found sound

bool same(const BIGNUM* a, const Bignum& b)
{
    return (a == nullptr) == (b == nullptr) && (a == nullptr || BN_cmp(a, b.get()) == 0);
}

Bignum copy(const BIGNUM* b)
{
    return Bignum(b != nullptr ? BN_dup(b) : nullptr);
}

void remember(const RSA* rsa)
{
    const BIGNUM *n = nullptr, *e = nullptr, *d = nullptr, *p = nullptr, *q = nullptr;
    RSA_get0_key(rsa, &n, &e, &d);
    RSA_get0_factors(rsa, &p, &q);
    auto key = std::make_unique<CheckedKey>(CheckedKey{copy(n), copy(e), copy(d), copy(p), copy(q)});
    std::lock_guard lock(checked_mutex);
    checked = std::move(key);
}

}  // namespace

bool vdi::hv::remember_checked_rsa_key(const std::filesystem::path& pem)
{
    std::FILE* file = std::fopen(pem.c_str(), "r");
    if (file == nullptr) return false;
    RSA* rsa = PEM_read_RSAPrivateKey(file, nullptr, nullptr, nullptr);
    std::fclose(file);
    if (rsa == nullptr) return false;
    remember(rsa);
    RSA_free(rsa);
    return true;
}

extern "C" __attribute__((visibility("default"))) int RSA_check_key(const RSA* rsa)
{
    using Check = int (*)(const RSA*);
    static const auto openssl_check = reinterpret_cast<Check>(::dlsym(RTLD_NEXT, "RSA_check_key"));
    if (openssl_check == nullptr) return -1;  // no libcrypto behind us: "cannot tell"
    if (rsa == nullptr) return openssl_check(rsa);
    const BIGNUM *n = nullptr, *e = nullptr, *d = nullptr, *p = nullptr, *q = nullptr;
    RSA_get0_key(rsa, &n, &e, &d);
    RSA_get0_factors(rsa, &p, &q);
    {
        std::lock_guard lock(checked_mutex);
        if (checked && same(n, checked->n) && same(e, checked->e) && same(d, checked->d) && same(p, checked->p) &&
            same(q, checked->q)) {
            return 1;
        }
    }
    const int result = openssl_check(rsa);
    if (result == 1) remember(rsa);
    return result;
}
