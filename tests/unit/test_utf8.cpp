// first_invalid_utf8 against the well-formed byte sequences of the Unicode standard (Table 3-7)
// and the classic malformed ones.
#include <catch2/catch.hpp>

#include <string>

#include "messages/utf8.hpp"

using shoal::first_invalid_utf8;

TEST_CASE("valid UTF-8 of every length is accepted", "[utf8]") {
  CHECK_FALSE(first_invalid_utf8(""));
  CHECK_FALSE(first_invalid_utf8("plain ascii = 1\n"));
  CHECK_FALSE(first_invalid_utf8("\xc3\xa9"));                // é
  CHECK_FALSE(first_invalid_utf8("\xe2\x82\xac"));            // €
  CHECK_FALSE(first_invalid_utf8("\xed\x9f\xbf"));            // U+D7FF, last before surrogates
  CHECK_FALSE(first_invalid_utf8("\xf0\x9f\x93\x88 chart"));  // U+1F4C8
  CHECK_FALSE(first_invalid_utf8("\xf4\x8f\xbf\xbf"));        // U+10FFFF, the last code point
}

TEST_CASE("malformed UTF-8 is found at its first byte", "[utf8]") {
  CHECK(first_invalid_utf8("ab\x80") == 2u);                   // stray continuation byte
  CHECK(first_invalid_utf8("tcp\xc3//") == 3u);                // lead byte, no continuation
  CHECK(first_invalid_utf8("x\xe2\x82") == 1u);                // truncated at the end
  CHECK(first_invalid_utf8("\xc0\xaf") == 0u);                 // overlong '/'
  CHECK(first_invalid_utf8("\xe0\x80\xaf") == 0u);             // overlong, 3 bytes
  CHECK(first_invalid_utf8("\xf0\x80\x80\xaf") == 0u);         // overlong, 4 bytes
  CHECK(first_invalid_utf8("\xed\xa0\x80") == 0u);             // U+D800, a surrogate
  CHECK(first_invalid_utf8("\xf4\x90\x80\x80") == 0u);         // above U+10FFFF
  CHECK(first_invalid_utf8("ok \xff\xfe") == 3u);              // never valid bytes
  CHECK(first_invalid_utf8(std::string("a\0\xc3", 3)) == 2u);  // NUL is valid; the lead is not
}
