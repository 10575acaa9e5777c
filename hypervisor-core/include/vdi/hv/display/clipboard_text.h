// Clipboard text between display protocols and the guest agent: the agent channel carries UTF-8
// of at most AgentChannel::max_clipboard bytes; classic RFB cut text is Latin-1.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vdi::hv {

// `text` cut to at most `max_bytes` without splitting a UTF-8 sequence.
std::string cut_utf8(std::string_view text, std::size_t max_bytes);
std::string latin1_to_utf8(std::string_view latin1);
// Characters above U+00FF (and malformed sequences) become '?'.
std::string utf8_to_latin1(std::string_view utf8);
// RDP's CF_UNICODETEXT: UTF-16LE bytes, up to the first NUL (or the end; an odd last byte is
// dropped). Unpaired surrogates become U+FFFD.
std::string utf16le_to_utf8(std::string_view bytes);
// UTF-8 to UTF-16LE bytes ending in a NUL (two zero bytes), as CF_UNICODETEXT is sent. Malformed
// sequences become U+FFFD.
std::string utf8_to_utf16le(std::string_view utf8);

}  // namespace vdi::hv
