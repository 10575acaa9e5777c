// Clipboard text conversions for the display servers.
#include "vdi/hv/display/clipboard_text.h"

namespace vdi::hv {

std::string cut_utf8(std::string_view text, std::size_t max_bytes)
{
    if (text.size() <= max_bytes) {
        return std::string(text);
    }
    std::size_t end = max_bytes;
    // back up over continuation bytes (10xxxxxx) to the start of the cut character
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) {
        --end;
    }
    return std::string(text.substr(0, end));
}

std::string latin1_to_utf8(std::string_view latin1)
{
    std::string out;
    out.reserve(latin1.size());
    for (const char c : latin1) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x80) {
            out.push_back(c);
        } else {
            out.push_back(static_cast<char>(0xc0 | (byte >> 6)));
            out.push_back(static_cast<char>(0x80 | (byte & 0x3f)));
        }
    }
    return out;
}

std::string utf8_to_latin1(std::string_view utf8)
{
    std::string out;
    out.reserve(utf8.size());
    for (std::size_t i = 0; i < utf8.size();) {
        const auto lead = static_cast<unsigned char>(utf8[i]);
        std::size_t length = lead < 0x80 ? 1 : (lead & 0xe0) == 0xc0 ? 2 : (lead & 0xf0) == 0xe0 ? 3 : (lead & 0xf8) == 0xf0 ? 4 : 0;
        if (length == 0 || i + length > utf8.size()) {
            out.push_back('?');
            ++i;
            continue;
        }
        unsigned code = length == 1 ? lead : lead & (0x7fu >> length);
        bool valid = true;
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(utf8[i + k]);
            valid = valid && (next & 0xc0) == 0x80;
            code = (code << 6) | (next & 0x3f);
        }
        out.push_back(valid && code <= 0xff ? static_cast<char>(code) : '?');
        i += valid ? length : 1;
    }
    return out;
}

}  // namespace vdi::hv
