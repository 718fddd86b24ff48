#include "agent/digest/format.h"

#include <cmath>
#include <fmt/format.h>

#include "agent/core/time_format.h"
#include "agent/query/report.h"

namespace dmvlog::digest {

double secs(std::int64_t ticks) { return static_cast<double>(ticks) / kTicksPerSecond; }

double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

std::string iso_utc(std::int64_t t) {
    auto s = format_timestamp(Timestamp{t, 0, false});   // "YYYY-MM-DD HH:MM:SS.fffffff"
    s[10] = 'T';
    std::string ms = s.substr(20, 3);
    s = s.substr(0, 19);
    if (ms != "000") s += "." + ms;
    return s + "Z";
}

std::string duration_text(double seconds) {
    if (seconds < 0) seconds = 0;
    if (seconds < 60) return fmt::format("{:.0f}s", seconds);
    auto total = static_cast<long long>(std::llround(seconds));
    if (total < 3600) return fmt::format("{}m {:02}s", total / 60, total % 60);
    return fmt::format("{}h {:02}m", total / 3600, (total % 3600) / 60);
}

std::optional<double> change_pct(double current, double previous, bool covered) {
    if (!covered || previous <= 0) return std::nullopt;
    return (current - previous) / previous * 100.0;
}

std::string change_text(double current, double previous, bool covered) {
    if (!covered) return "";
    if (previous <= 0 && current <= 0) return "none in the previous window either";
    if (previous <= 0) return "new: none in the previous window";
    const double pct = (current - previous) / previous * 100.0;
    if (std::fabs(pct) < 0.5) return "same as the previous window";
    return fmt::format("{:+.0f}% vs the previous window", pct);
}

std::string one_line(const std::string& text, std::size_t max) {
    std::string out;
    bool space = false;
    for (char c : text) {
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
    if (max > 0 && query::display_width(out) > max) return query::fit(out, max);
    return out;
}

std::string who(const std::string& login, const std::string& host, const std::string& app) {
    std::string out = login.empty() ? "?" : login;
    if (!host.empty()) out += "@" + host;
    if (!app.empty()) out += " (" + app + ")";
    return out;
}

std::string instance_summary(const InstanceDigest& d, const query::Window& w, const query::Zone& zone) {
    const auto& h = d.headline;
    std::string out = fmt::format("{}, {}: {} blocking episode{}, {} blocked session time", d.instance,
                                  window_label(w, zone), h.episodes, h.episodes == 1 ? "" : "s",
                                  duration_text(h.blocked_session_seconds));
    auto ch = change_text(h.blocked_session_seconds, d.previous.blocked_session_seconds, d.previous_covered);
    if (!ch.empty()) out += " (" + ch + ")";
    if (h.episodes > 0) {
        out += fmt::format(", longest {}, worst moment {} session{} blocked", duration_text(h.longest_episode_s),
                           h.max_sessions_blocked, h.max_sessions_blocked == 1 ? "" : "s");
        if (!d.head_blockers.empty()) {
            const auto& top = d.head_blockers.front();
            out += fmt::format("; top head blocker {}", who(top.login, top.host, top.app));
        }
    }
    out += fmt::format("; {} deadlock{}", h.deadlocks, h.deadlocks == 1 ? "" : "s");
    return out;
}

}  // namespace dmvlog::digest
