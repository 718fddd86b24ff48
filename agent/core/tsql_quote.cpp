#include "agent/core/tsql_quote.h"

#include <stdexcept>

namespace dmvlog::tsql {

namespace {

std::size_t code_points(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0u) != 0x80u) ++n;
    return n;
}

bool is_control(unsigned char c) { return c < 0x20u || c == 0x7Fu; }

std::string doubled(std::string_view text, char quote) {
    std::string out;
    out.reserve(text.size() + 2);
    for (char c : text) {
        out += c;
        if (c == quote) out += c;
    }
    return out;
}

}  // namespace

std::string identifier_problem(std::string_view name) {
    if (name.empty()) return "is empty";
    if (code_points(name) > 128) return "is longer than 128 characters";
    for (unsigned char c : name)
        if (is_control(c)) return "contains a control character";
    return {};
}

std::string quote_identifier(std::string_view name, std::string_view what) {
    if (auto problem = identifier_problem(name); !problem.empty())
        throw std::invalid_argument("invalid " + std::string(what) + ": " + problem);
    return "[" + doubled(name, ']') + "]";
}

std::string quote_literal(std::string_view text, std::string_view what, std::size_t max_chars) {
    for (unsigned char c : text)
        if (is_control(c) && c != '\t')
            throw std::invalid_argument("invalid " + std::string(what) + ": contains a control character");
    if (max_chars > 0 && code_points(text) > max_chars)
        throw std::invalid_argument("invalid " + std::string(what) + ": longer than " + std::to_string(max_chars) +
                                    " characters");
    return "N'" + doubled(text, '\'') + "'";
}

}  // namespace dmvlog::tsql
