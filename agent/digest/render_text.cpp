// The digest as terminal text or Markdown: the headline, then one table per list. A quiet window is one line.
#include <fmt/format.h>

#include "agent/digest/digest.h"
#include "agent/digest/format.h"
#include "agent/query/report.h"

namespace dmvlog::digest {

namespace {

struct Grid {
    std::string title;
    std::vector<std::string> head;
    std::vector<bool> right;   // numbers align right in text
    std::vector<std::vector<std::string>> rows;
};

std::string md_cell(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '|') out += "\\|";
        else if (c == '\n' || c == '\r') out += ' ';
        else out += c;
    }
    return out;
}

std::string render_grid(const Grid& g, bool markdown) {
    if (g.rows.empty()) return "";
    std::string out;
    if (markdown) {
        out += "### " + g.title + "\n\n|";
        for (const auto& h : g.head) out += " " + md_cell(h) + " |";
        out += "\n|";
        for (std::size_t i = 0; i < g.head.size(); ++i) out += i < g.right.size() && g.right[i] ? " ---: |" : " --- |";
        out += "\n";
        for (const auto& r : g.rows) {
            out += "|";
            for (const auto& c : r) out += " " + md_cell(c) + " |";
            out += "\n";
        }
        return out + "\n";
    }
    std::vector<std::size_t> width(g.head.size());
    for (std::size_t i = 0; i < g.head.size(); ++i) width[i] = query::display_width(g.head[i]);
    for (const auto& r : g.rows)
        for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], query::display_width(r[i]));
    auto line = [&](const std::vector<std::string>& cells) {
        std::string l = " ";
        for (std::size_t i = 0; i < cells.size(); ++i) {
            const auto pad = std::string(width[i] - query::display_width(cells[i]), ' ');
            const bool right = i < g.right.size() && g.right[i];
            l += " " + (right ? pad + cells[i] : cells[i] + (i + 1 < cells.size() ? pad : ""));
        }
        return l + "\n";
    };
    out += g.title + "\n" + line(g.head);
    for (const auto& r : g.rows) out += line(r);
    return out + "\n";
}

std::string num(double v, int decimals = 0) { return fmt::format("{:.{}f}", v, decimals); }

std::string instance_text(const InstanceDigest& d, const query::Window& w, const query::Zone& zone, bool md) {
    if (d.quiet()) {
        std::string out = (md ? "" : "") + quiet_line(d, w, zone) + "\n";
        return md ? out + "\n" : out;
    }
    const std::size_t cut = md ? 160 : 70;
    const auto& h = d.headline;
    std::string out;
    out += md ? fmt::format("## {} — {}\n\n", d.instance, window_label(w, zone))
              : fmt::format("{} — {}\n", d.instance, window_label(w, zone));
    auto bullet = [&](const std::string& s) { out += (md ? "- " : "  ") + s + "\n"; };
    auto ch = [&](double cur, double prev) {
        auto t = change_text(cur, prev, d.previous_covered);
        return t.empty() ? std::string() : " (" + t + ")";
    };
    bullet(fmt::format("Blocking episodes: {}{}", h.episodes, ch(h.episodes, d.previous.episodes)));
    bullet(fmt::format("Blocked session time: {} ({} session-seconds){}", duration_text(h.blocked_session_seconds),
                       num(h.blocked_session_seconds), ch(h.blocked_session_seconds, d.previous.blocked_session_seconds)));
    bullet(fmt::format("Longest episode: {}", duration_text(h.longest_episode_s)));
    bullet(fmt::format("Worst moment: {} session{} blocked{}", h.max_sessions_blocked, h.max_sessions_blocked == 1 ? "" : "s",
                       h.worst_at ? " at " + zone.display(*h.worst_at) : std::string()));
    bullet(fmt::format("Longest wait: {}", duration_text(h.max_wait_s)));
    bullet(fmt::format("Deadlocks: {}{}", h.deadlocks, ch(h.deadlocks, d.previous.deadlocks)));
    bullet(d.threshold_s ? fmt::format("Blocked process threshold: {} s", *d.threshold_s)
                         : std::string("Blocked process threshold: unknown"));
    if (!d.previous_covered) bullet("The store does not reach back over the previous window: no comparison.");
    out += "\n";

    Grid heads{"Head blockers", {"login", "host", "app", "status", "open tran", "episodes", "blocked", "longest", "statement"},
               {false, false, false, false, true, true, true, true, false}, {}};
    for (const auto& x : d.head_blockers)
        heads.rows.push_back({x.login, x.host, x.app, x.status,
                              x.open_transaction_s ? (x.open_transaction_at_least ? "≥ " : "") + duration_text(*x.open_transaction_s) : "",
                              std::to_string(x.episodes), duration_text(x.blocked_session_seconds),
                              duration_text(x.longest_episode_s), one_line(x.statement, cut)});
    out += render_grid(heads, md);

    Grid eps{"Episodes", {"start", "end", "in window", "head", "sessions", "max at once", "blocked", "max wait", "resources"},
             {false, false, true, false, true, true, true, true, false}, {}};
    for (const auto& e : d.episodes)
        eps.rows.push_back({zone.display(e.start) + (e.began_before ? " (before)" : ""),
                            zone.display(e.end) + (e.continues_after ? " (after)" : ""),
                            duration_text(secs(e.window_end - e.window_start)),
                            fmt::format("{} {}", e.head_spid, who(e.head_login, e.head_host, e.head_app)),
                            std::to_string(e.sessions_blocked), std::to_string(e.max_sessions_blocked),
                            duration_text(e.blocked_session_seconds), duration_text(e.max_wait_s), e.resources});
    out += render_grid(eps, md);

    Grid stmts{"Blocked statements", {"sessions", "episodes", "blocked", "max wait", "login", "statement"},
               {true, true, true, true, false, false}, {}};
    for (const auto& s : d.blocked_statements)
        stmts.rows.push_back({std::to_string(s.sessions), std::to_string(s.episodes), duration_text(s.blocked_session_seconds),
                              duration_text(s.max_wait_s), s.login, one_line(s.statement, cut)});
    out += render_grid(stmts, md);

    Grid res{"Most contended resources", {"resource", "object", "mode", "sessions", "blocked"}, {false, false, false, true, true}, {}};
    for (const auto& r : d.resources)
        res.rows.push_back({r.resource, r.object, r.lock_mode, std::to_string(r.sessions), duration_text(r.blocked_session_seconds)});
    out += render_grid(res, md);

    Grid objs{"Most contended objects", {"object", "resources", "sessions", "blocked"}, {false, true, true, true}, {}};
    for (const auto& o : d.objects)
        objs.rows.push_back({o.object, std::to_string(o.resources), std::to_string(o.sessions), duration_text(o.blocked_session_seconds)});
    out += render_grid(objs, md);

    Grid dls{"Deadlocks", {"time", "victim", "spid", "login", "mode", "statement"}, {false, false, true, false, false, false}, {}};
    for (const auto& x : d.deadlocks)
        for (const auto& p : x.processes)
            dls.rows.push_back({zone.display(x.at), p.victim ? "victim" : "", std::to_string(p.spid),
                                who(p.login, p.host, p.app), p.lock_mode, one_line(p.statement, cut)});
    out += render_grid(dls, md);

    Grid cpu{"Top CPU queries (context)", {"query_hash", "executions", "cpu", "share", "statement"}, {false, true, true, true, false}, {}};
    for (const auto& q : d.top_cpu)
        cpu.rows.push_back({q.query_hash, std::to_string(q.executions), duration_text(q.cpu_ms / 1000.0), num(q.share, 1) + "%",
                            one_line(q.statement, cut)});
    out += render_grid(cpu, md);

    Grid waits{"Top waits (context)", {"wait_type", "wait", "waits", "share"}, {false, true, true, true}, {}};
    for (const auto& x : d.top_waits)
        waits.rows.push_back({x.wait_type, duration_text(static_cast<double>(x.wait_ms) / 1000.0), std::to_string(x.waits),
                              num(x.share, 1) + "%"});
    out += render_grid(waits, md);

    for (const auto& n : d.notes) out += (md ? "> " : "note: ") + n + "\n";
    if (!d.notes.empty()) out += "\n";
    return out;
}

}  // namespace

std::string render_text(const Digest& d, const query::Zone& zone, bool markdown) {
    std::string out;
    bool all_quiet = true;
    for (const auto& x : d.instances) all_quiet = all_quiet && x.quiet();
    if (d.instances.empty()) return fmt::format("no instance in the store for {}\n", window_label(d.window, zone));
    if (!all_quiet)
        out += markdown ? fmt::format("# Blocking digest — {}\n\n", window_label(d.window, zone))
                        : fmt::format("Blocking digest — {}\n\n", window_label(d.window, zone));
    for (const auto& n : d.window.notes) out += (markdown ? "> " : "note: ") + n + "\n";
    for (const auto& x : d.instances) out += instance_text(x, d.window, zone, markdown);
    return out;
}

std::string summary_text(const Digest& d, const query::Zone& zone) {
    std::string out;
    for (const auto& x : d.instances) {
        if (!out.empty()) out += "\n";
        out += x.quiet() ? quiet_line(x, d.window, zone) : instance_summary(x, d.window, zone);
    }
    if (out.empty()) out = fmt::format("no instance in the store for {}", window_label(d.window, zone));
    return out;
}

}  // namespace dmvlog::digest
