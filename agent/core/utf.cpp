#include "agent/core/utf.h"

#include <cstddef>
#include <cstdint>

namespace dmvlog {

namespace {

bool is_high_surrogate(char32_t u) { return u >= 0xD800 && u <= 0xDBFF; }
bool is_low_surrogate(char32_t u) { return u >= 0xDC00 && u <= 0xDFFF; }

// Decodes one UTF-8 sequence starting at in[i]; advances i past it (past one byte for an invalid lead,
// past the valid prefix for a truncated sequence). Returns nullopt-like 0xFFFFFFFF for an invalid sequence.
constexpr char32_t kInvalid = 0xFFFFFFFF;

char32_t decode_utf8(std::string_view in, std::size_t& i) {
    const auto b0 = static_cast<std::uint8_t>(in[i]);
    if (b0 < 0x80) {
        ++i;
        return b0;
    }
    std::size_t len = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
        cp = b0 & 0x1F;
        min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        cp = b0 & 0x0F;
        min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        cp = b0 & 0x07;
        min = 0x10000;
    } else {
        ++i;  // continuation byte as lead, 0xC0/0xC1 (always overlong), or 0xF5..0xFF
        return kInvalid;
    }
    std::size_t j = 1;
    for (; j < len; ++j) {
        if (i + j >= in.size()) break;
        const auto b = static_cast<std::uint8_t>(in[i + j]);
        if ((b & 0xC0) != 0x80) break;
        cp = (cp << 6) | (b & 0x3F);
    }
    if (j < len) {
        i += j;  // truncated: skip the lead and the continuation bytes seen, resynchronise on the next byte
        return kInvalid;
    }
    i += len;
    if (cp < min || cp > 0x10FFFF || is_high_surrogate(cp) || is_low_surrogate(cp)) return kInvalid;
    return cp;
}

}  // namespace

void append_utf8(std::string& out, char32_t cp) {
    if (cp > 0x10FFFF || is_high_surrogate(cp) || is_low_surrogate(cp)) cp = kReplacementChar;
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::string utf16_to_utf8(std::u16string_view in) {
    std::string out;
    out.reserve(in.size() + in.size() / 2);
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char32_t u = in[i];
        if (is_high_surrogate(u)) {
            if (i + 1 < in.size() && is_low_surrogate(in[i + 1])) {
                const char32_t lo = in[i + 1];
                append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
                ++i;
            } else {
                append_utf8(out, kReplacementChar);
            }
        } else if (is_low_surrogate(u)) {
            append_utf8(out, kReplacementChar);
        } else {
            append_utf8(out, u);
        }
    }
    return out;
}

std::u16string utf8_to_utf16(std::string_view in) {
    std::u16string out;
    out.reserve(in.size());
    std::size_t i = 0;
    while (i < in.size()) {
        char32_t cp = decode_utf8(in, i);
        if (cp == kInvalid) cp = kReplacementChar;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
            out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
        } else {
            out.push_back(static_cast<char16_t>(cp));
        }
    }
    return out;
}

bool is_valid_utf8(std::string_view in) {
    std::size_t i = 0;
    while (i < in.size()) {
        if (decode_utf8(in, i) == kInvalid) return false;
    }
    return true;
}

}  // namespace dmvlog
