// Clipboard text between the display protocols and the guest agent: UTF-8 cut without splitting
// a character, Latin-1 for classic RFB, UTF-16LE for RDP's CF_UNICODETEXT.
#include <catch2/catch.hpp>

#include <string>

#include "vdi/hv/display/clipboard_text.h"

using namespace vdi::hv;
using namespace std::string_literals;

TEST_CASE("UTF-16LE to UTF-8 and back: ASCII, accents, CJK and a surrogate pair")
{
    const std::string text = "Ruth \xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80!";  // "Ruth été 日本 😀!"
    const std::string wide = utf8_to_utf16le(text);
    CHECK(wide.size() % 2 == 0);
    CHECK(wide.substr(wide.size() - 2) == "\0\0"s);
    CHECK(wide.substr(0, 4) == "R\0u\0"s);
    CHECK(wide.find("\x3d\xd8\x00\xde"s) != std::string::npos);  // U+1F600 as D83D DE00
    CHECK(utf16le_to_utf8(wide) == text);
    CHECK(utf8_to_utf16le("") == "\0\0"s);
    CHECK(utf16le_to_utf8("") == "");
}

TEST_CASE("malformed UTF-8 and UTF-16 become U+FFFD: the text stops at its NUL, an odd byte is dropped")
{
    const std::string fffd = "\xef\xbf\xbd";
    CHECK(utf16le_to_utf8(utf8_to_utf16le("a\xff" "b")) == "a" + fffd + "b");
    CHECK(utf16le_to_utf8(utf8_to_utf16le("\xc0\x80")) == fffd + fffd);           // overlong NUL
    CHECK(utf16le_to_utf8(utf8_to_utf16le("\xed\xa0\x80")) == fffd + fffd + fffd);  // a surrogate in UTF-8
    CHECK(utf16le_to_utf8("a\0\x00\xd8" "b\0"s) == "a" + fffd + "b");             // an unpaired high surrogate
    CHECK(utf16le_to_utf8("a\0\0\0b\0"s) == "a");                                 // up to the NUL
    CHECK(utf16le_to_utf8("a\0b"s) == "a");                                       // the odd last byte
}

TEST_CASE("UTF-8 is cut on a character boundary: Latin-1 round trips what it can hold")
{
    CHECK(cut_utf8("\xc3\xa9\xc3\xa9", 3) == "\xc3\xa9");
    CHECK(cut_utf8("abc", 10) == "abc");
    CHECK(utf8_to_latin1(latin1_to_utf8("caf\xe9")) == "caf\xe9");
    CHECK(utf8_to_latin1("\xe6\x97\xa5") == "?");
}
