// Internal: reading the model out of a pugixml tree. Tolerant: missing parts stay empty.
//
// The readers fill model objects that may still hold a previous event's values (EventReader::next reuses the
// caller's Event): every field is written or cleared, so the result is the same as filling a fresh object,
// while the strings and vectors already there are reused instead of allocated again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>

#include "agent/xe/bpr.h"
#include "agent/xe/deadlock.h"
#include "agent/xe/process.h"

namespace dmvlog::xe::detail {

std::optional<std::int64_t> to_int(std::string_view text);

// n bytes from s to d (not overlapping): inline for the short strings most attributes are.
inline void copy_bytes(char* d, const char* s, std::size_t n) {
    if (n >= 8 && n <= 16) {
        std::uint64_t a, b;
        std::memcpy(&a, s, 8);
        std::memcpy(&b, s + n - 8, 8);
        std::memcpy(d, &a, 8);
        std::memcpy(d + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        std::uint32_t a, b;
        std::memcpy(&a, s, 4);
        std::memcpy(&b, s + n - 4, 4);
        std::memcpy(d, &a, 4);
        std::memcpy(d + n - 4, &b, 4);
    } else if (n > 16) {
        std::memcpy(d, s, n);
    } else {
        for (std::size_t i = 0; i < n; ++i) d[i] = s[i];
    }
}

// s = v, reusing s's memory: a cheaper path than assign for the short strings written here, most often
// over a string of the same length (the same attribute of the previous event).
inline void copy_to(std::string& s, std::string_view v) {
    const std::size_t n = v.size(), k = s.size();
    if (n <= k) {
        copy_bytes(s.data(), v.data(), n);
        s.resize(n);
    } else {
        copy_bytes(s.data(), v.data(), k);
        s.append(v.data() + k, n - k);
    }
}
// field = v, reusing the string already in field if any.
inline void set_text(std::optional<std::string>& field, std::string_view v) {
    if (field) copy_to(*field, v);
    else field.emplace(v);
}
std::string_view trim(std::string_view text);
// The text of every pcdata/cdata child of node, concatenated.
std::string node_text(pugi::xml_node node);
void node_text(pugi::xml_node node, std::string& out);
// The same, trimmed at both ends, into out; false when that is empty. scratch: a buffer for several pieces.
bool trimmed_text(pugi::xml_node node, std::string& out, std::string& scratch);

// Fills a Process from one or more <process> elements (read() appends, as a repeated element did before):
// construct, read() each, then finish(), which clears what no element gave.
class ProcessReader {
public:
    explicit ProcessReader(Process& p);
    void read(pugi::xml_node process);
    void finish();

private:
    Process& p_;
    std::size_t attributes_ = 0;
    std::size_t frames_ = 0;
    unsigned seen_ = 0;
    std::string scratch_;
};

// node: <blocked-process-report>. Every field of out is written (the envelope's data fields cleared).
void read_blocked_process_report(pugi::xml_node node, BlockedProcessReport& out);
// out as a default-constructed BlockedProcessReport.
void clear(BlockedProcessReport& out);
// node: <deadlock> (or <deadlock-list>, whose first <deadlock> is read). Every field of out is written.
void read_deadlock(pugi::xml_node node, DeadlockReport& out);
// out as a default-constructed DeadlockReport.
void clear(DeadlockReport& out);

}  // namespace dmvlog::xe::detail
