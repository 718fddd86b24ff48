// Timestamp <-> text, and civil-calendar arithmetic (proleptic Gregorian, years 0001-9999 as SQL Server).
//
// The store format (docs/design.md) is UTC text "YYYY-MM-DD HH:MM:SS.fffffff": fixed width, 7 fraction digits
// (100 ns), so it sorts as text in the same order as in time. A datetimeoffset keeps its own offset in
// Timestamp::offset_minutes; format_timestamp_with_offset shows it as SQL Server does
// ("YYYY-MM-DD HH:MM:SS.fffffff +09:00", the wall time at that offset).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/value.h"

namespace dmvlog {

inline constexpr std::int64_t kTicksPerSecond = 10'000'000;
inline constexpr std::int64_t kTicksPerMinute = 60 * kTicksPerSecond;
inline constexpr std::int64_t kTicksPerDay = 86'400 * kTicksPerSecond;

// A wall-clock date and time with 100 ns precision, without any zone.
struct CivilTime {
    int year = 1970;
    int month = 1;   // 1..12
    int day = 1;     // 1..31
    int hour = 0;    // 0..23
    int minute = 0;  // 0..59
    int second = 0;  // 0..59
    std::int32_t ticks = 0;  // 100 ns units within the second, 0..9'999'999
    friend bool operator==(const CivilTime&, const CivilTime&) = default;
};

// Days since 1970-01-01 of a proleptic Gregorian date (negative before 1970).
std::int64_t days_from_civil(int year, int month, int day);

// 100 ns ticks since 1970-01-01T00:00:00 of a wall time, and back.
std::int64_t ticks_from_civil(const CivilTime& t);
CivilTime civil_from_ticks(std::int64_t ticks);

// True for a real calendar date and time (month/day ranges, leap years, year 1..9999, ticks < 10^7).
bool is_valid_civil(const CivilTime& t);

// A Timestamp from a wall time read at a given offset: utc_ticks = wall - offset.
Timestamp timestamp_from_wall(const CivilTime& wall, int offset_minutes, bool has_offset);

// "YYYY-MM-DD HH:MM:SS.fffffff" of the UTC instant (the offset, if any, is not shown).
std::string format_timestamp(const Timestamp& ts);

// "YYYY-MM-DD HH:MM:SS.fffffff +HH:MM": the wall time at the value's own offset (+00:00 without one).
std::string format_timestamp_with_offset(const Timestamp& ts);

// "HH:MM:SS.fffffff" of ticks since midnight (a SQL Server time value). ticks must be in [0, kTicksPerDay).
std::string format_time_of_day(std::int64_t ticks);

// Parses "HH:MM:SS" or "HH:MM:SS.f" (1 to 9 fraction digits, beyond the 7th dropped) into ticks since
// midnight; nullopt for anything else.
std::optional<std::int64_t> parse_time_of_day(std::string_view text);

// Parses "YYYY-MM-DD", "YYYY-MM-DD HH:MM", "YYYY-MM-DD HH:MM:SS" or "...SS.f" (1 to 9 fraction digits;
// digits beyond the 7th, below 100 ns, are dropped), with ' ' or 'T' between date and time, optionally
// followed by "Z" (UTC, has_offset false) or by an offset "+HH:MM"/"-HH:MM" (optionally after one space;
// has_offset true, utc_ticks normalised to UTC, range -14:00..+14:00). Nothing else may follow.
// Returns nullopt for anything else, including impossible dates. Round trips:
//   parse_timestamp(format_timestamp(t)) == t               when !t.has_offset
//   parse_timestamp(format_timestamp_with_offset(t)) == t   when t.has_offset
std::optional<Timestamp> parse_timestamp(std::string_view text);

}  // namespace dmvlog
