// The digest as one self-contained HTML file: inline CSS and SVG only (no script, no font, no image, no
// network), laid out for a phone first. A timeline of blocked sessions over the window with the episodes
// marked, and bars for the head blockers.
#include <algorithm>
#include <fmt/format.h>

#include "agent/digest/digest.h"
#include "agent/digest/format.h"

namespace dmvlog::digest {

namespace {

std::string esc(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

constexpr const char* kStyle = R"css(
:root{color-scheme:light;--fg:#1b1f24;--muted:#5b6570;--line:#d8dee4;--bad:#c62828;--bar:#e57373;--band:#ffcdd2;--ok:#2e7d32}
*{box-sizing:border-box}
body{margin:0;padding:12px;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:#fff}
main{max-width:980px;margin:0 auto}
h1{font-size:1.3em;margin:.2em 0}
h2{font-size:1.15em;margin:1.2em 0 .4em;border-bottom:1px solid var(--line);padding-bottom:.2em}
h3{font-size:1em;margin:1em 0 .3em}
.sub{color:var(--muted);margin:0 0 .6em}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:8px}
.card{border:1px solid var(--line);border-radius:8px;padding:8px 10px}
.card .v{font-size:1.5em;font-weight:600}
.card .k{color:var(--muted);font-size:.85em}
.card .c{font-size:.8em;color:var(--muted)}
.card.bad .v{color:var(--bad)}
.quiet{border-left:4px solid var(--ok);padding:8px 12px;background:#f1f8e9}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.88em}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;white-space:nowrap}
td.n{text-align:right;white-space:nowrap}
code{font:12px/1.35 ui-monospace,"DejaVu Sans Mono",monospace;white-space:pre-wrap;word-break:break-word}
td code{display:block;min-width:18em;max-width:40em}
.t{white-space:nowrap}
svg{width:100%;height:auto;display:block}
.note{color:var(--muted);font-size:.85em}
)css";

std::string card(const std::string& value, const std::string& key, const std::string& change, bool bad, const std::string& id) {
    return fmt::format("<div class=\"card{}\" id=\"{}\"><div class=\"v\">{}</div><div class=\"k\">{}</div>{}</div>",
                       bad ? " bad" : "", id, esc(value), esc(key), change.empty() ? "" : "<div class=\"c\">" + esc(change) + "</div>");
}

// Blocked sessions over the window (a step area, one step per bucket) with the episodes as bands.
std::string timeline_svg(const InstanceDigest& d, const query::Window& w, const query::Zone& zone) {
    const double W = 400, H = 150, L = 26, R = 6, T = 8, B = 22;
    const double pw = W - L - R, ph = H - T - B;
    int ymax = 1;
    for (int v : d.timeline) ymax = std::max(ymax, v);
    const double span = static_cast<double>(w.to - w.from);
    auto x_of = [&](std::int64_t t) { return L + pw * static_cast<double>(t - w.from) / span; };
    auto y_of = [&](double v) { return T + ph - ph * v / ymax; };
    std::string s = fmt::format(
        "<svg id=\"timeline\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"Blocked sessions over the window\" "
        "xmlns=\"http://www.w3.org/2000/svg\">",
        W, H);
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fafbfc\" stroke=\"#d8dee4\"/>", L, T, pw, ph);
    for (const auto& e : d.episodes) {
        const double x0 = x_of(e.window_start), x1 = std::max(x_of(e.window_end), x0 + 1.5);
        s += fmt::format("<rect class=\"episode\" x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"#ffcdd2\" "
                         "opacity=\"0.6\"><title>{}</title></rect>",
                         x0, T, x1 - x0, ph,
                         esc(fmt::format("head {} {}: {} – {}", e.head_spid, who(e.head_login, e.head_host, e.head_app),
                                         zone.display(e.start), zone.display(e.end))));
    }
    if (!d.timeline.empty()) {
        const double bw = pw / static_cast<double>(d.timeline.size());
        std::string path = fmt::format("M{:.1f},{:.1f}", L, y_of(0));
        for (std::size_t i = 0; i < d.timeline.size(); ++i) {
            const double x0 = L + bw * static_cast<double>(i), y = y_of(d.timeline[i]);
            path += fmt::format(" L{:.1f},{:.1f} L{:.1f},{:.1f}", x0, y, x0 + bw, y);
        }
        path += fmt::format(" L{:.1f},{:.1f} Z", L + pw, y_of(0));
        s += "<path d=\"" + path + "\" fill=\"#e57373\" fill-opacity=\"0.85\" stroke=\"#c62828\" stroke-width=\"1\"/>";
    }
    // Axes: sessions on the left, times below (start, middle, end).
    s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"end\" fill=\"#5b6570\">{}</text>", L - 4, y_of(ymax) + 4, ymax);
    s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"end\" fill=\"#5b6570\">0</text>", L - 4, y_of(0));
    const std::int64_t mid = w.from + (w.to - w.from) / 2;
    const std::pair<std::int64_t, const char*> ticks[] = {{w.from, "start"}, {mid, "middle"}, {w.to, "end"}};
    for (const auto& [t, anchor] : ticks) {
        const char* a = std::string(anchor) == "start" ? "start" : std::string(anchor) == "end" ? "end" : "middle";
        s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" font-size=\"11\" text-anchor=\"{}\" fill=\"#5b6570\">{}</text>", x_of(t),
                         H - 8, a, esc(zone.display(t).substr(11, 5)));
    }
    s += "</svg>";
    return s;
}

std::string bars_svg(const InstanceDigest& d) {
    if (d.head_blockers.empty()) return "";
    const double W = 400, row = 26, L = 4;
    const double H = row * static_cast<double>(d.head_blockers.size()) + 6;
    double vmax = 1;
    for (const auto& h : d.head_blockers) vmax = std::max(vmax, h.blocked_session_seconds);
    std::string s = fmt::format(
        "<svg id=\"head-bars\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"Blocked time by head blocker\" "
        "xmlns=\"http://www.w3.org/2000/svg\">",
        W, H);
    for (std::size_t i = 0; i < d.head_blockers.size(); ++i) {
        const auto& h = d.head_blockers[i];
        const double y = 4 + row * static_cast<double>(i);
        const double w = std::max(2.0, (W - L - 8) * h.blocked_session_seconds / vmax);
        s += fmt::format("<rect x=\"{}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" rx=\"3\" fill=\"#e57373\"/>", L, y, w, row - 8);
        s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" font-size=\"11\" fill=\"#1b1f24\">{}</text>", L + 6, y + row / 2 + 1,
                         esc(fmt::format("{} — {} blocked, {} episode{}", who(h.login, h.host, h.app),
                                         duration_text(h.blocked_session_seconds), h.episodes, h.episodes == 1 ? "" : "s")));
    }
    return s + "</svg>";
}

struct HtmlTable {
    std::string title;
    std::vector<std::string> head;
    std::vector<bool> numeric;
    std::vector<std::vector<std::string>> rows;   // cells already escaped
};

std::string table_html(const HtmlTable& t) {
    if (t.rows.empty()) return "";
    std::string s = "<h3>" + esc(t.title) + "</h3><div class=\"scroll\"><table><thead><tr>";
    for (const auto& h : t.head) s += "<th>" + esc(h) + "</th>";
    s += "</tr></thead><tbody>";
    for (const auto& r : t.rows) {
        s += "<tr>";
        for (std::size_t i = 0; i < r.size(); ++i)
            s += (i < t.numeric.size() && t.numeric[i] ? "<td class=\"n\">" : "<td>") + r[i] + "</td>";
        s += "</tr>";
    }
    return s + "</tbody></table></div>";
}

// A time in a table: the clock time when it is on the window's first day, else date and time.
std::string when(std::int64_t t, const query::Window& w, const query::Zone& zone) {
    auto full = zone.display(t), first = zone.display(w.from);
    return "<span class=\"t\">" + esc(full.substr(0, 10) == first.substr(0, 10) ? full.substr(11) : full) + "</span>";
}

std::string code(const std::string& s) { return s.empty() ? "" : "<code>" + esc(one_line(s, 600)) + "</code>"; }

std::string instance_html(const InstanceDigest& d, const query::Window& w, const query::Zone& zone) {
    std::string s = fmt::format("<section class=\"instance\" data-instance=\"{}\"><h2>{}</h2>", esc(d.instance), esc(d.instance));
    if (d.quiet()) {
        s += "<p class=\"quiet\" id=\"quiet\">" + esc(quiet_line(d, w, zone)) + "</p>";
        for (const auto& n : d.notes) s += "<p class=\"note\">" + esc(n) + "</p>";
        return s + "</section>";
    }
    const auto& h = d.headline;
    const auto& p = d.previous;
    s += "<div class=\"cards\">";
    s += card(std::to_string(h.episodes), "blocking episodes", change_text(h.episodes, p.episodes, d.previous_covered),
              h.episodes > 0, "episodes");
    s += card(duration_text(h.blocked_session_seconds), "blocked session time",
              change_text(h.blocked_session_seconds, p.blocked_session_seconds, d.previous_covered), h.blocked_session_seconds > 0,
              "blocked-time");
    s += card(duration_text(h.longest_episode_s), "longest episode", "", false, "longest");
    s += card(std::to_string(h.max_sessions_blocked), "sessions blocked at the worst moment",
              h.worst_at ? zone.display(*h.worst_at).substr(11, 8) : "", h.max_sessions_blocked > 0, "worst");
    s += card(std::to_string(h.deadlocks), "deadlocks", change_text(h.deadlocks, p.deadlocks, d.previous_covered),
              h.deadlocks > 0, "deadlocks");
    s += card(d.threshold_s ? fmt::format("{} s", *d.threshold_s) : "?", "blocked process threshold", "", false, "threshold");
    s += "</div>";
    s += "<h3>Blocked sessions over the window</h3>" + timeline_svg(d, w, zone);
    s += "<p class=\"note\">Most sessions blocked at once per " + esc(duration_text(secs(d.bucket_ticks))) +
         "; shaded: blocking episodes.</p>";
    if (!d.head_blockers.empty()) s += "<h3>Blocked time by head blocker</h3>" + bars_svg(d);

    HtmlTable heads{"Head blockers", {"login", "host", "app", "status", "open tran", "episodes", "blocked", "longest", "statement"},
                    {false, false, false, false, true, true, true, true, false}, {}};
    for (const auto& x : d.head_blockers)
        heads.rows.push_back({esc(x.login), esc(x.host), esc(x.app), esc(x.status),
                              x.open_transaction_s ? esc((x.open_transaction_at_least ? "≥ " : "") + duration_text(*x.open_transaction_s)) : "", std::to_string(x.episodes),
                              esc(duration_text(x.blocked_session_seconds)), esc(duration_text(x.longest_episode_s)), code(x.statement)});
    s += table_html(heads);
    HtmlTable eps{"Episodes", {"start", "end", "in window", "head", "sessions", "at once", "blocked", "max wait"},
                  {false, false, true, false, true, true, true, true}, {}};
    for (const auto& e : d.episodes)
        eps.rows.push_back({when(e.start, w, zone) + (e.began_before ? " ◂" : ""), when(e.end, w, zone) + (e.continues_after ? " ▸" : ""),
                            esc(duration_text(secs(e.window_end - e.window_start))),
                            esc(fmt::format("{} {}", e.head_spid, who(e.head_login, e.head_host, e.head_app))),
                            std::to_string(e.sessions_blocked), std::to_string(e.max_sessions_blocked),
                            esc(duration_text(e.blocked_session_seconds)), esc(duration_text(e.max_wait_s))});
    s += table_html(eps);
    HtmlTable stmts{"Blocked statements", {"sessions", "episodes", "blocked", "max wait", "login", "statement"},
                    {true, true, true, true, false, false}, {}};
    for (const auto& x : d.blocked_statements)
        stmts.rows.push_back({std::to_string(x.sessions), std::to_string(x.episodes), esc(duration_text(x.blocked_session_seconds)),
                              esc(duration_text(x.max_wait_s)), esc(x.login), code(x.statement)});
    s += table_html(stmts);
    HtmlTable res{"Most contended resources", {"resource", "object", "mode", "sessions", "blocked"}, {false, false, false, true, true}, {}};
    for (const auto& r : d.resources)
        res.rows.push_back({esc(r.resource), esc(r.object), esc(r.lock_mode), std::to_string(r.sessions),
                            esc(duration_text(r.blocked_session_seconds))});
    s += table_html(res);
    HtmlTable objs{"Most contended objects", {"object", "resources", "sessions", "blocked"}, {false, true, true, true}, {}};
    for (const auto& o : d.objects)
        objs.rows.push_back({esc(o.object), std::to_string(o.resources), std::to_string(o.sessions), esc(duration_text(o.blocked_session_seconds))});
    s += table_html(objs);
    HtmlTable dls{"Deadlocks", {"time", "", "spid", "who", "mode", "statement"}, {false, false, true, false, false, false}, {}};
    for (const auto& x : d.deadlocks)
        for (const auto& pr : x.processes)
            dls.rows.push_back({when(x.at, w, zone), pr.victim ? "<b>victim</b>" : "", std::to_string(pr.spid),
                                esc(who(pr.login, pr.host, pr.app)), esc(pr.lock_mode), code(pr.statement)});
    s += table_html(dls);
    HtmlTable cpu{"Top CPU queries (context)", {"query hash", "executions", "cpu", "share", "statement"}, {false, true, true, true, false}, {}};
    for (const auto& q : d.top_cpu)
        cpu.rows.push_back({esc(q.query_hash), std::to_string(q.executions), esc(duration_text(q.cpu_ms / 1000.0)),
                            fmt::format("{:.1f}%", q.share), code(q.statement)});
    s += table_html(cpu);
    HtmlTable waits{"Top waits (context)", {"wait type", "wait", "waits", "share"}, {false, true, true, true}, {}};
    for (const auto& x : d.top_waits)
        waits.rows.push_back({esc(x.wait_type), esc(duration_text(static_cast<double>(x.wait_ms) / 1000.0)), std::to_string(x.waits),
                              fmt::format("{:.1f}%", x.share)});
    s += table_html(waits);
    for (const auto& n : d.notes) s += "<p class=\"note\">" + esc(n) + "</p>";
    return s + "</section>";
}

}  // namespace

std::string render_html(const Digest& d, const query::Zone& zone) {
    const std::string label = window_label(d.window, zone);
    std::string s = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                    "<title>" + esc("Blocking digest — " + label) + "</title><style>" + kStyle + "</style></head><body><main>";
    s += "<h1>Blocking digest</h1><p class=\"sub\">" + esc(label) + " · generated " + esc(zone.display(d.generated_at)) + "</p>";
    for (const auto& n : d.window.notes) s += "<p class=\"note\">" + esc(n) + "</p>";
    if (d.instances.empty()) s += "<p class=\"quiet\">" + esc("no instance in the store for " + label) + "</p>";
    for (const auto& x : d.instances) s += instance_html(x, d.window, zone);
    s += "<p class=\"note\">dmvlog digest · windows are half-open [from, to); an episode crossing a boundary counts in "
         "each window for its part inside it.</p></main></body></html>\n";
    return s;
}

}  // namespace dmvlog::digest
