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

namespace {

constexpr char32_t replacement = 0xfffd;

void append_utf8(std::string& out, char32_t code)
{
    if (code < 0x80) {
        out.push_back(static_cast<char>(code));
    } else if (code < 0x800) {
        out.push_back(static_cast<char>(0xc0 | (code >> 6)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
    } else if (code < 0x10000) {
        out.push_back(static_cast<char>(0xe0 | (code >> 12)));
        out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
    } else {
        out.push_back(static_cast<char>(0xf0 | (code >> 18)));
        out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
    }
}

void append_utf16le(std::string& out, char32_t code)
{
    auto unit = [&](char32_t u) {
        out.push_back(static_cast<char>(u & 0xff));
        out.push_back(static_cast<char>((u >> 8) & 0xff));
    };
    if (code < 0x10000) {
        unit(code);
    } else {
        code -= 0x10000;
        unit(0xd800 | (code >> 10));
        unit(0xdc00 | (code & 0x3ff));
    }
}

}  // namespace

std::string utf16le_to_utf8(std::string_view bytes)
{
    std::string out;
    out.reserve(bytes.size() / 2);
    auto unit_at = [&](std::size_t i) {
        return static_cast<char32_t>(static_cast<unsigned char>(bytes[i]) |
                                     (static_cast<unsigned char>(bytes[i + 1]) << 8));
    };
    for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
        const char32_t unit = unit_at(i);
        if (unit == 0) break;
        if (unit >= 0xd800 && unit <= 0xdbff && i + 3 < bytes.size()) {
            const char32_t low = unit_at(i + 2);
            if (low >= 0xdc00 && low <= 0xdfff) {
                append_utf8(out, 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00));
                i += 2;
                continue;
            }
        }
        append_utf8(out, unit >= 0xd800 && unit <= 0xdfff ? replacement : unit);
    }
    return out;
}

std::string utf8_to_utf16le(std::string_view utf8)
{
    std::string out;
    out.reserve(utf8.size() * 2 + 2);
    for (std::size_t i = 0; i < utf8.size();) {
        const auto lead = static_cast<unsigned char>(utf8[i]);
        const std::size_t length = lead < 0x80             ? 1
                                   : (lead & 0xe0) == 0xc0 ? 2
                                   : (lead & 0xf0) == 0xe0 ? 3
                                   : (lead & 0xf8) == 0xf0 ? 4
                                                           : 0;
        bool valid = length != 0 && i + length <= utf8.size();
        char32_t code = valid ? (length == 1 ? lead : lead & (0x7fu >> length)) : 0;
        for (std::size_t k = 1; valid && k < length; ++k) {
            const auto next = static_cast<unsigned char>(utf8[i + k]);
            valid = (next & 0xc0) == 0x80;
            code = (code << 6) | (next & 0x3f);
        }
        // overlong forms, surrogates and values past U+10FFFF are not characters
        static constexpr char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
        valid = valid && code >= smallest[length] && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
        append_utf16le(out, valid ? code : replacement);
        i += valid ? length : 1;
    }
    out.append(2, '\0');
    return out;
}

}  // namespace vdi::hv
