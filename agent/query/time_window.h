// Times and windows of `dmvlog query`: parsing what the user typed (ISO-8601 with a zone, or a local time in
// an IANA time zone), daylight-saving gaps and overlaps, and showing store times (UTC) in that zone.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/core/value.h"

namespace dmvlog::query {

// A bad --from/--to/--at/--last/--tz value: the message is for the user.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// An IANA time zone (from the system tzdata) or UTC.
class Zone {
public:
    // Throws UsageError for an unknown name.
    explicit Zone(const std::string& name = "UTC");
    const std::string& name() const { return name_; }
    bool is_utc() const { return tz_ == nullptr; }

    struct Local {
        std::int64_t utc_ticks = 0;   // 100 ns ticks since 1970 UTC
        std::string note;             // set when the wall time was in a DST gap or overlap
    };
    // The instant of a wall time in this zone. A wall time in a gap is moved forward by the gap (02:30 ->
    // 03:30 CEST); one in an overlap takes the first (daylight) occurrence. Either is explained in note.
    Local resolve(std::int64_t wall_ticks) const;

    // Offset from UTC in minutes and abbreviation at an instant.
    int offset_minutes(std::int64_t utc_ticks) const;
    std::string abbreviation(std::int64_t utc_ticks) const;

    // "YYYY-MM-DD HH:MM:SS.fffffff+02:00" (ISO-8601 with the zone's offset at that instant; 'T' separator).
    std::string iso(std::int64_t utc_ticks) const;
    // "YYYY-MM-DD HH:MM:SS CEST" (seconds; for tables); with_fraction adds ".fff".
    std::string display(std::int64_t utc_ticks, bool with_fraction = false) const;

private:
    std::string name_;
    const void* tz_ = nullptr;  // const date::time_zone*
};

// Parses a time the user typed: "YYYY-MM-DD[( |T)HH:MM[:SS[.f]]]" followed by "Z" or "+hh:mm"/"-hh:mm"
// (an instant), or without a zone (a wall time in `zone`). Also "now". Throws UsageError.
Zone::Local parse_user_time(const std::string& text, const Zone& zone, std::int64_t now_utc_ticks);

// Store times: "YYYY-MM-DD HH:MM:SS.fffffff" UTC text <-> ticks. Fast, fixed width; nullopt if malformed.
std::optional<std::int64_t> store_ticks(std::string_view text);
std::string store_text(std::int64_t utc_ticks);

// The window of a question: half-open [from, to), or a point (--at).
struct Window {
    std::int64_t from = 0;
    std::int64_t to = 0;
    bool is_point = false;      // --at T: from == to == T
    std::vector<std::string> notes;  // DST explanations
    std::string from_text() const { return store_text(from); }
    std::string to_text() const { return store_text(to); }
};

struct WindowArgs {
    std::optional<std::string> from, to, last, at;
};

// Builds the window from --from/--to, --last D (ending now) or --at T. point_ok: --at is accepted; when
// needs_point, --at is required. Throws UsageError.
Window make_window(const WindowArgs& args, const Zone& zone, std::int64_t now_utc_ticks, bool point_ok,
                   bool needs_point);

// Now, in store ticks.
std::int64_t now_ticks();

}  // namespace dmvlog::query
