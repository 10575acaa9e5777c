// VNC's password obfuscation with libgcrypt's DES.
#include "vnc_password_file.h"

#include <gcrypt.h>

#include <stdexcept>

namespace vdi::thin_client {
namespace {

// The fixed key every VNC implementation uses for stored passwords.
constexpr unsigned char vnc_key[8] = {23, 82, 107, 6, 35, 78, 88, 7};

// VNC feeds DES each key byte with its bits in reverse order (a historical quirk of the
// original implementation's DES), so the same must be done to interoperate.
unsigned char reversed_bits(unsigned char b)
{
    unsigned char r = 0;
    for (int i = 0; i < 8; ++i) r = static_cast<unsigned char>(r | (((b >> i) & 1) << (7 - i)));
    return r;
}

}  // namespace

QByteArray vnc_obfuscated_password(const QByteArray& password)
{
    gcry_check_version(nullptr);
    unsigned char key[8];
    for (int i = 0; i < 8; ++i) key[i] = reversed_bits(vnc_key[i]);
    unsigned char block[8] = {};
    for (int i = 0; i < 8 && i < password.size(); ++i) block[i] = static_cast<unsigned char>(password[i]);
    gcry_cipher_hd_t cipher = nullptr;
    if (gcry_cipher_open(&cipher, GCRY_CIPHER_DES, GCRY_CIPHER_MODE_ECB, 0) != 0) {
        throw std::runtime_error("libgcrypt has no DES: cannot write the VNC password file");
    }
    gcry_error_t error = gcry_cipher_setkey(cipher, key, sizeof key);
    if (error == 0 || gcry_err_code(error) == GPG_ERR_WEAK_KEY) error = gcry_cipher_encrypt(cipher, block, 8, nullptr, 0);
    gcry_cipher_close(cipher);
    if (error != 0) throw std::runtime_error("DES encryption of the VNC password failed");
    return QByteArray(reinterpret_cast<const char*>(block), 8);
}

}  // namespace vdi::thin_client
