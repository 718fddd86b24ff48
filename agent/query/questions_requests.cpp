// Questions on the requests snapshots: running-at, requests, blocking.
#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <set>
#include <unordered_map>

#include "agent/core/time_format.h"
#include "agent/query/blocking.h"
#include "agent/query/delta.h"
#include "agent/query/questions_common.h"

namespace dmvlog::query {

namespace {

const char* kRequestTables[] = {"requests_5s", "requests_1m"};

std::string join_ints(const std::set<int>& s, std::size_t max = 12) {
    std::string out;
    std::size_t n = 0;
    for (int v : s) {
        if (n++ == max) {
            out += ",…";
            break;
        }
        out += (out.empty() ? "" : ",") + std::to_string(v);
    }
    return out;
}

std::string signed_seconds(std::int64_t ticks) {
    return fmt::format("{}{:.1f}s", ticks < 0 ? "-" : "+", std::fabs(static_cast<double>(ticks)) / kTicksPerSecond);
}

}  // namespace

// ---------------------------------------------------------------- running-at

void running_at(Ctx& c) {
    const std::int64_t at = c.o.window.from;
    auto& running = c.table("running", "Requests in the nearest snapshots on each side of T");
    auto& chains = c.table("blocking_chains", "Blocking chains at the nearest snapshot (head blockers first)");
    running.columns = {{"source", Kind::text},          {"snapshot", Kind::time},
                       {"from_t", Kind::text},          {"session_id", Kind::integer},
                       {"request_id", Kind::integer, 0, true}, {"status", Kind::text},
                       {"command", Kind::text, 0, true}, {"database", Kind::text},
                       {"start_time", Kind::time, 0, true}, {"elapsed_s", Kind::real, 1},
                       {"cpu_ms", Kind::integer},        {"wait_type", Kind::text},
                       {"wait_ms", Kind::integer},       {"blocked_by", Kind::integer},
                       {"logical_reads", Kind::integer}, {"reads", Kind::integer, 0, true},
                       {"writes", Kind::integer, 0, true}, {"grant_kb", Kind::integer, 0, true},
                       {"open_tran", Kind::integer, 0, true}, {"login", Kind::text},
                       {"host", Kind::text, 0, true},    {"program", Kind::text, 0, true},
                       {"wait_resource", Kind::text, 0, true}, {"query_hash", Kind::text, 0, true},
                       {"statement", Kind::text}};
    chains.columns = {{"depth", Kind::integer},  {"session_id", Kind::text}, {"blocked_by", Kind::integer},
                      {"status", Kind::text},    {"wait_type", Kind::text},  {"wait_ms", Kind::integer},
                      {"wait_resource", Kind::text}, {"login", Kind::text},  {"host", Kind::text, 0, true},
                      {"program", Kind::text, 0, true}, {"statement", Kind::text}};
    chains.empty_text = "(no blocking in that snapshot)";

    struct Snap {
        std::string collector;
        std::int64_t t;
        std::vector<RequestRow> rows;
    };
    std::vector<Snap> snaps;
    for (const char* coll : kRequestTables) {
        if (!has_table(c.db, coll)) continue;
        const std::int64_t reach = std::string(coll) == "requests_5s" ? 5 * kTicksPerMinute : 10 * kTicksPerMinute;
        std::vector<std::int64_t> found;
        {
            Stmt s(c.db, analysis_sql("running_at", "snapshot_before"));
            s.bind(":collector", std::string(coll)).bind(":instance", c.instance).bind(":at", store_text(at))
                .bind(":lookback", store_text(at - reach));
            if (auto t = scalar_time(s)) found.push_back(*t);
        }
        {
            Stmt s(c.db, analysis_sql("running_at", "snapshot_after"));
            s.bind(":collector", std::string(coll)).bind(":instance", c.instance).bind(":at", store_text(at))
                .bind(":lookahead", store_text(at + reach));
            if (auto t = scalar_time(s)) found.push_back(*t);
        }
        if (found.empty()) {
            c.note(fmt::format("no {} snapshot within {} of T", coll, ms_text(reach)));
            continue;
        }
        std::string seen;
        for (auto t : found) seen += (seen.empty() ? "" : " and ") + c.zone.display(t, true) + " (" + signed_seconds(t - at) + ")";
        c.note(fmt::format("{}: snapshots at {}", coll, seen));
        for (auto t : found) {
            Snap snap{coll, t, {}};
            Stmt s(c.db, analysis_sql("running_at", coll));
            s.bind(":instance", c.instance).bind(":at", store_text(t));
            std::vector<std::vector<Cell>> rows;
            std::vector<std::int64_t> hashes;
            while (s.step()) {
                RequestRow rr;
                rr.session = static_cast<int>(s.i64(1));
                rr.blocking = static_cast<int>(s.i64(7));
                rr.wait_type = s.text(8);
                rr.wait_ms = s.i64(9);
                rr.resource = s.text(10);
                rr.login = s.text(17);
                rr.host = s.text(18);
                rr.program = s.text(19);
                rr.text_hash = s.null(20) ? s.i64(21) : s.i64(20);
                snap.rows.push_back(rr);
                hashes.push_back(rr.text_hash);
                rows.push_back({std::string(std::string(coll) == "requests_5s" ? "5s" : "1m"), TimeCell{t}, signed_seconds(t - at), s.i64(1), s.i64(2), s.text(4),
                                s.text(5), s.text(6),
                                s.null(3) ? Cell{} : Cell{TimeCell{store_ticks(s.view(3)).value_or(0)}},
                                static_cast<double>(s.i64(12)) / 1000.0, s.i64(11), s.text(8), s.i64(9),
                                s.null(7) ? Cell{} : Cell{s.i64(7)}, s.i64(13), s.i64(14), s.i64(15), s.i64(16),
                                s.i64(22), s.text(17), s.text(18), s.text(19), s.text(10), hex(s.blob(23)),
                                Cell{rr.text_hash}});
            }
            auto text = texts(c.db, hashes);
            for (auto& r : rows) {
                auto h = std::get<std::int64_t>(r.back());
                auto it = text.find(h);
                r.back() = it != text.end() ? Cell{it->second} : Cell{};
                running.add_row(std::move(r));
            }
            snaps.push_back(std::move(snap));
        }
    }
    if (snaps.empty()) return;
    const Snap* nearest = &snaps.front();
    for (const auto& s : snaps)
        if (std::llabs(s.t - at) < std::llabs(nearest->t - at)) nearest = &s;
    chains.title = fmt::format("Blocking chains at {} ({}, nearest snapshot)", c.zone.display(nearest->t, true),
                               nearest->collector);
    auto tree = blocking_tree(nearest->rows);
    std::vector<std::int64_t> hashes;
    for (const auto& [d, r] : tree) hashes.push_back(r.text_hash);
    auto text = texts(c.db, hashes);
    std::map<int, std::string> status;
    for (const auto& row : running.rows)
        if (std::get<TimeCell>(row[1]).utc_ticks == nearest->t &&
            std::get<std::string>(row[0]) == (nearest->collector == "requests_5s" ? "5s" : "1m"))
            status[static_cast<int>(std::get<std::int64_t>(row[3]))] = std::get<std::string>(row[5]);
    for (const auto& [depth, r] : tree) {
        const bool has_row = status.count(r.session) > 0;
        auto it = text.find(r.text_hash);
        chains.add_row({std::int64_t{depth}, std::string(static_cast<std::size_t>(depth) * 2, ' ') + std::to_string(r.session),
                        depth == 0 ? Cell{} : Cell{std::int64_t{r.blocking}},
                        has_row ? Cell{status[r.session]} : Cell{std::string("(no request: idle, open transaction?)")},
                        r.wait_type, has_row && depth > 0 ? Cell{r.wait_ms} : Cell{}, r.resource, r.login, r.host,
                        r.program, it != text.end() ? Cell{it->second} : Cell{}});
    }
    c.note("the requests collectors list requests running 1 s or more (requests_5s up to 30 s, requests_1m up to 10 h); "
           "a head blocker without a running request has no row of its own");
}

// ---------------------------------------------------------------- requests

namespace {

struct Req {
    int session = 0, request = 0;
    std::int64_t start = 0;
    std::int64_t first_seen = 0, last_seen = 0;
    int seen = 0;
    std::int64_t elapsed = 0, cpu = 0, lreads = 0, reads = 0, writes = 0, grant = 0;
    std::string database, login, host, program, query_hash, status;
    std::int64_t text_hash = 0;
    std::vector<std::pair<std::string, int>> waits;
    std::set<int> blocked_by, blocking;
    unsigned sources = 0;
};

}  // namespace

void requests(Ctx& c) {
    auto& t = c.table("requests", "Requests by longest elapsed time (reconstructed from consecutive snapshots)");
    t.columns = {{"session_id", Kind::integer},     {"request_id", Kind::integer, 0, true},
                 {"start_time", Kind::time},         {"first_seen", Kind::time, 0, true},
                 {"last_seen", Kind::time},          {"snapshots", Kind::integer},
                 {"elapsed_s", Kind::real, 1},       {"cpu_ms", Kind::integer},
                 {"logical_reads", Kind::integer},   {"reads", Kind::integer, 0, true},
                 {"writes", Kind::integer, 0, true}, {"grant_kb", Kind::integer, 0, true},
                 {"waits", Kind::text},              {"blocked_by", Kind::text},
                 {"blocking", Kind::text},           {"database", Kind::text, 0, true},
                 {"login", Kind::text},              {"host", Kind::text, 0, true},
                 {"program", Kind::text, 0, true},   {"last_status", Kind::text, 0, true},
                 {"source", Kind::text, 0, true},    {"query_hash", Kind::text, 0, true},
                 {"statement", Kind::text}};
    std::unordered_map<std::uint64_t, Req> reqs;
    unsigned bit = 1;
    for (const char* coll : kRequestTables) {
        const unsigned source_bit = bit;
        bit <<= 1;
        if (!has_table(c.db, coll)) continue;
        Stmt s(c.db, analysis_sql(c.db, "requests", std::string("rows_") + (source_bit == 1 ? "5s" : "1m"), coll));
        Names names(c.db);
        s.bind(":instance", c.instance).bind(":from", c.from).bind(":to", c.to);
        std::string last_text;
        std::int64_t at = 0;
        struct Seen {
            Req* r;
            int session, blocking;
        };
        std::vector<Seen> snapshot;
        auto close_snapshot = [&] {
            if (snapshot.empty()) return;
            bool any = false;
            for (const auto& x : snapshot) any = any || (x.blocking != 0 && x.blocking != x.session);
            if (any) {
                std::unordered_map<int, Req*> by_session;
                for (const auto& x : snapshot) by_session[x.session] = x.r;
                for (const auto& x : snapshot) {
                    if (x.blocking == 0 || x.blocking == x.session) continue;
                    x.r->blocked_by.insert(x.blocking);
                    auto it = by_session.find(x.blocking);
                    if (it != by_session.end()) it->second->blocking.insert(x.session);
                }
            }
            snapshot.clear();
        };
        while (s.step()) {
            auto at_v = s.view(0);
            if (at_v != last_text) {
                close_snapshot();
                last_text.assign(at_v);
                at = store_ticks(at_v).value_or(0);
            }
            const int session = static_cast<int>(s.i64(2));
            const int request = static_cast<int>(s.i64(3));
            const std::int64_t start = time_value(s, 4).value_or(0);
            std::uint64_t key = hash_mix(hash_mix(static_cast<std::uint64_t>(session), static_cast<std::uint64_t>(request)),
                                         static_cast<std::uint64_t>(start + s.i64(1) * kTicksPerMinute));
            auto [it, fresh] = reqs.try_emplace(key);
            Req& r = it->second;
            if (fresh) {
                r.session = session;
                r.request = request;
                r.start = start;
                r.first_seen = at;
                r.database = names.text(s, 6);
                r.login = names.text(s, 16);
                r.host = names.text(s, 17);
                r.program = names.text(s, 18);
            }
            r.first_seen = std::min(r.first_seen, at);
            if (at >= r.last_seen) {
                r.last_seen = at;
                if (!s.null(19)) r.text_hash = s.i64(19);
                r.status.assign(names.text(s, 5));
                if (!s.null(20)) r.query_hash.assign(s.blob(20));
            } else if (r.text_hash == 0 && !s.null(19)) {
                r.text_hash = s.i64(19);
            }
            ++r.seen;
            r.sources |= source_bit;
            r.elapsed = std::max(r.elapsed, s.i64(11));
            r.cpu = std::max(r.cpu, s.i64(10));
            r.lreads = std::max(r.lreads, s.i64(12));
            r.reads = std::max(r.reads, s.i64(13));
            r.writes = std::max(r.writes, s.i64(14));
            r.grant = std::max(r.grant, s.i64(15) * 8);
            if (!s.null(8)) {
                auto wt = names.text(s, 8);
                bool found = false;
                for (auto& [name, n] : r.waits)
                    if (name == wt) {
                        ++n;
                        found = true;
                        break;
                    }
                if (!found) r.waits.emplace_back(std::string(wt), 1);
            }
            const int blocking = s.null(7) ? 0 : static_cast<int>(s.i64(7));
            snapshot.push_back({&r, session, blocking});
        }
        close_snapshot();
    }
    std::vector<const Req*> order;
    order.reserve(reqs.size());
    for (const auto& [k, r] : reqs) order.push_back(&r);
    std::sort(order.begin(), order.end(), [](const Req* a, const Req* b) {
        if (a->elapsed != b->elapsed) return a->elapsed > b->elapsed;
        return a->start < b->start;
    });
    const std::size_t total = order.size();
    if (c.o.top > 0 && order.size() > static_cast<std::size_t>(c.o.top)) order.resize(static_cast<std::size_t>(c.o.top));
    std::vector<std::int64_t> hashes;
    for (const auto* r : order) hashes.push_back(r->text_hash);
    auto text = texts(c.db, hashes);
    for (const auto* r : order) {
        auto waits = r->waits;
        std::sort(waits.begin(), waits.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
        std::string w;
        for (const auto& [name, n] : waits) w += (w.empty() ? "" : ", ") + fmt::format("{} x{}", name, n);
        auto it = text.find(r->text_hash);
        std::string source = r->sources == 3 ? "5s+1m" : (r->sources == 1 ? "5s" : "1m");
        t.add_row({std::int64_t{r->session}, std::int64_t{r->request}, TimeCell{r->start}, TimeCell{r->first_seen},
                   TimeCell{r->last_seen}, std::int64_t{r->seen}, static_cast<double>(r->elapsed) / 1000.0, r->cpu,
                   r->lreads, r->reads, r->writes, r->grant, w, join_ints(r->blocked_by), join_ints(r->blocking),
                   r->database, r->login, r->host, r->program, r->status, source, hex(r->query_hash),
                   it != text.end() ? Cell{it->second} : Cell{}});
    }
    if (c.o.top > 0 && total > order.size())
        c.note(fmt::format("{} requests in the window; showing the {} longest (--top 0 for all)", total, order.size()));
    else
        c.note(fmt::format("{} requests in the window", total));
    c.note("elapsed, cpu and reads are the largest values seen: a request ran at least that long, and up to one "
           "snapshot interval longer; waits count the snapshots that saw each wait type");
}

// ---------------------------------------------------------------- blocking

void blocking(Ctx& c) {
    auto& t = c.table("blocking", "Blocking episodes (requests snapshots), longest first");
    t.columns = {{"head_session", Kind::integer}, {"began_by", Kind::time},
                 {"first_seen", Kind::time, 0, true}, {"last_seen", Kind::time},
                 {"lasted_s", Kind::real, 0},     {"snapshots", Kind::integer},
                 {"blocked", Kind::integer},      {"sessions", Kind::text},
                 {"max_wait_s", Kind::real, 1},   {"wait_types", Kind::text},
                 {"resources", Kind::text, 0, true}, {"head_login", Kind::text},
                 {"head_host", Kind::text, 0, true}, {"head_program", Kind::text, 0, true},
                 {"sources", Kind::text, 0, true}, {"head_statement", Kind::text}};
    t.empty_text = "(no blocking seen in the requests snapshots)";
    std::vector<BlockingSample> samples;
    for (const char* coll : kRequestTables) {
        if (!has_table(c.db, coll)) continue;
        std::vector<std::int64_t> times;
        {
            Stmt s(c.db, analysis_sql("blocking", "snapshot_times"));
            s.bind(":collector", std::string(coll)).bind(":instance", c.instance).bind(":from", c.from).bind(":to", c.to);
            while (s.step()) times.push_back(store_ticks(s.view(0)).value_or(0));
        }
        std::int64_t resolution = std::string(coll) == "requests_5s" ? 5 * kTicksPerSecond : kTicksPerMinute;
        if (times.size() > 2) {
            std::vector<std::int64_t> gaps;
            for (std::size_t i = 1; i < times.size(); ++i) gaps.push_back(times[i] - times[i - 1]);
            std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2), gaps.end());
            resolution = gaps[gaps.size() / 2];
        }
        Stmt s(c.db, analysis_sql("blocking", std::string(coll) == "requests_5s" ? "rows_5s" : "rows_1m"));
        s.bind(":instance", c.instance).bind(":from", c.from).bind(":to", c.to);
        std::vector<RequestRow> rows;
        std::int64_t cur = -1;
        auto flush = [&] {
            if (rows.empty()) return;
            auto pos = std::lower_bound(times.begin(), times.end(), cur);
            int seq = static_cast<int>(pos - times.begin());
            auto add = samples_from_snapshot(coll, cur, resolution, seq, rows);
            samples.insert(samples.end(), add.begin(), add.end());
            rows.clear();
        };
        while (s.step()) {
            std::int64_t at = store_ticks(s.view(0)).value_or(0);
            if (at != cur) {
                flush();
                cur = at;
            }
            RequestRow r;
            r.session = static_cast<int>(s.i64(1));
            r.blocking = static_cast<int>(s.i64(2));
            r.wait_type = s.text(3);
            r.wait_ms = s.i64(4);
            r.resource = s.text(5);
            r.login = s.text(6);
            r.host = s.text(7);
            r.program = s.text(8);
            r.text_hash = s.i64(9);
            rows.push_back(std::move(r));
        }
        flush();
    }
    auto episodes = build_episodes(std::move(samples));
    std::sort(episodes.begin(), episodes.end(), [](const auto& a, const auto& b) {
        return (a.last_seen - a.began_by) > (b.last_seen - b.began_by);
    });
    const std::size_t total = episodes.size();
    if (c.o.top > 0 && episodes.size() > static_cast<std::size_t>(c.o.top)) episodes.resize(static_cast<std::size_t>(c.o.top));
    std::vector<std::int64_t> hashes;
    for (const auto& e : episodes) hashes.push_back(e.head_text_hash);
    auto text = texts(c.db, hashes);
    for (const auto& e : episodes) {
        std::vector<std::pair<std::string, int>> wt(e.wait_types.begin(), e.wait_types.end());
        std::sort(wt.begin(), wt.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
        std::string waits, res, src;
        for (const auto& [k, v] : wt) waits += (waits.empty() ? "" : ", ") + k;
        for (const auto& r : e.resources) res += (res.empty() ? "" : "; ") + r;
        for (const auto& s : e.sources) src += (src.empty() ? "" : "+") + s;
        auto it = text.find(e.head_text_hash);
        t.add_row({std::int64_t{e.head}, TimeCell{e.began_by}, TimeCell{e.first_seen}, TimeCell{e.last_seen},
                   static_cast<double>(e.last_seen - e.began_by) / kTicksPerSecond, std::int64_t{e.samples},
                   static_cast<std::int64_t>(e.sessions.size()), join_ints(e.sessions),
                   static_cast<double>(e.max_wait_ms) / 1000.0, waits, res, e.head_login, e.head_host,
                   e.head_program, src,
                   it != text.end() ? Cell{it->second}
                                    : Cell{std::string(e.head_login.empty() && e.head_text_hash == 0
                                                           ? "(head not running a request: idle with an open transaction?)"
                                                           : "")}});
    }
    c.note(fmt::format("{} episodes; an episode is one head blocker over consecutive snapshots; began_by = first "
                       "seen minus the longest wait then; lasted_s is a lower bound (blocking shorter than the snapshot "
                       "interval, or under 1 s, is not seen: the blocked process report catches it)",
                       total));
}

}  // namespace dmvlog::query
