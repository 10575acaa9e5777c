// Self-signed TLS certificates (OpenSSL): a host's RDP servers, the broker's demo pair.
#include "vdi/common/tls_certificate.h"

#include <cstdio>
#include <ctime>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "vdi/common/error.h"

namespace vdi {

void ensure_certificate(const std::filesystem::path& certificate, const std::filesystem::path& private_key,
                        const std::string& common_name, const std::vector<std::string>& alt_names)
{
    if (std::filesystem::exists(certificate) && std::filesystem::exists(private_key)) {
        return;
    }
    EVP_PKEY* key = EVP_RSA_gen(2048);
    X509* x509 = X509_new();
    if (key == nullptr || x509 == nullptr) {
        throw Error("cannot generate a TLS key");
    }
    ASN1_INTEGER_set(X509_get_serialNumber(x509), static_cast<long>(std::time(nullptr)));
    X509_gmtime_adj(X509_getm_notBefore(x509), 0);
    X509_gmtime_adj(X509_getm_notAfter(x509), 10L * 365 * 24 * 3600);
    X509_set_pubkey(x509, key);
    X509_NAME* name = X509_get_subject_name(x509);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                               -1, -1, 0);
    X509_set_issuer_name(x509, name);
    if (!alt_names.empty()) {
        std::string list;
        for (const auto& n : alt_names) list += (list.empty() ? "" : ",") + n;
        X509V3_CTX context;
        X509V3_set_ctx_nodb(&context);
        X509V3_set_ctx(&context, x509, x509, nullptr, nullptr, 0);
        X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, list.c_str());
        if (extension == nullptr) {
            X509_free(x509);
            EVP_PKEY_free(key);
            throw Error("invalid subject alternative names for the TLS certificate: " + list);
        }
        X509_add_ext(x509, extension, -1);
        X509_EXTENSION_free(extension);
    }
    X509_sign(x509, key, EVP_sha256());
    for (const auto& file : {certificate, private_key}) {
        if (file.has_parent_path()) {
            std::filesystem::create_directories(file.parent_path());
        }
    }
    FILE* key_file = std::fopen(private_key.c_str(), "w");
    FILE* cert_file = std::fopen(certificate.c_str(), "w");
    bool written = key_file != nullptr && cert_file != nullptr &&
                   PEM_write_PrivateKey(key_file, key, nullptr, nullptr, 0, nullptr, nullptr) == 1 &&
                   PEM_write_X509(cert_file, x509) == 1;
    // fclose flushes: a full disk shows here, and a truncated key or certificate must not pass as written
    if (key_file != nullptr && std::fclose(key_file) != 0) written = false;
    if (cert_file != nullptr && std::fclose(cert_file) != 0) written = false;
    X509_free(x509);
    EVP_PKEY_free(key);
    if (!written) {
        throw Error("cannot write the TLS certificate to " + certificate.string());
    }
    std::filesystem::permissions(private_key, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

void check_private_key(const std::filesystem::path& private_key)
{
    std::FILE* file = std::fopen(private_key.c_str(), "r");
    if (file == nullptr) {
        throw Error("cannot read the private key " + private_key.string());
    }
    EVP_PKEY* key = PEM_read_PrivateKey(file, nullptr, nullptr, nullptr);
    std::fclose(file);
    if (key == nullptr) {
        throw Error(private_key.string() + " is not a PEM private key");
    }
    EVP_PKEY_CTX* context = EVP_PKEY_CTX_new(key, nullptr);
    const int sound = context != nullptr ? EVP_PKEY_check(context) : -1;
    EVP_PKEY_CTX_free(context);
    EVP_PKEY_free(key);
    if (sound != 1) {
        throw Error("the private key " + private_key.string() +
                    " fails its consistency check: replace it (and its certificate) with a new pair");
    }
}

}  // namespace vdi
