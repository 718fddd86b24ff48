// Building the digest from the store (sql/analysis/digest.sql). The blocked-process reports of the window
// and a margin around it become episodes (agent/blocking/episodes.h); each blocked session's waits become
// intervals [report time - wait, last report of that wait]; intervals are clipped to the window, so an
// episode crossing a boundary counts in each window for its part inside it, never twice.
#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <set>
#include <stdexcept>

#include "agent/blocking/episodes.h"
#include "agent/core/time_format.h"
#include "agent/digest/digest.h"
#include "agent/query/questions.h"
#include "agent/query/sql.h"
#include "agent/xe/envelope.h"

namespace dmvlog::digest {

namespace {

using query::Stmt;
using query::store_text;
using query::store_ticks;

constexpr std::int64_t kMs = 10'000;
constexpr std::int64_t kMargin = 3600 * kTicksPerSecond;   // reports read before and after a window
constexpr std::int64_t kJoin = kTicksPerSecond;            // waits this close are one wait

double secs(std::int64_t ticks) { return static_cast<double>(ticks) / kTicksPerSecond; }

struct Report {
    blocking::ReportRow row;
    std::optional<std::int64_t> blocked_hash;
    std::string blocked_login, blocked_app, lock_mode, resource_type;
    std::optional<std::int64_t> database_id, object_id, hobt_id;
    std::int64_t event_id = 0;
};

// One blocked session's wait: [from, to), with what it waited on.
struct Interval {
    std::int64_t from = 0, to = 0;
    std::int64_t session = 0;
    std::size_t episode = 0;
    const Report* first = nullptr;
    std::int64_t max_wait_ms = 0;
};

struct Built {
    blocking::Episode ep;
    std::vector<Interval> intervals;
};

std::vector<Report> read_reports(query::Db* db, const std::string& instance, std::int64_t from, std::int64_t to) {
    std::vector<Report> out;
    if (!query::has_table(db, "blocked_process_reports")) return out;
    Stmt s(db, query::analysis_sql("digest", "reports"));
    s.bind(":instance", instance).bind(":from", store_text(from)).bind(":to", store_text(to));
    while (s.step()) {
        Report r;
        auto t = store_ticks(s.view(0));
        if (!t) continue;
        r.row.event_time.utc_ticks = *t;
        r.row.monitor_loop = s.opt_i64(1);
        r.row.blocked_spid = s.i64(2);
        r.row.blocked_wait_ms = s.i64(3);
        r.row.wait_resource = s.text(4);
        r.row.blocking_spid = s.i64(5);
        r.row.blocking_last_tran_started = s.text(6);
        r.row.blocking_status = s.text(7);
        r.row.blocking_login = s.text(8);
        r.row.blocking_host = s.text(9);
        r.row.blocking_app = s.text(10);
        r.row.blocking_transaction_name = s.text(11);
        r.row.blocking_input_buffer_hash = s.opt_i64(12);
        r.blocked_hash = s.opt_i64(13);
        r.blocked_login = s.text(14);
        r.blocked_app = s.text(15);
        r.lock_mode = s.text(16);
        r.resource_type = s.text(17);
        r.database_id = s.opt_i64(18);
        if (!r.database_id) r.database_id = s.opt_i64(21);
        r.object_id = s.opt_i64(19);
        if (!r.object_id) r.object_id = s.opt_i64(22);
        r.hobt_id = s.opt_i64(20);
        r.event_id = s.i64(24);
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<Built> build_all(const std::vector<Report>& reports) {
    std::vector<blocking::ReportRow> rows;
    rows.reserve(reports.size());
    for (const auto& r : reports) rows.push_back(r.row);
    std::vector<Built> out;
    for (auto& ep : blocking::build_episodes(rows)) {
        Built b;
        // Per blocked session, its reports in time order; a report whose wait began before the previous
        // report of the session continues that wait.
        std::map<std::int64_t, std::vector<const Report*>> by_session;
        for (auto i : ep.report_indices) by_session[reports[i].row.blocked_spid].push_back(&reports[i]);
        for (auto& [spid, rs] : by_session) {
            std::sort(rs.begin(), rs.end(), [](const Report* a, const Report* c) {
                return a->row.event_time.utc_ticks < c->row.event_time.utc_ticks;
            });
            Interval cur;
            bool open = false;
            for (const auto* r : rs) {
                const std::int64_t t = r->row.event_time.utc_ticks;
                const std::int64_t began = t - r->row.blocked_wait_ms * kMs;
                if (open && began <= cur.to + kJoin) {
                    cur.from = std::min(cur.from, began);
                    cur.to = std::max(cur.to, t);
                    cur.max_wait_ms = std::max(cur.max_wait_ms, r->row.blocked_wait_ms);
                    continue;
                }
                if (open) b.intervals.push_back(cur);
                cur = Interval{began, t, spid, out.size(), r, r->row.blocked_wait_ms};
                open = true;
            }
            if (open) b.intervals.push_back(cur);
        }
        b.ep = std::move(ep);
        out.push_back(std::move(b));
    }
    return out;
}

struct Clip {
    std::int64_t from, to;
};
std::optional<Clip> clip(std::int64_t a, std::int64_t b, const query::Window& w) {
    Clip c{std::max(a, w.from), std::min(b, w.to)};
    if (c.to <= c.from) return std::nullopt;
    return c;
}

// The longest the wait had lasted inside the window: at the window's end, or at the wait's last report.
double wait_in(const Interval& iv, const query::Window& w) {
    if (iv.to <= w.from || iv.from >= w.to) return 0;
    return secs(std::min(iv.to, w.to) - iv.from);
}

// Most intervals open at once over [w.from, w.to), and when; per bucket when buckets > 0.
struct Concurrency {
    int max = 0;
    std::optional<std::int64_t> at;
    std::vector<int> buckets;
};
Concurrency concurrency(const std::vector<Clip>& clips, const query::Window& w, int nbuckets) {
    Concurrency c;
    std::vector<std::pair<std::int64_t, int>> ev;
    for (const auto& x : clips) {
        ev.emplace_back(x.from, +1);
        ev.emplace_back(x.to, -1);
    }
    std::sort(ev.begin(), ev.end());   // at equal times, ends (-1) before starts: [a, b) then [b, c) is 1
    const std::int64_t span = w.to - w.from;
    std::int64_t width = nbuckets > 0 ? (span + nbuckets - 1) / nbuckets : 0;
    if (nbuckets > 0) c.buckets.assign(static_cast<std::size_t>(nbuckets), 0);
    int open = 0;
    for (std::size_t i = 0; i < ev.size(); ++i) {
        open += ev[i].second;
        if (i + 1 < ev.size() && ev[i + 1].first == ev[i].first) continue;
        const std::int64_t seg_from = ev[i].first, seg_to = i + 1 < ev.size() ? ev[i + 1].first : seg_from;
        if (open > c.max) {
            c.max = open;
            c.at = seg_from;
        }
        if (width > 0 && open > 0 && seg_to > seg_from) {
            auto b0 = static_cast<std::size_t>((seg_from - w.from) / width);
            auto b1 = static_cast<std::size_t>((seg_to - 1 - w.from) / width);
            for (auto k = b0; k <= b1 && k < c.buckets.size(); ++k) c.buckets[k] = std::max(c.buckets[k], open);
        }
    }
    return c;
}

class Names {
public:
    Names(query::Db* db, std::string instance) : db_(db), instance_(std::move(instance)) {
        has_index_usage_ = query::has_table(db, "index_usage");
    }
    std::string database(std::int64_t id) {
        auto it = dbs_.find(id);
        if (it != dbs_.end()) return it->second;
        std::string name;
        if (has_index_usage_) {
            Stmt s(db_, query::analysis_sql("digest", "database_name"));
            s.bind(":instance", instance_).bind(":database_id", id);
            if (s.step()) name = s.text(0);
        }
        if (name.empty()) name = fmt::format("database {}", id);
        return dbs_[id] = name;
    }
    std::string object(std::optional<std::int64_t> database_id, std::optional<std::int64_t> object_id,
                       std::optional<std::int64_t> hobt_id) {
        if (!database_id) return "";
        if (object_id && *object_id != 0) {
            auto key = std::make_pair(*database_id, *object_id);
            auto it = objects_.find(key);
            if (it != objects_.end()) return it->second;
            std::string name;
            if (has_index_usage_) {
                Stmt s(db_, query::analysis_sql("digest", "object_name"));
                s.bind(":instance", instance_).bind(":database_id", *database_id).bind(":object_id", *object_id);
                if (s.step()) name = fmt::format("{}.{}.{}", s.text(0), s.text(1), s.text(2));
            }
            if (name.empty()) name = fmt::format("{}, object {}", database(*database_id), *object_id);
            return objects_[key] = name;
        }
        if (hobt_id && *hobt_id != 0) return fmt::format("{}, hobt {}", database(*database_id), *hobt_id);
        return database(*database_id);
    }

private:
    query::Db* db_;
    std::string instance_;
    bool has_index_usage_ = false;
    std::map<std::int64_t, std::string> dbs_;
    std::map<std::pair<std::int64_t, std::int64_t>, std::string> objects_;
};

// How long the head's transaction had been open at the end of its episode. The head's lasttranstarted when
// the report has it; a sleeping head's report has none (SQL Server leaves it out), so then a lower bound: its
// transaction was open before its last batch completed, and before the first blocked task began to wait.
// Report times are the server's local time: utc_offset_minutes of the instance's snapshots converts them.
struct TranAge {
    std::optional<double> seconds;
    bool at_least = false;
};
TranAge tran_age(query::Db* db, const Built& b, const std::vector<Report>& reports, std::int64_t end, int offset_minutes) {
    TranAge out;
    const Report* last = nullptr;
    for (auto i : b.ep.report_indices)
        if (!last || reports[i].row.event_time.utc_ticks > last->row.event_time.utc_ticks) last = &reports[i];
    std::optional<std::int64_t> began;
    if (last && query::has_table(db, "xe_events")) {
        Stmt s(db, query::analysis_sql("digest", "raw_event"));
        s.bind(":event_id", last->event_id);
        if (s.step()) {
            auto ev = xe::parse_event(s.view(0));
            const auto* bpr = ev.blocked_process_report();
            if (ev.ok() && bpr) {
                const auto off = static_cast<std::int64_t>(offset_minutes) * kTicksPerMinute;
                auto local = [&](const std::optional<std::string>& t) -> std::optional<std::int64_t> {
                    if (!t) return std::nullopt;
                    auto p = parse_timestamp(*t);
                    if (!p) return std::nullopt;
                    return p->has_offset ? p->utc_ticks : p->utc_ticks - off;
                };
                if (auto t = local(bpr->blocking.last_tran_started)) {
                    began = t;
                } else if (auto c = local(bpr->blocking.last_batch_completed);
                           c && bpr->blocking.trancount.value_or(0) > 0) {
                    began = std::min(*c, b.ep.start.utc_ticks);
                    out.at_least = true;
                }
            }
        }
    }
    if (!began) {
        began = b.ep.start.utc_ticks;   // the head held the lock since the first wait began, at least
        out.at_least = true;
    }
    if (end >= *began) out.seconds = secs(end - *began);
    return out;
}

std::string text_of(const std::map<std::int64_t, std::string>& texts, std::optional<std::int64_t> hash) {
    if (!hash) return "";
    auto it = texts.find(*hash);
    return it == texts.end() ? "" : it->second;
}

Headline headline_of(const std::vector<Built>& built, const query::Window& w, int nbuckets, std::vector<int>* buckets) {
    Headline h;
    std::vector<Clip> all;
    for (const auto& b : built) {
        std::vector<Clip> mine;
        for (const auto& iv : b.intervals)
            if (auto c = clip(iv.from, iv.to, w)) mine.push_back(*c);
        bool report_inside = false;
        for (const auto& iv : b.intervals)
            if (iv.to >= w.from && iv.to < w.to) report_inside = true;
        if (mine.empty() && !report_inside) continue;
        ++h.episodes;
        const std::int64_t a = std::max(b.ep.start.utc_ticks, w.from), z = std::min(b.ep.end.utc_ticks, w.to);
        h.longest_episode_s = std::max(h.longest_episode_s, secs(std::max<std::int64_t>(0, z - a)));
        for (const auto& c : mine) h.blocked_session_seconds += secs(c.to - c.from);
        all.insert(all.end(), mine.begin(), mine.end());
        for (const auto& iv : b.intervals) h.max_wait_s = std::max(h.max_wait_s, wait_in(iv, w));
    }
    auto c = concurrency(all, w, nbuckets);
    h.max_sessions_blocked = c.max;
    h.worst_at = c.at;
    if (buckets) *buckets = std::move(c.buckets);
    return h;
}

int count_deadlocks(query::Db* db, const std::string& instance, const query::Window& w) {
    if (!query::has_table(db, "deadlocks")) return 0;
    Stmt s(db, query::analysis_sql("digest", "deadlocks"));
    s.bind(":instance", instance).bind(":from", store_text(w.from)).bind(":to", store_text(w.to));
    int n = 0;
    while (s.step()) ++n;
    return n;
}

const query::Table* find_table(const query::Report& r, const std::string& name) {
    for (const auto& t : r.tables)
        if (t.name == name) return &t;
    return nullptr;
}

template <class T>
T get(const query::Table& t, const std::vector<query::Cell>& row, const std::string& col, T fallback) {
    int c = t.col(col);
    if (c < 0) return fallback;
    const auto& cell = row[static_cast<std::size_t>(c)];
    if (auto* v = std::get_if<T>(&cell)) return *v;
    if constexpr (std::is_same_v<T, double>)
        if (auto* i = std::get_if<std::int64_t>(&cell)) return static_cast<double>(*i);
    if constexpr (std::is_same_v<T, std::int64_t>)
        if (auto* d = std::get_if<double>(&cell)) return static_cast<std::int64_t>(*d);
    return fallback;
}

void context(query::Db* db, InstanceDigest& d, const Options& o) {
    query::Options q;
    q.instances = {d.instance};
    q.window = o.window;
    q.zone = o.zone;
    q.top = o.top;
    try {
        auto r = query::run_question(db, "top-queries", q);
        if (const auto* t = find_table(r, "top_queries"); t)
            for (const auto& row : t->rows)
                d.top_cpu.push_back({get<std::string>(*t, row, "query_hash", ""), get<std::string>(*t, row, "statement", ""),
                                     get<std::int64_t>(*t, row, "executions", 0), get<double>(*t, row, "cpu_ms", 0),
                                     get<double>(*t, row, "share", 0)});
    } catch (const std::exception& e) {
        d.notes.push_back(fmt::format("top CPU queries not available: {}", e.what()));
    }
    try {
        auto r = query::run_question(db, "waits", q);
        if (const auto* t = find_table(r, "waits"); t)
            for (const auto& row : t->rows)
                d.top_waits.push_back({get<std::string>(*t, row, "wait_type", ""), get<std::int64_t>(*t, row, "wait_ms", 0),
                                       get<std::int64_t>(*t, row, "waits", 0), get<double>(*t, row, "share", 0)});
    } catch (const std::exception& e) {
        d.notes.push_back(fmt::format("top waits not available: {}", e.what()));
    }
}

void deadlocks(query::Db* db, InstanceDigest& d, const query::Window& w, Names& names) {
    if (!query::has_table(db, "deadlocks")) return;
    struct Row {
        std::int64_t id, at;
        std::string victims;
    };
    std::vector<Row> rows;
    {
        Stmt s(db, query::analysis_sql("digest", "deadlocks"));
        s.bind(":instance", d.instance).bind(":from", store_text(w.from)).bind(":to", store_text(w.to));
        while (s.step()) rows.push_back({s.i64(0), store_ticks(s.view(1)).value_or(0), s.text(2)});
    }
    std::vector<std::int64_t> hashes;
    std::vector<std::vector<std::pair<DeadlockProcess, std::optional<std::int64_t>>>> procs(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        Deadlock dl;
        dl.at = rows[i].at;
        Stmt p(db, query::analysis_sql("digest", "deadlock_processes"));
        p.bind(":event_id", rows[i].id);
        while (p.step()) {
            DeadlockProcess x;
            x.spid = p.i64(0);
            x.victim = p.i64(1) != 0;
            x.login = p.text(2);
            x.host = p.text(3);
            x.app = p.text(4);
            x.lock_mode = p.text(5);
            x.wait_resource = p.text(6);
            if (x.victim) dl.victim_spids.push_back(x.spid);
            auto h = p.opt_i64(7);
            if (h) hashes.push_back(*h);
            procs[i].emplace_back(std::move(x), h);
        }
        Stmt r(db, query::analysis_sql("digest", "deadlock_resources"));
        r.bind(":event_id", rows[i].id);
        std::set<std::string> objects;
        while (r.step()) {
            std::string obj = r.text(2);
            if (obj.empty() && !r.null(1)) obj = names.database(r.i64(1));
            if (obj.empty()) obj = r.text(0);
            if (!r.text(3).empty()) obj += " (" + r.text(3) + ")";
            if (objects.insert(obj).second) dl.objects.push_back(obj);
        }
        d.deadlocks.push_back(std::move(dl));
    }
    auto texts = query::texts(db, hashes);
    for (std::size_t i = 0; i < rows.size(); ++i)
        for (auto& [x, h] : procs[i]) {
            x.statement = text_of(texts, h);
            d.deadlocks[i].processes.push_back(std::move(x));
        }
}

InstanceDigest build_instance(query::Db* db, const std::string& instance, const Options& o) {
    InstanceDigest d;
    d.instance = instance;
    const auto& w = o.window;
    const std::int64_t len = w.to - w.from;
    const query::Window prev{w.from - len, w.from, false, {}};

    if (query::has_table(db, "server_info")) {
        Stmt s(db, query::analysis_sql("digest", "threshold"));
        s.bind(":instance", instance).bind(":to", store_text(w.to));
        if (s.step() && !s.null(0)) d.threshold_s = static_cast<int>(s.i64(0));
    }
    {
        Stmt s(db, query::analysis_sql("digest", "first_run"));
        s.bind(":instance", instance);
        if (s.step() && !s.null(0)) {
            auto first = store_ticks(s.view(0));
            d.previous_covered = first && *first <= prev.from;
        }
    }
    const bool xe = query::has_table(db, "xe_bookmarks") && [&] {
        Stmt s(db, query::analysis_sql("digest", "xe_source"));
        s.bind(":instance", instance);
        return s.step() && s.i64(0) > 0;
    }();
    d.source = xe ? "blocked_process_report" : "";
    if (!xe)
        d.notes.push_back("no blocked-process reports were collected for this instance (blocking_events): blocking "
                          "is not in this digest; `dmvlog xe setup` creates the event session");
    else if (!d.threshold_s || *d.threshold_s == 0)
        d.notes.push_back("'blocked process threshold (s)' is 0 or unknown: SQL Server writes no blocked-process "
                          "reports; `dmvlog xe setup --set-threshold N` sets it");

    int offset_minutes = 0;
    {
        Stmt s(db, query::analysis_sql("digest", "utc_offset"));
        s.bind(":instance", instance).bind(":to", store_text(w.to));
        if (s.step()) offset_minutes = static_cast<int>(s.i64(0));
    }
    const auto reports = read_reports(db, instance, prev.from - kMargin, w.to + kMargin);
    const auto built = build_all(reports);
    d.headline = headline_of(built, w, o.buckets, &d.timeline);
    d.bucket_ticks = o.buckets > 0 ? (len + o.buckets - 1) / o.buckets : 0;
    d.previous = headline_of(built, prev, 0, nullptr);
    d.headline.deadlocks = count_deadlocks(db, instance, w);
    d.previous.deadlocks = count_deadlocks(db, instance, prev);

    Names names(db, instance);
    std::vector<std::int64_t> hashes;
    for (const auto& r : reports) {
        if (r.row.blocking_input_buffer_hash) hashes.push_back(*r.row.blocking_input_buffer_hash);
        if (r.blocked_hash) hashes.push_back(*r.blocked_hash);
    }
    const auto texts = query::texts(db, hashes);

    // Episodes, and per head blocker / blocked statement / resource / object, the clipped blocked time.
    std::map<std::tuple<std::string, std::string, std::string, std::string>, HeadBlocker> heads;
    std::map<std::tuple<std::string, std::string, std::string, std::string>, std::set<std::size_t>> head_episodes;
    std::map<std::string, BlockedStatement> statements;
    std::map<std::string, std::set<std::size_t>> statement_episodes;
    std::map<std::string, std::set<std::pair<std::size_t, std::int64_t>>> statement_sessions;
    std::map<std::string, Resource> resources;
    std::map<std::string, std::set<std::pair<std::size_t, std::int64_t>>> resource_sessions;
    std::map<std::string, ObjectContention> objects;
    std::map<std::string, std::set<std::string>> object_resources;
    std::map<std::string, std::set<std::pair<std::size_t, std::int64_t>>> object_sessions;

    for (std::size_t k = 0; k < built.size(); ++k) {
        const auto& b = built[k];
        Episode e;
        std::vector<Clip> clips;
        std::set<std::int64_t> sessions;
        bool report_inside = false;
        for (const auto& iv : b.intervals) {
            if (iv.to >= w.from && iv.to < w.to) report_inside = true;
            auto c = clip(iv.from, iv.to, w);
            if (!c) continue;
            e.max_wait_s = std::max(e.max_wait_s, wait_in(iv, w));
            clips.push_back(*c);
            sessions.insert(iv.session);
            const double s = secs(c->to - c->from);
            e.blocked_session_seconds += s;

            const Report& r = *iv.first;
            std::string stmt = text_of(texts, r.blocked_hash);
            if (stmt.empty()) stmt = "(input buffer not captured)";
            auto& st = statements[stmt];
            if (st.statement.empty()) {
                st.statement = stmt;
                st.login = r.blocked_login;
                st.app = r.blocked_app;
            }
            st.blocked_session_seconds += s;
            st.max_wait_s = std::max(st.max_wait_s, wait_in(iv, w));
            statement_episodes[stmt].insert(k);
            statement_sessions[stmt].insert({k, iv.session});

            const std::string object = names.object(r.database_id, r.object_id, r.hobt_id);
            if (!r.row.wait_resource.empty()) {
                auto& res = resources[r.row.wait_resource];
                if (res.resource.empty()) {
                    res.resource = r.row.wait_resource;
                    res.type = r.resource_type;
                    res.object = object;
                    res.lock_mode = r.lock_mode;
                }
                res.blocked_session_seconds += s;
                resource_sessions[r.row.wait_resource].insert({k, iv.session});
            }
            if (!object.empty()) {
                auto& ob = objects[object];
                ob.object = object;
                ob.blocked_session_seconds += s;
                if (!r.row.wait_resource.empty()) object_resources[object].insert(r.row.wait_resource);
                object_sessions[object].insert({k, iv.session});
            }
        }
        if (clips.empty() && !report_inside) continue;
        e.head_spid = b.ep.head_spid;
        e.head_login = b.ep.head_login;
        e.head_host = b.ep.head_host;
        e.head_app = b.ep.head_app;
        e.head_status = b.ep.head_status;
        e.head_statement = text_of(texts, b.ep.head_input_buffer_hash);
        e.start = b.ep.start.utc_ticks;
        e.end = b.ep.end.utc_ticks;
        e.window_start = std::max(e.start, w.from);
        e.window_end = std::max(e.window_start, std::min(e.end, w.to));
        e.began_before = e.start < w.from;
        e.continues_after = e.end >= w.to;
        e.sessions_blocked = static_cast<int>(sessions.size());
        e.max_sessions_blocked = concurrency(clips, w, 0).max;
        e.resources = b.ep.resources;

        auto key = std::make_tuple(e.head_login, e.head_host, e.head_app, e.head_statement);
        auto& h = heads[key];
        const double dur = secs(e.window_end - e.window_start);
        if (h.episodes == 0 || dur > h.longest_episode_s) {
            h.login = e.head_login;
            h.host = e.head_host;
            h.app = e.head_app;
            h.statement = e.head_statement;
            h.spid = e.head_spid;
            h.status = e.head_status;
        }
        head_episodes[key].insert(k);
        h.episodes = static_cast<int>(head_episodes[key].size());
        h.blocked_session_seconds += e.blocked_session_seconds;
        h.longest_episode_s = std::max(h.longest_episode_s, dur);
        h.sessions_blocked += e.sessions_blocked;
        auto age = tran_age(db, b, reports, e.window_end, offset_minutes);
        if (age.seconds && (!h.open_transaction_s || *age.seconds > *h.open_transaction_s)) {
            h.open_transaction_s = age.seconds;
            h.open_transaction_at_least = age.at_least;
        }
        d.episodes.push_back(std::move(e));
    }

    for (auto& [k, v] : statements) {
        v.episodes = static_cast<int>(statement_episodes[k].size());
        v.sessions = static_cast<int>(statement_sessions[k].size());
        d.blocked_statements.push_back(v);
    }
    for (auto& [k, v] : resources) {
        v.sessions = static_cast<int>(resource_sessions[k].size());
        d.resources.push_back(v);
    }
    for (auto& [k, v] : objects) {
        v.sessions = static_cast<int>(object_sessions[k].size());
        v.resources = static_cast<int>(object_resources[k].size());
        d.objects.push_back(v);
    }
    for (auto& [k, v] : heads) d.head_blockers.push_back(v);
    auto by_time = [](const auto& a, const auto& b) { return a.blocked_session_seconds > b.blocked_session_seconds; };
    std::sort(d.head_blockers.begin(), d.head_blockers.end(), by_time);
    std::sort(d.blocked_statements.begin(), d.blocked_statements.end(), by_time);
    std::sort(d.resources.begin(), d.resources.end(), by_time);
    std::sort(d.objects.begin(), d.objects.end(), by_time);
    auto cut = [&](auto& v) {
        if (o.top > 0 && v.size() > static_cast<std::size_t>(o.top)) v.resize(static_cast<std::size_t>(o.top));
    };
    cut(d.head_blockers);
    cut(d.blocked_statements);
    cut(d.resources);
    cut(d.objects);

    deadlocks(db, d, w, names);
    context(db, d, o);
    return d;
}

}  // namespace

Digest build(sqlite3* db, const Options& o) {
    query::SqliteDb d(db);
    return build(&d, o);
}

Digest build(query::Db* db, const Options& o) {
    if (o.window.to <= o.window.from) throw std::runtime_error("the digest window is empty");
    Digest d;
    d.window = o.window;
    d.time_zone = o.zone ? o.zone->name() : "UTC";
    d.generated_at = o.now ? o.now : query::now_ticks();
    auto instances = o.instances;
    if (instances.empty()) {
        Stmt s(db, query::analysis_sql("digest", "instances"));
        while (s.step()) instances.push_back(s.text(0));
    }
    for (const auto& inst : instances) d.instances.push_back(build_instance(db, inst, o));
    return d;
}

}  // namespace dmvlog::digest
