// Questions: memory-grants, stats-updates, tempdb.
#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <set>

#include "agent/core/time_format.h"
#include "agent/query/delta.h"
#include "agent/query/questions_common.h"

namespace dmvlog::query {

void memory_grants(Ctx& c) {
    auto& p = c.table("pending", "Minutes with grants waiting (RESOURCE_SEMAPHORE), summed over semaphores");
    auto& wq = c.table("waiting", "Grants that waited, longest first");
    auto& og = c.table("over_granted", "Statements granted much more memory than they used (plan-cache deltas)");
    p.columns = {{"minute", Kind::time},        {"snapshots", Kind::integer}, {"max_waiters", Kind::integer},
                 {"max_grantees", Kind::integer}, {"granted_mb", Kind::real, 0}, {"min_available_mb", Kind::real, 0},
                 {"target_mb", Kind::real, 0, true}};
    p.empty_text = "(no grant waited in the resource_semaphores snapshots)";
    wq.columns = {{"session_id", Kind::integer}, {"request_id", Kind::integer, 0, true}, {"first_seen", Kind::time},
                  {"last_seen", Kind::time, 0, true}, {"max_wait_s", Kind::real, 1}, {"requested_mb", Kind::real, 1},
                  {"required_mb", Kind::real, 1, true}, {"ideal_mb", Kind::real, 1, true}, {"cost", Kind::real, 1, true},
                  {"dop", Kind::integer, 0, true}, {"login", Kind::text}, {"host", Kind::text, 0, true},
                  {"program", Kind::text, 0, true}, {"batch", Kind::text}};
    wq.empty_text = "(no waiting grant in the memory_grants snapshots)";
    og.columns = {{"query_hash", Kind::text},  {"executions", Kind::integer}, {"granted_mb", Kind::real, 1},
                  {"used_mb", Kind::real, 1},  {"used_pct", Kind::percent, 0}, {"unused_mb_per_exec", Kind::real, 1},
                  {"spills", Kind::integer},   {"statement", Kind::text}};
    const auto& w = c.o.window;
    if (has_table(c.db, "resource_semaphores")) {
        Stmt s(c.db, analysis_sql("memory_grants", "semaphores"));
        s.bind(":instance", c.instance).bind(":from", c.from).bind(":to", c.to);
        struct Snap {
            std::int64_t waiters = 0, grantees = 0, granted = 0, available = 0, target = 0;
        };
        std::map<std::int64_t, Snap> snaps;
        std::map<std::string, std::pair<std::int64_t, std::int64_t>> first_counts, last_counts;
        while (s.step()) {
            auto& x = snaps[store_ticks(s.view(0)).value_or(0)];
            x.waiters += s.i64(3);
            x.grantees += s.i64(4);
            x.granted += s.i64(5);
            x.available += s.i64(6);
            x.target += s.i64(7);
            auto key = fmt::format("{}:{}", s.i64(1), s.i64(2));
            if (!first_counts.count(key)) first_counts[key] = {s.i64(8), s.i64(9)};
            last_counts[key] = {s.i64(8), s.i64(9)};
        }
        struct Minute {
            int n = 0;
            std::int64_t waiters = 0, grantees = 0, granted = 0, available = -1, target = 0;
        };
        std::map<std::int64_t, Minute> minutes;
        int waiting_snaps = 0;
        for (const auto& [at, x] : snaps) {
            if (x.waiters == 0) continue;
            ++waiting_snaps;
            auto& m = minutes[at - at % kTicksPerMinute];
            ++m.n;
            m.waiters = std::max(m.waiters, x.waiters);
            m.grantees = std::max(m.grantees, x.grantees);
            m.granted = std::max(m.granted, x.granted);
            m.available = m.available < 0 ? x.available : std::min(m.available, x.available);
            m.target = std::max(m.target, x.target);
        }
        for (const auto& [at, m] : minutes)
            p.add_row({TimeCell{at}, std::int64_t{m.n}, m.waiters, m.grantees, static_cast<double>(m.granted) / 1024.0,
                       static_cast<double>(m.available) / 1024.0, static_cast<double>(m.target) / 1024.0});
        std::int64_t timeouts = 0, forced = 0;
        for (const auto& [k, l] : last_counts) {
            auto f = first_counts[k];
            timeouts += l.first >= f.first ? l.first - f.first : l.first;
            forced += l.second >= f.second ? l.second - f.second : l.second;
        }
        c.note(fmt::format("grants waited in {} of {} resource_semaphores snapshots; grant timeouts {}, forced "
                           "(minimum) grants {} between the first and last snapshot of the window",
                           waiting_snaps, snaps.size(), timeouts, forced));
    } else {
        c.note("this store has no resource_semaphores table");
    }
    if (has_table(c.db, "memory_grants")) {
        Stmt s(c.db, analysis_sql("memory_grants", "waiting"));
        s.bind(":instance", c.instance).bind(":from", c.from).bind(":to", c.to);
        struct G {
            std::int64_t session = 0, request = 0, first = 0, last = 0, wait = 0, requested = 0, required = 0, ideal = 0,
                         dop = 0, hash = 0;
            double cost = 0;
            std::string login, host, program;
        };
        std::map<std::string, G> gs;
        while (s.step()) {
            auto key = fmt::format("{}:{}:{}", s.i64(1), s.i64(2), s.i64(12));
            auto at = store_ticks(s.view(0)).value_or(0);
            auto [it, fresh] = gs.try_emplace(key);
            G& g = it->second;
            if (fresh) {
                g.session = s.i64(1);
                g.request = s.i64(2);
                g.first = at;
                g.login = s.text(9);
                g.host = s.text(10);
                g.program = s.text(11);
                g.hash = s.i64(12);
            }
            g.last = at;
            g.wait = std::max(g.wait, s.i64(6));
            g.requested = std::max(g.requested, s.i64(3));
            g.required = std::max(g.required, s.i64(4));
            g.ideal = std::max(g.ideal, s.i64(5));
            g.cost = std::max(g.cost, s.dbl(7));
            g.dop = std::max(g.dop, s.i64(8));
        }
        std::vector<const G*> order;
        for (const auto& [k, g] : gs) order.push_back(&g);
        std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->wait > b->wait; });
        if (c.o.top > 0 && order.size() > static_cast<std::size_t>(c.o.top)) order.resize(static_cast<std::size_t>(c.o.top));
        std::vector<std::int64_t> hashes;
        for (auto* g : order) hashes.push_back(g->hash);
        auto text = texts(c.db, hashes);
        for (auto* g : order) {
            auto it = text.find(g->hash);
            wq.add_row({g->session, g->request, TimeCell{g->first}, TimeCell{g->last}, static_cast<double>(g->wait) / 1000.0,
                        static_cast<double>(g->requested) / 1024.0, static_cast<double>(g->required) / 1024.0,
                        static_cast<double>(g->ideal) / 1024.0, g->cost, g->dop, g->login, g->host, g->program,
                        it != text.end() ? Cell{it->second} : Cell{}});
        }
    }
    if (has_table(c.db, "query_stats")) {
        auto groups = plan_groups(c, "query-hash");
        std::vector<const GroupTotal*> order;
        for (const auto& g : groups)
            if (g.values[6] > 0 && g.values[6] > 2 * g.values[7]) order.push_back(&g);
        std::sort(order.begin(), order.end(), [](auto* a, auto* b) {
            return (a->values[6] - a->values[7]) > (b->values[6] - b->values[7]);
        });
        if (c.o.top > 0 && order.size() > static_cast<std::size_t>(c.o.top)) order.resize(static_cast<std::size_t>(c.o.top));
        std::vector<std::int64_t> hashes;
        for (auto* g : order) hashes.push_back(g->sample.text_hash);
        auto text = texts(c.db, hashes);
        for (auto* g : order) {
            const auto& v = g->values;
            auto it = text.find(g->sample.text_hash);
            og.add_row({hex(g->sample.query_hash), v[0], static_cast<double>(v[6]) / 1024.0,
                        static_cast<double>(v[7]) / 1024.0, 100.0 * static_cast<double>(v[7]) / static_cast<double>(v[6]),
                        v[0] > 0 ? Cell{static_cast<double>(v[6] - v[7]) / 1024.0 / static_cast<double>(v[0])} : Cell{},
                        v[8], it != text.end() ? Cell{it->second} : Cell{}});
        }
        c.note("over-granted: statements that used less than half of the memory granted to them in the window");
    }
    (void)w;
}

void stats_updates(Ctx& c) {
    auto& u = c.table("statistics_updated", "Statistics updated in the window");
    auto& pc = c.table("plan_changes", "Statements with a new plan (query_plan_hash) compiled in the window");
    u.columns = {{"database", Kind::text},    {"table", Kind::text},       {"statistics", Kind::text},
                 {"last_updated", Kind::time}, {"rows", Kind::integer},    {"rows_sampled", Kind::integer},
                 {"sample_pct", Kind::percent, 1}, {"modifications", Kind::integer, 0, true}};
    pc.columns = {{"query_hash", Kind::text},  {"new_plan", Kind::text},      {"compiled", Kind::time},
                  {"previous_plan", Kind::text}, {"cpu_ms_per_exec_before", Kind::real, 2},
                  {"cpu_ms_per_exec_after", Kind::real, 2}, {"statement", Kind::text}};
    const auto& w = c.o.window;
    if (has_table(c.db, "stats_updates")) {
        Stmt s(c.db, analysis_sql("stats_updates", "updates"));
        s.bind(":instance", c.instance).bind(":from", c.from).bind(":to", c.to)
            .bind(":lookahead", store_text(w.to + 5 * kTicksPerMinute));
        while (s.step()) {
            const double rows = s.dbl(5), sampled = s.dbl(6);
            u.add_row({s.text(0), s.text(1) + "." + s.text(2), s.text(3), TimeCell{store_ticks(s.view(4)).value_or(0)},
                       s.i64(5), s.i64(6), rows > 0 ? Cell{100.0 * sampled / rows} : Cell{}, s.i64(7)});
        }
    } else {
        c.note("this store has no stats_updates table");
    }
    if (!has_table(c.db, "query_stats")) return;
    Stmt s(c.db, analysis_sql("stats_updates", "plans"));
    s.bind(":instance", c.instance).bind(":lookback", store_text(w.from - kTicksPerDay)).bind(":to", c.to);
    struct Life {
        std::string plan;
        std::int64_t created = 0, text = 0, execs = 0, cpu = 0;
    };
    std::map<std::string, std::vector<Life>> by_query;
    while (s.step()) {
        Life l{std::string(s.blob(1)), store_ticks(s.view(2)).value_or(0), s.i64(4), s.i64(5), s.i64(6)};
        by_query[std::string(s.blob(0))].push_back(std::move(l));
    }
    struct Change {
        std::string query, plan, previous;
        std::int64_t created, text;
        double before, after;
    };
    std::vector<Change> changes;
    for (auto& [q, lives] : by_query) {
        std::sort(lives.begin(), lives.end(), [](const auto& a, const auto& b) { return a.created < b.created; });
        for (std::size_t i = 1; i < lives.size(); ++i) {
            const auto& l = lives[i];
            if (l.created < w.from || l.created >= w.to) continue;
            const auto& prev = lives[i - 1];
            if (prev.plan == l.plan) continue;
            auto per = [](const Life& x) { return x.execs > 0 ? static_cast<double>(x.cpu) / x.execs / 1000.0 : 0.0; };
            changes.push_back({q, l.plan, prev.plan, l.created, l.text ? l.text : prev.text, per(prev), per(l)});
        }
    }
    std::sort(changes.begin(), changes.end(), [](const auto& a, const auto& b) { return a.created < b.created; });
    if (c.o.top > 0 && changes.size() > static_cast<std::size_t>(c.o.top)) changes.resize(static_cast<std::size_t>(c.o.top));
    std::vector<std::int64_t> hashes;
    for (const auto& ch : changes) hashes.push_back(ch.text);
    auto text = texts(c.db, hashes);
    for (const auto& ch : changes) {
        auto it = text.find(ch.text);
        pc.add_row({hex(ch.query), hex(ch.plan), TimeCell{ch.created}, hex(ch.previous), ch.before, ch.after,
                    it != text.end() ? Cell{it->second} : Cell{}});
    }
    c.note("plan changes: a plan lifetime created in the window whose query_plan_hash differs from the previous "
           "lifetime of the same query_hash (query_stats of the window and the day before); cpu per execution is "
           "each lifetime's cumulative average");
}

void tempdb(Ctx& c) {
    auto& sp = c.table("space", "tempdb space by kind (MB)");
    auto& ss = c.table("sessions", "Sessions holding the most tempdb space");
    sp.columns = {{"kind", Kind::text}, {"min_mb", Kind::real, 0}, {"avg_mb", Kind::real, 0},
                  {"max_mb", Kind::real, 0}, {"max_at", Kind::time}};
    ss.columns = {{"session_id", Kind::integer}, {"peak_mb", Kind::real, 1}, {"user_mb", Kind::real, 1},
                  {"internal_mb", Kind::real, 1}, {"first_seen", Kind::time}, {"last_seen", Kind::time},
                  {"snapshots", Kind::integer}, {"login", Kind::text}, {"host", Kind::text}, {"program", Kind::text}};
    if (has_table(c.db, "tempdb_space")) {
        const char* kinds[] = {"total", "free", "version_store", "user_objects", "internal_objects"};
        struct S {
            double min = 0, max = 0, sum = 0;
            std::int64_t max_at = 0;
            int n = 0;
        } st[5];
        Stmt s(c.db, analysis_sql("tempdb", "space"));
        s.bind(":instance", c.instance).bind(":from", c.from).bind(":to", c.to);
        while (s.step()) {
            auto at = store_ticks(s.view(0)).value_or(0);
            for (int i = 0; i < 5; ++i) {
                double v = static_cast<double>(s.i64(1 + i)) * 8.0 / 1024.0;
                auto& x = st[i];
                if (x.n == 0 || v < x.min) x.min = v;
                if (x.n == 0 || v > x.max) {
                    x.max = v;
                    x.max_at = at;
                }
                x.sum += v;
                ++x.n;
            }
        }
        for (int i = 0; i < 5; ++i)
            if (st[i].n) sp.add_row({std::string(kinds[i]), st[i].min, st[i].sum / st[i].n, st[i].max, TimeCell{st[i].max_at}});
    } else {
        c.note("this store has no tempdb_space table");
    }
    if (has_table(c.db, "tempdb_sessions")) {
        Stmt s(c.db, analysis_sql("tempdb", "sessions"));
        s.bind(":instance", c.instance).bind(":from", c.from).bind(":to", c.to)
            .bind(":top", static_cast<std::int64_t>(c.o.top > 0 ? c.o.top : 1000000));
        while (s.step()) {
            auto mb = [&](int i) { return static_cast<double>(s.i64(i)) * 8.0 / 1024.0; };
            ss.add_row({s.i64(0), mb(4), mb(5), mb(6), TimeCell{store_ticks(s.view(7)).value_or(0)},
                        TimeCell{store_ticks(s.view(8)).value_or(0)}, s.i64(9), s.text(1), s.text(2), s.text(3)});
        }
    }
}

}  // namespace dmvlog::query
