// The digest's default window (the last complete clock hour in a time zone), its label, and the line a quiet
// window gets.
#include <fmt/format.h>

#include "agent/core/time_format.h"
#include "agent/digest/digest.h"

namespace dmvlog::digest {

namespace {

constexpr std::int64_t kHour = 3600 * kTicksPerSecond;

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// The start of the local clock hour that holds t: the wall time at t's offset, floored to the hour, at the
// same offset. Daylight-saving changes happen on the hour in practice, so the hour before a change and the
// hour after it are each one real hour; zones with half-hour offsets get their own clock hours.
std::int64_t local_hour_start(const query::Zone& zone, std::int64_t t) {
    const std::int64_t off = static_cast<std::int64_t>(zone.offset_minutes(t)) * kTicksPerMinute;
    return floor_div(t + off, kHour) * kHour - off;
}

}  // namespace

query::Window last_complete_hour(const query::Zone& zone, std::int64_t now) {
    query::Window w;
    w.to = local_hour_start(zone, now);
    w.from = local_hour_start(zone, w.to - 1);
    if (w.to - w.from != kHour)
        w.notes.push_back(fmt::format("the clock hour {} is {} minutes long (a daylight-saving change)",
                                      window_label(w, zone), (w.to - w.from) / kTicksPerMinute));
    return w;
}

std::string window_label(const query::Window& w, const query::Zone& zone) {
    // "2026-11-23 14:00:00 CET" -> date and time parts.
    auto a = zone.display(w.from), b = zone.display(w.to);
    const std::string date_a = a.substr(0, 10), date_b = b.substr(0, 10);
    const std::string time_a = a.substr(11, 5), time_b = b.substr(11, 5);
    const std::string abbr_a = a.size() > 20 ? a.substr(20) : "", abbr_b = b.size() > 20 ? b.substr(20) : "";
    const bool seconds = a.substr(17, 2) != "00" || b.substr(17, 2) != "00";
    const std::string ta = seconds ? a.substr(11, 8) : time_a, tb = seconds ? b.substr(11, 8) : time_b;
    const std::string za = zone.is_utc() ? "UTC" : abbr_a, zb = zone.is_utc() ? "UTC" : abbr_b;
    if (date_a == date_b && za == zb) return fmt::format("{} {}–{} {}", date_a, ta, tb, za);
    if (date_a == date_b) return fmt::format("{} {} {}–{} {}", date_a, ta, za, tb, zb);
    return fmt::format("{} {} {} – {} {} {}", date_a, ta, za, date_b, tb, zb);
}

std::string quiet_line(const InstanceDigest& d, const query::Window& w, const query::Zone& zone) {
    std::string threshold = d.threshold_s ? fmt::format("blocked process threshold {} s", *d.threshold_s)
                                          : std::string("blocked process threshold unknown");
    return fmt::format("{}: no blocking and no deadlocks in {} ({}{})", d.instance, window_label(w, zone), threshold,
                       d.source.empty() ? "; no blocked-process reports are collected" : "");
}

std::optional<Format> parse_format(const std::string& name) {
    if (name == "text") return Format::text;
    if (name == "markdown" || name == "md") return Format::markdown;
    if (name == "html") return Format::html;
    if (name == "json") return Format::json;
    return std::nullopt;
}

std::string render(const Digest& d, Format f, const query::Zone& zone) {
    switch (f) {
        case Format::text: return render_text(d, zone, false);
        case Format::markdown: return render_text(d, zone, true);
        case Format::html: return render_html(d, zone);
        case Format::json: return render_json(d, zone);
    }
    return {};
}

}  // namespace dmvlog::digest
