// UTF-8 <-> UTF-16 conversion. SQL Server and ODBC's wide API speak UTF-16; the agent and its stores
// speak UTF-8. Malformed input never throws: each invalid sequence (a lone surrogate, a truncated or
// overlong UTF-8 sequence, a code point above U+10FFFF) becomes U+FFFD, so a bad byte in a DMV column
// cannot stop a snapshot.
#pragma once

#include <string>
#include <string_view>

namespace dmvlog {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// UTF-16 (host order code units) to UTF-8. Surrogate pairs become one 4-byte sequence.
std::string utf16_to_utf8(std::u16string_view in);

// UTF-8 to UTF-16. Code points above U+FFFF become surrogate pairs.
std::u16string utf8_to_utf16(std::string_view in);

// True when in is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view in);

// Appends the UTF-8 encoding of cp (U+FFFD for a surrogate or a value above U+10FFFF).
void append_utf8(std::string& out, char32_t cp);

}  // namespace dmvlog
