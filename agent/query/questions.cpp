// The questions. Each one reads its sql/analysis file and fills a Report for one instance; run_question
// runs it for every instance asked for and merges the reports.
#include "agent/query/questions.h"


#include <algorithm>
#include <cmath>
#include <exception>
#include <fmt/format.h>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <unordered_map>

#include "agent/core/time_format.h"
#include "agent/query/blocking.h"
#include "agent/query/delta.h"
#include "agent/query/questions_common.h"
#include "agent/query/sql.h"

namespace dmvlog::query {

std::string ms_text(std::int64_t ticks) {
    const double s = static_cast<double>(ticks) / kTicksPerSecond;
    if (std::fabs(s) < 120) return fmt::format("{:.1f}s", s);
    if (std::fabs(s) < 7200) return fmt::format("{:.1f}m", s / 60);
    return fmt::format("{:.1f}h", s / 3600);
}

std::optional<std::int64_t> scalar_time(Stmt& s) {
    if (!s.step() || s.null(0)) return std::nullopt;
    return store_ticks(s.view(0));
}

Coverage coverage(Ctx& c, const std::string& collector) {
    Coverage cov;
    Stmt s(c.db, analysis_sql("common", "epochs"));
    s.bind(":collector", collector).bind(":instance", c.instance).bind(":from", c.from).bind(":to", c.to);
    std::vector<std::int64_t> times;
    while (s.step()) times.push_back(store_ticks(s.view(0)).value_or(0));
    cov.snapshots = static_cast<int>(times.size());
    const auto& w = c.o.window;
    const std::int64_t end = std::min(w.to, now_ticks());
    if (times.empty()) {
        cov.partial = true;
        cov.note = fmt::format("no {} snapshots in the window", collector);
        return cov;
    }
    cov.first = times.front();
    cov.last = times.back();
    std::vector<std::int64_t> gaps;
    for (std::size_t i = 1; i < times.size(); ++i) gaps.push_back(times[i] - times[i - 1]);
    if (!gaps.empty()) {
        auto g = gaps;
        std::nth_element(g.begin(), g.begin() + static_cast<std::ptrdiff_t>(g.size() / 2), g.end());
        cov.median_gap = g[g.size() / 2];
        cov.max_gap = *std::max_element(gaps.begin(), gaps.end());
    }
    const std::int64_t slack = cov.median_gap > 0 ? 2 * cov.median_gap : 2 * kTicksPerMinute;
    const bool head = cov.first - w.from > slack;
    const bool tail = end - cov.last > slack;
    const bool hole = cov.median_gap > 0 && cov.max_gap > 3 * cov.median_gap;
    if (head || tail || hole) {
        cov.partial = true;
        cov.note = fmt::format("{} snapshots cover {} .. {} of the window (every {}, largest gap {}): activity outside "
                               "them is not counted",
                               collector, c.zone.display(cov.first), c.zone.display(cov.last), ms_text(cov.median_gap),
                               ms_text(cov.max_gap));
    }
    return cov;
}

namespace {

// ---------------------------------------------------------------- plan lifetimes (top-queries, ...)

// Metric slots of sql/analysis/top_queries.sql (columns 9..17).
enum PlanMetric { m_execs, m_cpu, m_dur, m_lreads, m_preads, m_writes, m_grant, m_used_grant, m_spills };

struct ByMetric {
    const char* name;
    int slot;
    const char* label;
};
const ByMetric kBy[] = {
    {"cpu", m_cpu, "cpu"},
    {"duration", m_dur, "duration"},
    {"logical-reads", m_lreads, "logical reads"},
    {"physical-reads", m_preads, "physical reads"},
    {"writes", m_writes, "writes"},
    {"executions", m_execs, "executions"},
    {"grant", m_grant, "memory grant"},
    {"spills", m_spills, "spills"},
};

// Reads rows of top_queries.sql shape, calling f(key, at, creation, metrics, stmt).
template <class F>
void scan_plan_rows(Db* db, Stmt& s, F&& f) {
    // A SQLite store's row table gives the plan_handle as its dictionary id: the key is made from the handle's
    // bytes all the same (read once per handle), so that lifetimes sort alike in every store (group_totals).
    Names names(db);
    std::unordered_map<std::int64_t, std::uint64_t> handle_keys;
    std::string last_text;
    std::int64_t at = 0;
    Metrics m{};
    while (s.step()) {
        auto at_v = s.view(0);
        if (at_v != last_text) {
            last_text.assign(at_v);
            at = store_ticks(at_v).value_or(0);
        }
        const std::int64_t off = s.i64(1);
        const std::int64_t creation = time_value(s, 5).value_or(0);
        // plan_handle identifies the batch's plan, and with it the sql_handle: it is not read per row
        std::uint64_t key;
        if (s.type(2) == ColType::integer) {
            auto it = handle_keys.find(s.i64(2));
            if (it == handle_keys.end()) it = handle_keys.emplace(s.i64(2), hash_bytes(names.bytes(s, 2))).first;
            key = it->second;
        } else {
            key = hash_bytes(s.blob(2));
        }
        key = hash_mix(key, static_cast<std::uint64_t>(s.i64(3)));
        key = hash_mix(key, static_cast<std::uint64_t>(s.i64(4)));
        // the server-local creation_time (stored UTC = local - offset): stable across a DST change
        key = hash_mix(key, static_cast<std::uint64_t>(creation + off * kTicksPerMinute));
        for (int i = 0; i < 9; ++i) m[i] = s.i64(9 + i);
        f(key, at, creation, m, s);
    }
}

LifetimeInfo plan_info(Stmt& s) {
    LifetimeInfo info;
    info.query_hash.assign(s.blob(6));
    info.plan_hash.assign(s.blob(7));
    info.text_hash = s.null(8) ? 0 : s.i64(8);
    return info;
}

std::string bytes_of(std::int64_t v) { return std::string(reinterpret_cast<const char*>(&v), sizeof v); }

struct PlanScan {
    LifetimeDeltas deltas;
    int lower_bound = 0;
    std::string baseline_note;
};

// Windows from this long are read in two halves at once where the store allows it (Db::another).
constexpr std::int64_t kSplitScanTicks = 2 * 60 * 60 * kTicksPerSecond;

// All snapshots: the window's rows from both tables, then the baselines (docs/analysis.md).
PlanScan scan_all_snapshots(Ctx& c) {
    const auto& w = c.o.window;
    PlanScan ps{LifetimeDeltas(w.from, w.to)};
    auto& d = ps.deltas;
    auto observer = [&](LifetimeDeltas& into) {
        return [&](std::uint64_t key, std::int64_t at, std::int64_t creation, const Metrics& m, Stmt& s) {
            if (Lifetime* l = into.find(key)) {
                LifetimeDeltas::update(*l, at, m);
                if (l->info.text_hash == 0 && !s.null(8)) l->info.text_hash = s.i64(8);
            } else {
                into.observe(key, at, creation, m, plan_info(s));
            }
            if (at <= w.from) into.baseline(key, at, m);
        };
    };
    auto observe = observer(d);
    const bool has_full = has_table(c.db, "query_stats_full");
    auto scan_rows = [&](Db* db, const std::string& from, const std::string& to, LifetimeDeltas& into) {
        Stmt s(db, analysis_sql(db, "top_queries", "rows", "query_stats"));
        s.bind(":instance", c.instance).bind(":from", from).bind(":to", to);
        scan_plan_rows(db, s, observer(into));
    };
    // The minute collector's rows are most of the work. A long window on a store read in this process (SQLite)
    // is read in two halves at once, the later one on a second connection and thread; the halves' lifetimes
    // are merged, which gives what one pass gives (LifetimeDeltas::merge).
    std::unique_ptr<Db> second = w.to - w.from >= kSplitScanTicks ? c.db->another() : nullptr;
    if (second) {
        const std::string mid = store_text(w.from + (w.to - w.from) / 2);
        LifetimeDeltas later(w.from, w.to);
        std::exception_ptr failed;
        std::thread t([&] {
            try {
                scan_rows(second.get(), mid, c.to, later);
            } catch (...) {
                failed = std::current_exception();
            }
        });
        try {
            scan_rows(c.db, c.from, mid, d);
        } catch (...) {
            t.join();
            throw;
        }
        t.join();
        if (failed) std::rethrow_exception(failed);
        d.merge(std::move(later));
    } else {
        scan_rows(c.db, c.from, c.to, d);
    }
    if (has_full) {
        Stmt s(c.db, analysis_sql(c.db, "top_queries", "rows_full", "query_stats_full"));
        s.bind(":instance", c.instance).bind(":from", c.from).bind(":to", c.to);
        scan_plan_rows(c.db, s, observe);
    }
    // Baselines: the latest whole-cache snapshot at or before the start (7 days back at most), then the minute
    // collector's rows after it; without a whole-cache snapshot, 24 hours of the minute collector.
    bool need = false;
    for (const auto& [k, l] : d.lifetimes()) need = need || (l.creation < w.from && !l.baseline_at);
    if (need) {
        std::optional<std::int64_t> full_at;
        if (has_full) {
            Stmt s(c.db, analysis_sql("top_queries", "last_full_snapshot"));
            s.bind(":instance", c.instance).bind(":from", c.from).bind(":lookback", store_text(w.from - 7 * kTicksPerDay));
            full_at = scalar_time(s);
        }
        const std::int64_t start = full_at ? *full_at : w.from - kTicksPerDay;
        auto base = [&](std::uint64_t key, std::int64_t at, std::int64_t, const Metrics& m, Stmt&) {
            d.baseline(key, at, m);
        };
        {
            Stmt s(c.db, analysis_sql(c.db, "top_queries", "rows", "query_stats"));
            s.bind(":instance", c.instance).bind(":from", store_text(start)).bind(":to", store_text(w.from + 1));
            scan_plan_rows(c.db, s, base);
        }
        if (full_at) {
            Stmt s(c.db, analysis_sql(c.db, "top_queries", "rows_full", "query_stats_full"));
            s.bind(":instance", c.instance).bind(":from", store_text(*full_at)).bind(":to", store_text(*full_at + 1));
            scan_plan_rows(c.db, s, base);
        }
        ps.baseline_note = full_at ? "baselines from the query_stats_full snapshot at " + c.zone.display(*full_at) +
                                         " and the query_stats rows after it"
                                   : "no query_stats_full snapshot in the 7 days before the window: baselines from 24 "
                                     "hours of query_stats";
    }
    for (const auto& [k, l] : d.lifetimes())
        if (l.creation < w.from && !l.baseline_at) ++ps.lower_bound;
    return ps;
}

// Two points: the first query_stats snapshot at or after the start and the last at or before the end.
PlanScan scan_two_point(Ctx& c, std::string& note) {
    const auto& w = c.o.window;
    std::optional<std::int64_t> t1, t2;
    {
        Stmt s(c.db, analysis_sql("top_queries", "two_point_first"));
        s.bind(":instance", c.instance).bind(":from", c.from).bind(":to", c.to);
        t1 = scalar_time(s);
    }
    {
        Stmt s(c.db, analysis_sql("top_queries", "two_point_last"));
        s.bind(":instance", c.instance).bind(":from", c.from).bind(":to", c.to);
        t2 = scalar_time(s);
    }
    PlanScan ps{LifetimeDeltas(t1.value_or(w.from), t2.value_or(w.from) + 1)};
    if (!t1 || !t2 || *t1 == *t2) {
        note = "two-point: fewer than two query_stats snapshots in the window";
        return ps;
    }
    note = fmt::format("two-point method: query_stats at {} and {} (plans that came and went between them, and "
                       "plans the first snapshot did not list, are missed)",
                       c.zone.display(*t1), c.zone.display(*t2));
    {
        Stmt s(c.db, analysis_sql(c.db, "top_queries", "rows", "query_stats"));
        s.bind(":instance", c.instance).bind(":from", store_text(*t2)).bind(":to", store_text(*t2 + 1));
        scan_plan_rows(c.db, s, [&](std::uint64_t key, std::int64_t at, std::int64_t creation, const Metrics& m, Stmt& st) {
            ps.deltas.observe(key, at, creation, m, plan_info(st));
        });
    }
    {
        Stmt s(c.db, analysis_sql(c.db, "top_queries", "rows", "query_stats"));
        s.bind(":instance", c.instance).bind(":from", store_text(*t1)).bind(":to", store_text(*t1 + 1));
        scan_plan_rows(c.db, s, [&](std::uint64_t key, std::int64_t at, std::int64_t, const Metrics& m, Stmt&) {
            ps.deltas.baseline(key, at, m);
        });
    }
    return ps;
}

std::function<std::string(const Lifetime&)> grouping(const std::string& group) {
    if (group == "statement")
        return [](const Lifetime& l) { return l.info.text_hash ? bytes_of(l.info.text_hash) : "q" + l.info.query_hash; };
    if (group == "plan") return [](const Lifetime& l) { return l.info.plan_hash; };
    return [](const Lifetime& l) { return l.info.query_hash.empty() ? "t" + bytes_of(l.info.text_hash) : l.info.query_hash; };
}

void top_queries(Ctx& c) {
    const ByMetric* by = nullptr;
    for (const auto& b : kBy)
        if (c.o.by == b.name) by = &b;
    if (!by) throw UsageError("--by must be cpu, duration, logical-reads, physical-reads, writes, executions, grant or spills");
    if (c.o.group != "query-hash" && c.o.group != "statement" && c.o.group != "plan")
        throw UsageError("--group must be query-hash, statement or plan");
    if (c.o.method != "all-snapshots" && c.o.method != "two-point")
        throw UsageError("--method must be all-snapshots or two-point");
    auto& t = c.table("top_queries", fmt::format("Top {} by {} ({} per {})", c.o.top > 0 ? std::to_string(c.o.top) : "",
                                                  by->label, c.o.method, c.o.group));
    t.columns = {{"rank", Kind::integer},
                 {"query_hash", Kind::text},
                 {"plan_hash", Kind::text, 1, c.o.group != "plan"},
                 {"executions", Kind::integer},
                 {"cpu_ms", Kind::real, 0},
                 {"duration_ms", Kind::real, 0},
                 {"logical_reads", Kind::integer},
                 {"physical_reads", Kind::integer, 0, by->slot != m_preads},
                 {"writes", Kind::integer, 0, by->slot != m_writes},
                 {"grant_mb", Kind::real, 1, by->slot != m_grant},
                 {"used_grant_mb", Kind::real, 1, true},
                 {"spills", Kind::integer, 0, by->slot != m_spills},
                 {"cpu_ms_per_exec", Kind::real, 2},
                 {"duration_ms_per_exec", Kind::real, 2, true},
                 {"reads_per_exec", Kind::real, 0, true},
                 {"share", Kind::percent, 1},
                 {"lifetimes", Kind::integer},
                 {"plans", Kind::integer},
                 {"quality", Kind::text},
                 {"statement", Kind::text}};
    if (!has_table(c.db, "query_stats")) {
        c.note("this store has no query_stats table (the collector is not installed)");
        return;
    }
    std::string method_note;
    PlanScan ps = c.o.method == "two-point" ? scan_two_point(c, method_note) : scan_all_snapshots(c);
    const bool two_point = c.o.method == "two-point";
    auto cov = coverage(c, "query_stats");
    auto groups = group_totals(ps.deltas, grouping(c.o.group), two_point);
    double total = 0;
    for (const auto& g : groups) total += static_cast<double>(g.values[by->slot]);
    std::sort(groups.begin(), groups.end(), [&](const auto& a, const auto& b) {
        if (a.values[by->slot] != b.values[by->slot]) return a.values[by->slot] > b.values[by->slot];
        return a.values[m_cpu] > b.values[m_cpu];
    });
    if (c.o.top > 0 && groups.size() > static_cast<std::size_t>(c.o.top)) groups.resize(static_cast<std::size_t>(c.o.top));
    std::vector<std::int64_t> hashes;
    for (const auto& g : groups) hashes.push_back(g.sample.text_hash);
    auto text = texts(c.db, hashes);
    int rank = 0;
    for (const auto& g : groups) {
        const auto& v = g.values;
        const double ex = static_cast<double>(v[m_execs]);
        auto per = [&](std::int64_t x, double scale) -> Cell {
            if (ex <= 0) return Cell{};
            return static_cast<double>(x) / ex / scale;
        };
        Quality q = Quality::exact;
        if (g.lower_bound_lifetimes > 0) q = Quality::lower_bound;
        if (cov.partial) q = worse(q, Quality::partial);
        auto it = text.find(g.sample.text_hash);
        t.add_row({std::int64_t{++rank}, hex(g.sample.query_hash), hex(g.sample.plan_hash), v[m_execs],
                   static_cast<double>(v[m_cpu]) / 1000.0, static_cast<double>(v[m_dur]) / 1000.0, v[m_lreads],
                   v[m_preads], v[m_writes], static_cast<double>(v[m_grant]) / 1024.0,
                   static_cast<double>(v[m_used_grant]) / 1024.0, v[m_spills], per(v[m_cpu], 1000.0),
                   per(v[m_dur], 1000.0), per(v[m_lreads], 1.0),
                   total > 0 ? Cell{100.0 * static_cast<double>(v[by->slot]) / total} : Cell{},
                   std::int64_t{g.lifetimes}, static_cast<std::int64_t>(g.plan_hashes.size()),
                   std::string(quality_name(q)),
                   it != text.end() ? Cell{it->second} : Cell{std::string("(text not captured)")}});
    }
    if (!method_note.empty()) c.note(method_note);
    c.note(fmt::format("{} plan lifetimes in {} groups; share is of the window's total {} ({})",
                       ps.deltas.lifetimes().size(), group_totals(ps.deltas, grouping(c.o.group), two_point).size(),
                       by->label, by->slot == m_cpu || by->slot == m_dur ? fmt::format("{:.0f} ms", total / 1000.0)
                                                                         : fmt::format("{:.0f}", total)));
    if (!ps.baseline_note.empty()) c.note(ps.baseline_note);
    if (ps.lower_bound > 0 && !two_point)
        c.note(fmt::format("{} lifetimes were created before the window and never observed at or before its start: "
                           "counted from their first observation in the window (lower-bound)",
                           ps.lower_bound));
    if (cov.partial) c.note(cov.note);
}

// ---------------------------------------------------------------- procedures

void procedures(Ctx& c) {
    auto& t = c.table("procedures", "Stored procedures by CPU (plan lifetimes, all snapshots)");
    t.columns = {{"database_id", Kind::integer}, {"object_id", Kind::integer},  {"procedure", Kind::text},
                 {"type", Kind::text, 0, true},  {"executions", Kind::integer}, {"cpu_ms", Kind::real, 0},
                 {"duration_ms", Kind::real, 0}, {"logical_reads", Kind::integer},
                 {"physical_reads", Kind::integer, 0, true}, {"writes", Kind::integer, 0, true},
                 {"cpu_ms_per_exec", Kind::real, 2}, {"duration_ms_per_exec", Kind::real, 2},
                 {"lifetimes", Kind::integer}, {"quality", Kind::text}};
    if (!has_table(c.db, "procedure_stats")) {
        c.note("this store has no procedure_stats table");
        return;
    }
    const auto& w = c.o.window;
    LifetimeDeltas d(w.from, w.to);
    std::map<std::string, std::pair<std::string, std::string>> names;
    auto scan = [&](const std::string& from, const std::string& to, bool window) {
        Stmt s(c.db, analysis_sql("procedures", "rows"));
        s.bind(":instance", c.instance).bind(":from", from).bind(":to", to);
        while (s.step()) {
            const std::int64_t at = store_ticks(s.view(0)).value_or(0);
            const std::int64_t cached = store_ticks(s.view(7)).value_or(0);
            std::uint64_t key = hash_mix(hash_mix(static_cast<std::uint64_t>(s.i64(2)), static_cast<std::uint64_t>(s.i64(3))),
                                         hash_bytes(s.blob(6)));
            key = hash_mix(key, static_cast<std::uint64_t>(cached + s.i64(1) * kTicksPerMinute));
            Metrics m{};
            for (int i = 0; i < 6; ++i) m[i] = s.i64(8 + i);
            if (window) {
                LifetimeInfo info;
                info.group = fmt::format("{}:{}", s.i64(2), s.i64(3));
                names[info.group] = {s.text(4), s.text(5)};
                d.observe(key, at, cached, m, info);
            }
            if (at <= w.from) d.baseline(key, at, m);
        }
    };
    scan(c.from, c.to, true);
    scan(store_text(w.from - kTicksPerDay), store_text(w.from + 1), false);
    auto groups = group_totals(d);
    std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.values[1] > b.values[1]; });
    if (c.o.top > 0 && groups.size() > static_cast<std::size_t>(c.o.top)) groups.resize(static_cast<std::size_t>(c.o.top));
    auto cov = coverage(c, "procedure_stats");
    for (const auto& g : groups) {
        auto colon = g.group.find(':');
        const auto& v = g.values;
        const double ex = static_cast<double>(v[0]);
        Quality q = g.lower_bound_lifetimes ? Quality::lower_bound : Quality::exact;
        if (cov.partial) q = worse(q, Quality::partial);
        t.add_row({std::int64_t{std::stoll(g.group.substr(0, colon))}, std::int64_t{std::stoll(g.group.substr(colon + 1))},
                   names[g.group].first, names[g.group].second, v[0], static_cast<double>(v[1]) / 1000.0,
                   static_cast<double>(v[2]) / 1000.0, v[3], v[4], v[5],
                   ex > 0 ? Cell{static_cast<double>(v[1]) / ex / 1000.0} : Cell{},
                   ex > 0 ? Cell{static_cast<double>(v[2]) / ex / 1000.0} : Cell{}, std::int64_t{g.lifetimes},
                   std::string(quality_name(q))});
    }
    c.note("baselines: procedure_stats rows of the 24 hours before the window (the collector has no whole-cache listing)");
    if (cov.partial) c.note(cov.note);
}

}  // namespace

std::vector<GroupTotal> plan_groups(Ctx& c, const std::string& group) {
    auto ps = scan_all_snapshots(c);
    return group_totals(ps.deltas, grouping(group));
}

// ---------------------------------------------------------------- registry and merge

void running_at(Ctx& c);
void requests(Ctx& c);
void blocking(Ctx& c);
void waits(Ctx& c);
void latches(Ctx& c);
void spinlocks(Ctx& c);
void file_io(Ctx& c);
void perf_counters(Ctx& c);
void index_usage(Ctx& c);
void memory_grants(Ctx& c);
void stats_updates(Ctx& c);
void tempdb(Ctx& c);

const std::vector<QuestionInfo>& questions() {
    static const std::vector<QuestionInfo> q = {
        {"running-at", "what was running at --at T: nearest requests snapshots on each side, blocking chains", true},
        {"requests", "request lifetimes from consecutive snapshots: seen, elapsed, cpu, reads, waits, blocking", false},
        {"top-queries", "statements by cpu, duration, reads, writes, executions, grant or spills (plan deltas)", false},
        {"waits", "wait types: wait, signal and resource time, counts (deltas with resets)", false},
        {"latches", "latch classes: wait time and requests (deltas)", false},
        {"spinlocks", "spinlocks: spins, collisions, backoffs, sleep time (deltas)", false},
        {"file-io", "per database file: reads, writes, bytes and latency (deltas)", false},
        {"perf-counters", "performance counters: rates, ratios, averages and values by counter type", false},
        {"index-usage", "seeks, scans, lookups and updates per index; unused and scan-heavy indexes", false},
        {"memory-grants", "pending grants over time, waiting grants, over-granted statements", false},
        {"stats-updates", "statistics updated in the window beside statements whose plan changed", false},
        {"procedures", "stored procedures by cpu (plan lifetimes)", false},
        {"tempdb", "tempdb space by kind over the window and the sessions holding the most", false},
        {"blocking", "blocking episodes from the requests snapshots: head blocker, duration, sessions", false},
    };
    return q;
}

std::vector<std::string> store_instances(Db* db) {
    std::vector<std::string> out;
    Stmt s(db, analysis_sql("common", "instances"));
    while (s.step()) out.push_back(s.text(0));
    return out;
}

Report run_question(sqlite3* db, const std::string& name, const Options& o) {
    SqliteDb d(db);
    return run_question(&d, name, o);
}

Report run_question(Db* db, const std::string& name, const Options& o) {
    static const std::map<std::string, void (*)(Ctx&)> fns = {
        {"running-at", running_at}, {"requests", requests},       {"top-queries", top_queries},
        {"waits", waits},           {"latches", latches},         {"spinlocks", spinlocks},
        {"file-io", file_io},       {"perf-counters", perf_counters}, {"index-usage", index_usage},
        {"memory-grants", memory_grants}, {"stats-updates", stats_updates}, {"procedures", procedures},
        {"tempdb", tempdb},         {"blocking", blocking},
    };
    auto fn = fns.find(name);
    if (fn == fns.end()) {
        std::string names;
        for (const auto& q : questions()) names += (names.empty() ? "" : ", ") + q.name;
        throw UsageError(fmt::format("unknown question '{}' ({})", name, names));
    }
    Report out;
    out.question = name;
    out.window = o.window;
    out.notes = o.window.notes;
    out.instances = o.instances.empty() ? store_instances(db) : o.instances;
    const bool many = out.instances.size() > 1;
    Zone utc;
    for (const auto& inst : out.instances) {
        Report one;
        Ctx c{db, o, inst, one, store_text(o.window.from), store_text(o.window.to), o.zone ? *o.zone : utc};
        fn->second(c);
        for (const auto& n : one.notes) out.notes.push_back(many ? "[" + inst + "] " + n : n);
        for (auto& t : one.tables) {
            if (many) {
                t.columns.insert(t.columns.begin(), Column{"instance", Kind::text});
                for (auto& r : t.rows) r.insert(r.begin(), Cell{inst});
            }
            Table* target = nullptr;
            for (auto& existing : out.tables)
                if (existing.name == t.name) target = &existing;
            if (!target) {
                out.tables.push_back(std::move(t));
            } else {
                for (auto& r : t.rows) target->rows.push_back(std::move(r));
            }
        }
    }
    if (out.instances.empty()) {
        out.notes.push_back("the store has no snapshots yet");
        Report one;
        Ctx c{db, o, "", one, store_text(o.window.from), store_text(o.window.to), o.zone ? *o.zone : utc};
        fn->second(c);
        out.tables = std::move(one.tables);
    }
    return out;
}

}  // namespace dmvlog::query
