// The password file vncviewer reads (-passwd FILE, the `vncpasswd -f` format): the first 8 bytes
// of the password, zero-padded, DES-encrypted with VNC's fixed key. Obfuscation, not protection:
// the file lives in a private 0700 directory for the viewer's lifetime only.
#pragma once

#include <QByteArray>

namespace vdi::thin_client {

QByteArray vnc_obfuscated_password(const QByteArray& password);

}  // namespace vdi::thin_client
