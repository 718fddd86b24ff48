#include "agent/core/time_format.h"

#include <cstdio>
#include <cstdlib>

namespace dmvlog {

namespace {

// floor division for possibly negative tick counts
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return (m == 2 && is_leap(y)) ? 29 : kDays[m - 1];
}

// A small cursor over the text being parsed.
struct Cursor {
    std::string_view s;
    std::size_t i = 0;
    bool done() const { return i >= s.size(); }
    bool peek(char c) const { return i < s.size() && s[i] == c; }
    bool eat(char c) {
        if (!peek(c)) return false;
        ++i;
        return true;
    }
    // Exactly n decimal digits.
    bool digits(std::size_t n, int& out) {
        if (i + n > s.size()) return false;
        int v = 0;
        for (std::size_t k = 0; k < n; ++k) {
            const char c = s[i + k];
            if (c < '0' || c > '9') return false;
            v = v * 10 + (c - '0');
        }
        i += n;
        out = v;
        return true;
    }
    // 1 to 9 digits after a '.', as 100 ns ticks (digits beyond the 7th dropped).
    bool fraction(std::int32_t& ticks) {
        int n = 0;
        std::int32_t frac = 0;
        while (!done() && s[i] >= '0' && s[i] <= '9') {
            if (n < 7) frac = frac * 10 + (s[i] - '0');
            ++n;
            ++i;
        }
        if (n == 0 || n > 9) return false;
        for (int k = n; k < 7; ++k) frac *= 10;
        ticks = frac;
        return true;
    }
};

void format_civil(char* buf, std::size_t size, const CivilTime& c) {
    std::snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d.%07d", c.year, c.month, c.day, c.hour, c.minute,
                  c.second, static_cast<int>(c.ticks));
}

}  // namespace

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
std::int64_t days_from_civil(int year, int month, int day) {
    const std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2 ? 1 : 0);
    const std::int64_t era = floor_div(y, 400);
    const std::int64_t yoe = y - era * 400;                                        // [0, 399]
    const std::int64_t mp = (month + 9) % 12;                                      // March = 0
    const std::int64_t doy = (153 * mp + 2) / 5 + day - 1;                         // [0, 365]
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                // [0, 146096]
    return era * 146097 + doe - 719468;
}

std::int64_t ticks_from_civil(const CivilTime& t) {
    const std::int64_t days = days_from_civil(t.year, t.month, t.day);
    const std::int64_t secs = static_cast<std::int64_t>(t.hour) * 3600 + t.minute * 60 + t.second;
    return days * kTicksPerDay + secs * kTicksPerSecond + t.ticks;
}

CivilTime civil_from_ticks(std::int64_t ticks) {
    const std::int64_t days = floor_div(ticks, kTicksPerDay);
    std::int64_t rem = ticks - days * kTicksPerDay;  // [0, kTicksPerDay)

    const std::int64_t z = days + 719468;
    const std::int64_t era = floor_div(z, 146097);
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
    const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);

    CivilTime c;
    c.year = static_cast<int>(y);
    c.month = static_cast<int>(m);
    c.day = static_cast<int>(d);
    c.hour = static_cast<int>(rem / (3600 * kTicksPerSecond));
    rem %= 3600 * kTicksPerSecond;
    c.minute = static_cast<int>(rem / kTicksPerMinute);
    rem %= kTicksPerMinute;
    c.second = static_cast<int>(rem / kTicksPerSecond);
    c.ticks = static_cast<std::int32_t>(rem % kTicksPerSecond);
    return c;
}

bool is_valid_civil(const CivilTime& t) {
    return t.year >= 1 && t.year <= 9999 && t.month >= 1 && t.month <= 12 && t.day >= 1 &&
           t.day <= days_in_month(t.year, t.month) && t.hour >= 0 && t.hour <= 23 && t.minute >= 0 &&
           t.minute <= 59 && t.second >= 0 && t.second <= 59 && t.ticks >= 0 && t.ticks < kTicksPerSecond;
}

Timestamp timestamp_from_wall(const CivilTime& wall, int offset_minutes, bool has_offset) {
    Timestamp ts;
    ts.utc_ticks = ticks_from_civil(wall) - static_cast<std::int64_t>(offset_minutes) * kTicksPerMinute;
    ts.offset_minutes = static_cast<std::int16_t>(offset_minutes);
    ts.has_offset = has_offset;
    return ts;
}

std::string format_timestamp(const Timestamp& ts) {
    char buf[64];
    format_civil(buf, sizeof buf, civil_from_ticks(ts.utc_ticks));
    return buf;
}

std::string format_timestamp_with_offset(const Timestamp& ts) {
    const int off = ts.has_offset ? ts.offset_minutes : 0;
    char buf[80];
    format_civil(buf, sizeof buf, civil_from_ticks(ts.utc_ticks + static_cast<std::int64_t>(off) * kTicksPerMinute));
    std::string out = buf;
    char tz[16];
    std::snprintf(tz, sizeof tz, " %c%02d:%02d", off < 0 ? '-' : '+', std::abs(off) / 60, std::abs(off) % 60);
    out += tz;
    return out;
}

std::string format_time_of_day(std::int64_t ticks) {
    ticks %= kTicksPerDay;  // out-of-range input wraps rather than printing hour 24+
    if (ticks < 0) ticks += kTicksPerDay;
    const auto secs = ticks / kTicksPerSecond;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%07d", static_cast<int>(secs / 3600),
                  static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60),
                  static_cast<int>(ticks % kTicksPerSecond));
    return buf;
}

std::optional<std::int64_t> parse_time_of_day(std::string_view text) {
    Cursor c{text};
    int h = 0, m = 0, sec = 0;
    std::int32_t ticks = 0;
    if (!c.digits(2, h) || !c.eat(':') || !c.digits(2, m) || !c.eat(':') || !c.digits(2, sec)) return std::nullopt;
    if (c.eat('.') && !c.fraction(ticks)) return std::nullopt;
    if (!c.done() || h > 23 || m > 59 || sec > 59) return std::nullopt;
    return (static_cast<std::int64_t>(h) * 3600 + m * 60 + sec) * kTicksPerSecond + ticks;
}

std::optional<Timestamp> parse_timestamp(std::string_view text) {
    Cursor c{text};
    CivilTime t;
    if (!c.digits(4, t.year) || !c.eat('-') || !c.digits(2, t.month) || !c.eat('-') || !c.digits(2, t.day))
        return std::nullopt;
    if (c.eat(' ') || c.eat('T')) {
        if (!c.digits(2, t.hour) || !c.eat(':') || !c.digits(2, t.minute)) return std::nullopt;
        if (c.eat(':')) {
            if (!c.digits(2, t.second)) return std::nullopt;
            if (c.eat('.') && !c.fraction(t.ticks)) return std::nullopt;
        }
    }
    if (!is_valid_civil(t)) return std::nullopt;

    int offset = 0;
    bool has_offset = false;
    if (c.eat('Z')) {
        // explicit UTC: same as no offset
    } else {
        Cursor save = c;
        c.eat(' ');
        const bool plus = c.peek('+');
        if (plus || c.peek('-')) {
            ++c.i;
            int hh = 0, mm = 0;
            if (!c.digits(2, hh) || !c.eat(':') || !c.digits(2, mm) || mm > 59) return std::nullopt;
            offset = hh * 60 + mm;
            if (offset > 14 * 60) return std::nullopt;
            if (!plus) offset = -offset;
            has_offset = true;
        } else {
            c = save;
        }
    }
    if (!c.done()) return std::nullopt;
    return timestamp_from_wall(t, offset, has_offset);
}

}  // namespace dmvlog
