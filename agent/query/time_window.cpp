#include "agent/query/time_window.h"

#include <date/tz.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>

#include "agent/config/config.h"
#include "agent/core/time_format.h"

namespace dmvlog::query {

namespace {

using Seconds = std::chrono::seconds;

const date::time_zone* tzp(const void* p) { return static_cast<const date::time_zone*>(p); }

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

std::string hhmm(std::int64_t wall_ticks) {
    auto c = civil_from_ticks(wall_ticks);
    return fmt::format("{:02}:{:02}", c.hour, c.minute);
}

std::string ymd(std::int64_t wall_ticks) {
    auto c = civil_from_ticks(wall_ticks);
    return fmt::format("{:04}-{:02}-{:02}", c.year, c.month, c.day);
}

std::string offset_text(int minutes) {
    return fmt::format("{}{:02}:{:02}", minutes < 0 ? '-' : '+', std::abs(minutes) / 60, std::abs(minutes) % 60);
}

}  // namespace

Zone::Zone(const std::string& name) : name_(name.empty() ? "UTC" : name) {
    if (name_ == "UTC" || name_ == "Etc/UTC" || name_ == "Z") {
        name_ = "UTC";
        return;
    }
    try {
        tz_ = date::locate_zone(name_);
    } catch (const std::exception&) {
        throw UsageError(fmt::format("unknown time zone '{}' (an IANA name such as Europe/Berlin, or UTC)", name_));
    }
}

int Zone::offset_minutes(std::int64_t utc_ticks) const {
    if (!tz_) return 0;
    date::sys_seconds s{Seconds{floor_div(utc_ticks, kTicksPerSecond)}};
    auto info = tzp(tz_)->get_info(s);
    return static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(info.offset).count());
}

std::string Zone::abbreviation(std::int64_t utc_ticks) const {
    if (!tz_) return "UTC";
    date::sys_seconds s{Seconds{floor_div(utc_ticks, kTicksPerSecond)}};
    return tzp(tz_)->get_info(s).abbrev;
}

Zone::Local Zone::resolve(std::int64_t wall_ticks) const {
    Local out;
    if (!tz_) {
        out.utc_ticks = wall_ticks;
        return out;
    }
    const std::int64_t secs = floor_div(wall_ticks, kTicksPerSecond);
    date::local_seconds ls{Seconds{secs}};
    auto info = tzp(tz_)->get_info(ls);
    auto off = [](const date::sys_info& i) {
        return static_cast<std::int64_t>(std::chrono::duration_cast<Seconds>(i.offset).count()) * kTicksPerSecond;
    };
    switch (info.result) {
        case date::local_info::unique:
            out.utc_ticks = wall_ticks - off(info.first);
            break;
        case date::local_info::nonexistent: {
            // Interpreted with the offset in force before the jump: moved forward by the gap.
            out.utc_ticks = wall_ticks - off(info.first);
            const std::int64_t jump_utc =
                static_cast<std::int64_t>(info.second.begin.time_since_epoch().count()) * kTicksPerSecond;
            out.note = fmt::format(
                "{} {} does not exist in {} on {} (clocks jump from {} {} to {} {}); using {} {}", ymd(wall_ticks),
                hhmm(wall_ticks), name_, ymd(wall_ticks), hhmm(jump_utc + off(info.first)), info.first.abbrev,
                hhmm(jump_utc + off(info.second)), info.second.abbrev, hhmm(out.utc_ticks + off(info.second)),
                info.second.abbrev);
            break;
        }
        case date::local_info::ambiguous: {
            out.utc_ticks = wall_ticks - off(info.first);
            const int second_min = static_cast<int>(off(info.second) / kTicksPerMinute);
            out.note = fmt::format(
                "{} {} occurs twice in {} ({} {} {}, then {} {} {}); using the first, {} {}; write {}T{}{} for the "
                "second",
                ymd(wall_ticks), hhmm(wall_ticks), name_, hhmm(wall_ticks), info.first.abbrev,
                offset_text(static_cast<int>(off(info.first) / kTicksPerMinute)), hhmm(wall_ticks),
                info.second.abbrev, offset_text(second_min), hhmm(wall_ticks), info.first.abbrev, ymd(wall_ticks),
                hhmm(wall_ticks), offset_text(second_min));
            break;
        }
    }
    return out;
}

std::string Zone::iso(std::int64_t utc_ticks) const {
    const int off = offset_minutes(utc_ticks);
    auto c = civil_from_ticks(utc_ticks + static_cast<std::int64_t>(off) * kTicksPerMinute);
    if (!tz_)
        return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z", c.year, c.month, c.day, c.hour, c.minute,
                           c.second, c.ticks);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}{}", c.year, c.month, c.day, c.hour, c.minute,
                       c.second, c.ticks, offset_text(off));
}

std::string Zone::display(std::int64_t utc_ticks, bool with_fraction) const {
    const int off = offset_minutes(utc_ticks);
    auto c = civil_from_ticks(utc_ticks + static_cast<std::int64_t>(off) * kTicksPerMinute);
    std::string out = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", c.year, c.month, c.day, c.hour, c.minute,
                                  c.second);
    if (with_fraction) out += fmt::format(".{:03}", c.ticks / 10000);
    if (tz_) out += " " + abbreviation(utc_ticks);
    return out;
}

Zone::Local parse_user_time(const std::string& raw, const Zone& zone, std::int64_t now_utc_ticks) {
    std::string text = raw;
    while (!text.empty() && text.back() == ' ') text.pop_back();
    if (text == "now") return {now_utc_ticks, ""};
    bool explicit_utc = !text.empty() && (text.back() == 'Z' || text.back() == 'z');
    if (explicit_utc) text.back() = 'Z';
    auto ts = parse_timestamp(text);
    if (!ts)
        throw UsageError(fmt::format("cannot read the time '{}': use YYYY-MM-DDTHH:MM[:SS] with Z or +hh:mm, or a "
                                     "local time in --tz (now: {})",
                                     raw, zone.name()));
    if (explicit_utc || ts->has_offset) return {ts->utc_ticks, ""};
    return zone.resolve(ts->utc_ticks);  // no zone: the value is a wall time in `zone`
}

std::optional<std::int64_t> store_ticks(std::string_view s) {
    // "YYYY-MM-DD HH:MM:SS.fffffff" (the fraction may be shorter or absent)
    if (s.size() < 19) return std::nullopt;
    auto num = [&](std::size_t at, std::size_t n, int& out) {
        int v = 0;
        for (std::size_t i = at; i < at + n; ++i) {
            char c = s[i];
            if (c < '0' || c > '9') return false;
            v = v * 10 + (c - '0');
        }
        out = v;
        return true;
    };
    CivilTime c;
    if (!num(0, 4, c.year) || !num(5, 2, c.month) || !num(8, 2, c.day) || !num(11, 2, c.hour) ||
        !num(14, 2, c.minute) || !num(17, 2, c.second))
        return std::nullopt;
    if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > 31) return std::nullopt;
    std::int32_t ticks = 0;
    if (s.size() > 20 && s[19] == '.') {
        int n = 0;
        for (std::size_t i = 20; i < s.size() && n < 7; ++i, ++n) {
            if (s[i] < '0' || s[i] > '9') break;
            ticks = ticks * 10 + (s[i] - '0');
        }
        for (int k = n; k < 7; ++k) ticks *= 10;
    }
    c.ticks = ticks;
    return ticks_from_civil(c);
}

std::string store_text(std::int64_t utc_ticks) { return format_timestamp(Timestamp{utc_ticks, 0, false}); }

std::int64_t now_ticks() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
               .count() /
           100;
}

Window make_window(const WindowArgs& a, const Zone& zone, std::int64_t now, bool point_ok, bool needs_point) {
    Window w;
    auto take = [&](const std::string& text) {
        auto l = parse_user_time(text, zone, now);
        if (!l.note.empty()) w.notes.push_back(l.note);
        return l.utc_ticks;
    };
    if (a.at) {
        if (!point_ok) throw UsageError("--at is not used by this question: give --from/--to or --last");
        if (a.from || a.to || a.last) throw UsageError("--at cannot be combined with --from, --to or --last");
        w.from = w.to = take(*a.at);
        w.is_point = true;
        return w;
    }
    if (needs_point) throw UsageError("this question needs --at T (the moment to look at)");
    if (a.last) {
        if (a.from || a.to) throw UsageError("--last cannot be combined with --from/--to");
        std::chrono::milliseconds d;
        try {
            d = config::parse_duration(*a.last);
        } catch (const std::exception&) {
            throw UsageError(fmt::format("cannot read --last '{}': use 30m, 1h, 2d, ...", *a.last));
        }
        if (d.count() <= 0) throw UsageError("--last must be positive");
        w.to = now;
        w.from = now - static_cast<std::int64_t>(d.count()) * 10'000;
        return w;
    }
    if (!a.from && !a.to) throw UsageError("give a window: --from T --to T, or --last 1h");
    w.to = a.to ? take(*a.to) : now;
    if (!a.from) throw UsageError("--to needs --from");
    w.from = take(*a.from);
    if (w.to <= w.from) throw UsageError("the window is empty: --to must be after --from");
    return w;
}

}  // namespace dmvlog::query
