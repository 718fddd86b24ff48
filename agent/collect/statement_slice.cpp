#include "agent/collect/statement_slice.h"

#include "agent/core/utf.h"

namespace dmvlog::collect {

namespace {

bool is_high_surrogate(char16_t c) { return c >= 0xD800 && c <= 0xDBFF; }
bool is_low_surrogate(char16_t c) { return c >= 0xDC00 && c <= 0xDFFF; }

}  // namespace

std::string slice_statement(std::string_view batch_utf8, std::optional<long long> start_offset,
                            std::optional<long long> end_offset) {
    if (batch_utf8.empty()) return "";
    const std::u16string text = utf8_to_utf16(batch_utf8);
    const long long n = static_cast<long long>(text.size());

    long long start_bytes = start_offset.value_or(0);
    if (start_bytes < 0) start_bytes = 0;
    const long long end_bytes = end_offset.value_or(-1);

    long long begin = start_bytes / 2;  // rounds an odd offset down
    if (begin >= n) return std::string(batch_utf8);
    long long end = n;                  // exclusive
    if (end_bytes >= 0) {
        if (end_bytes < start_bytes) return std::string(batch_utf8);
        end = end_bytes / 2 + 1;
        if (end > n) end = n;
    }
    if (begin > 0 && is_low_surrogate(text[static_cast<std::size_t>(begin)]) &&
        is_high_surrogate(text[static_cast<std::size_t>(begin - 1)])) {
        --begin;
    }
    if (end < n && is_high_surrogate(text[static_cast<std::size_t>(end - 1)]) &&
        is_low_surrogate(text[static_cast<std::size_t>(end)])) {
        ++end;
    }
    return utf16_to_utf8(std::u16string_view(text).substr(static_cast<std::size_t>(begin),
                                                          static_cast<std::size_t>(end - begin)));
}

}  // namespace dmvlog::collect
