// Questions on cumulative server counters: waits, latches, spinlocks, file-io, perf-counters, index-usage.

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <set>
#include <unordered_map>

#include "agent/core/time_format.h"
#include "agent/query/delta.h"
#include "agent/query/questions_common.h"

namespace dmvlog::query {

namespace {

struct CounterRun {
    CounterDeltas deltas;
    std::unordered_map<std::string, std::vector<Cell>> extras;  // latest descriptive columns per key
    Coverage cov;
    std::int64_t base = 0;
};

Cell cell_of(Stmt& s, int i) {
    switch (s.type(i)) {
        case ColType::integer: return s.i64(i);
        case ColType::real: return s.dbl(i);
        case ColType::null: return Cell{};
        default: return s.text(i);
    }
}

std::map<std::int64_t, std::string> epochs(Ctx& c, const std::vector<std::string>& collectors, std::int64_t from) {
    std::map<std::int64_t, std::string> out;
    for (const auto& coll : collectors) {
        Stmt s(c.db, analysis_sql("common", "epochs"));
        s.bind(":collector", coll).bind(":instance", c.instance).bind(":from", store_text(from)).bind(":to", c.to);
        while (s.step()) out[store_ticks(s.view(0)).value_or(0)] = s.text(1);
    }
    return out;
}

// Reads "collected_at, key, counters..., extras..." rows in time order into the delta engine. The baseline
// is the latest snapshot of `collector` at or before the window start (a day back at most) unless given.
CounterRun run_counters(Ctx& c, const std::string& file, const std::string& collector,
                        const std::vector<std::string>& epoch_collectors, int metrics, bool full_listing,
                        std::optional<std::int64_t> base = std::nullopt, const std::string& filter = "") {
    const auto& w = c.o.window;
    CounterRun run{CounterDeltas(metrics, full_listing, w.from, w.to), {}, {}, 0};
    if (!base) {
        Stmt s(c.db, analysis_sql("common", "baseline_snapshot"));
        s.bind(":collector", collector).bind(":instance", c.instance).bind(":from", c.from)
            .bind(":lookback", store_text(w.from - kTicksPerDay));
        base = scalar_time(s);
    }
    run.base = base.value_or(w.from);
    auto ep = epochs(c, epoch_collectors, run.base);
    run.cov = coverage(c, collector);
    Stmt s(c.db, analysis_sql(file, "rows"));
    s.bind(":instance", c.instance).bind(":from", store_text(run.base)).bind(":to", c.to).bind(":filter", filter);
    int ncols = -1;   // known once a row is there (PostgreSQL describes the result with its first row)
    std::string last_text;
    std::string epoch;
    Metrics m{};
    while (s.step()) {
        if (ncols < 0) ncols = s.columns();
        auto at_v = s.view(0);
        if (at_v != last_text) {
            last_text.assign(at_v);
            const std::int64_t at = store_ticks(at_v).value_or(0);
            auto it = ep.find(at);
            if (it != ep.end()) epoch = it->second;
            run.deltas.snapshot(at, epoch);
        }
        std::string key(s.view(1));
        for (int i = 0; i < metrics; ++i) m[i] = s.i64(2 + i);
        run.deltas.row(key, m);
        if (ncols > 2 + metrics) {
            auto& ex = run.extras[key];
            ex.clear();
            for (int i = 2 + metrics; i < ncols; ++i) ex.push_back(cell_of(s, i));
        }
    }
    run.deltas.finish();
    return run;
}

void reset_notes(Ctx& c, const CounterRun& run, const std::string& what) {
    std::vector<std::string> restarts, clears, decreases;
    for (const auto& r : run.deltas.resets()) {
        if (r.kind == "restart") restarts.push_back(c.zone.display(r.at));
        else if (r.kind == "clear") clears.push_back(fmt::format("{} ({} keys)", c.zone.display(r.at), r.keys));
        else decreases.push_back(fmt::format("{} at {}", r.key, c.zone.display(r.at)));
    }
    auto list = [](const std::vector<std::string>& v) {
        std::string out;
        for (std::size_t i = 0; i < v.size() && i < 6; ++i) out += (i ? ", " : "") + v[i];
        if (v.size() > 6) out += fmt::format(", … ({} in all)", v.size());
        return out;
    };
    if (!restarts.empty())
        c.note(fmt::format("restart (sqlserver_start_time changed) before the snapshot at {}: {} counted from zero "
                           "after it; activity between the previous snapshot and the restart is lost",
                           list(restarts), what));
    if (!clears.empty())
        c.note(fmt::format("{} cleared (most keys went down: DBCC SQLPERF CLEAR?) at {}: new values counted whole",
                           what, list(clears)));
    if (!decreases.empty())
        c.note(fmt::format("{} reset (value went down) for {}: new value counted", what, list(decreases)));
    if (run.deltas.measured_from() != 0 && run.deltas.measured_to() != 0)
        c.note(fmt::format("measured from {} to {} ({} snapshots in the window{})", c.zone.display(run.deltas.measured_from()),
                           c.zone.display(run.deltas.measured_to()), run.deltas.snapshots_in_window(),
                           run.deltas.measured_from() < c.o.window.from ? ", baseline before it" : ", no baseline before the window"));
    if (run.cov.partial) c.note(run.cov.note);
}

double secs(const CounterRun& run) {
    return static_cast<double>(run.deltas.measured_to() - run.deltas.measured_from()) / kTicksPerSecond;
}

std::vector<std::pair<std::string, const CounterDeltas::KeyTotal*>> sorted_by(const CounterRun& run, int slot) {
    std::vector<std::pair<std::string, const CounterDeltas::KeyTotal*>> v;
    for (const auto& [k, t] : run.deltas.totals()) v.push_back({k, &t});
    std::sort(v.begin(), v.end(), [&](const auto& a, const auto& b) {
        if (a.second->delta[slot] != b.second->delta[slot]) return a.second->delta[slot] > b.second->delta[slot];
        return a.first < b.first;
    });
    return v;
}

// Waits that accumulate while the server idles or waits by design (a common exclusion list).
const std::set<std::string>& benign_waits() {
    static const std::set<std::string> s = {
        "BROKER_EVENTHANDLER", "BROKER_RECEIVE_WAITFOR", "BROKER_TASK_STOP", "BROKER_TO_FLUSH", "BROKER_TRANSMITTER",
        "CHECKPOINT_QUEUE", "CHKPT", "CLR_AUTO_EVENT", "CLR_MANUAL_EVENT", "CLR_SEMAPHORE", "DBMIRROR_DBM_EVENT",
        "DBMIRROR_EVENTS_QUEUE", "DBMIRROR_WORKER_QUEUE", "DBMIRRORING_CMD", "DIRTY_PAGE_POLL", "DISPATCHER_QUEUE_SEMAPHORE",
        "EXECSYNC", "FSAGENT", "FT_IFTS_SCHEDULER_IDLE_WAIT", "FT_IFTSHC_MUTEX", "HADR_CLUSAPI_CALL",
        "HADR_FILESTREAM_IOMGR_IOCOMPLETION", "HADR_LOGCAPTURE_WAIT", "HADR_NOTIFICATION_DEQUEUE", "HADR_TIMER_TASK",
        "HADR_WORK_QUEUE", "KSOURCE_WAKEUP", "LAZYWRITER_SLEEP", "LOGMGR_QUEUE", "MEMORY_ALLOCATION_EXT",
        "ONDEMAND_TASK_QUEUE", "PARALLEL_REDO_DRAIN_WORKER", "PARALLEL_REDO_LOG_CACHE", "PARALLEL_REDO_TRAN_LIST",
        "PARALLEL_REDO_WORKER_SYNC", "PARALLEL_REDO_WORKER_WAIT_WORK", "PREEMPTIVE_XE_GETTARGETSTATE",
        "PWAIT_ALL_COMPONENTS_INITIALIZED", "PWAIT_DIRECTLOGCONSUMER_GETNEXT", "QDS_PERSIST_TASK_MAIN_LOOP_SLEEP",
        "QDS_ASYNC_QUEUE", "QDS_CLEANUP_STALE_QUERIES_TASK_MAIN_LOOP_SLEEP", "QDS_SHUTDOWN_QUEUE", "REDO_THREAD_PENDING_WORK",
        "REQUEST_FOR_DEADLOCK_SEARCH", "RESOURCE_QUEUE", "SERVER_IDLE_CHECK", "SLEEP_BPOOL_FLUSH", "SLEEP_DBSTARTUP",
        "SLEEP_DCOMSTARTUP", "SLEEP_MASTERDBREADY", "SLEEP_MASTERMDREADY", "SLEEP_MASTERUPGRADED", "SLEEP_MSDBSTARTUP",
        "SLEEP_SYSTEMTASK", "SLEEP_TASK", "SLEEP_TEMPDBSTARTUP", "SNI_HTTP_ACCEPT", "SOS_WORK_DISPATCHER",
        "SP_SERVER_DIAGNOSTICS_SLEEP", "SQLTRACE_BUFFER_FLUSH", "SQLTRACE_INCREMENTAL_FLUSH_SLEEP", "SQLTRACE_WAIT_ENTRIES",
        "UCS_SESSION_REGISTRATION", "VDI_CLIENT_OTHER", "WAIT_FOR_RESULTS", "WAITFOR", "WAITFOR_TASKSHUTDOWN",
        "WAIT_XTP_RECOVERY", "WAIT_XTP_HOST_WAIT", "WAIT_XTP_OFFLINE_CKPT_NEW_LOG", "WAIT_XTP_CKPT_CLOSE",
        "XE_DISPATCHER_JOIN", "XE_DISPATCHER_WAIT", "XE_TIMER_EVENT", "XE_LIVE_TARGET_TVF"};
    return s;
}

std::string pct_note(const char* what, double total) { return fmt::format("share is of all {} in the window ({:.0f})", what, total); }

}  // namespace

void waits(Ctx& c) {
    auto& t = c.table("waits", "Waits by wait time (sum of consecutive-snapshot differences)");
    t.columns = {{"wait_type", Kind::text},        {"wait_ms", Kind::integer},  {"signal_ms", Kind::integer},
                 {"resource_ms", Kind::integer},   {"waits", Kind::integer},    {"avg_ms", Kind::real, 2},
                 {"ms_per_s", Kind::real, 1},      {"share", Kind::percent, 1}, {"quality", Kind::text}};
    if (!has_table(c.db, "wait_stats")) return c.note("this store has no wait_stats table");
    auto run = run_counters(c, "waits", "wait_stats", {"wait_stats"}, 3, true);
    double total = 0;
    int hidden = 0;
    for (const auto& [k, v] : run.deltas.totals()) {
        if (!c.o.all && benign_waits().count(k)) {
            hidden += v.delta[0] > 0;
            continue;
        }
        total += static_cast<double>(v.delta[0]);
    }
    const double span = secs(run);
    int n = 0;
    for (const auto& [k, v] : sorted_by(run, 0)) {
        if (!c.o.all && benign_waits().count(k)) continue;
        if (v->delta[0] == 0 && v->delta[2] == 0) continue;
        if (c.o.top > 0 && n++ >= c.o.top) break;
        const auto& d = v->delta;
        Quality q = run.cov.partial ? Quality::partial : Quality::exact;
        t.add_row({k, d[0], d[1], d[0] - d[1], d[2], d[2] > 0 ? Cell{static_cast<double>(d[0]) / d[2]} : Cell{},
                   span > 0 ? Cell{static_cast<double>(d[0]) / span} : Cell{},
                   total > 0 ? Cell{100.0 * static_cast<double>(d[0]) / total} : Cell{}, std::string(quality_name(q))});
    }
    if (hidden > 0) c.note(fmt::format("{} benign (idle) wait types left out; --all shows them", hidden));
    c.note(pct_note("non-benign wait time, ms", total));
    reset_notes(c, run, "wait stats");
}

void latches(Ctx& c) {
    auto& t = c.table("latches", "Latch classes by wait time");
    t.columns = {{"latch_class", Kind::text}, {"wait_ms", Kind::integer}, {"requests", Kind::integer},
                 {"avg_ms", Kind::real, 2},   {"share", Kind::percent, 1}};
    if (!has_table(c.db, "latch_stats")) return c.note("this store has no latch_stats table");
    auto run = run_counters(c, "latches", "latch_stats", {"latch_stats"}, 2, true);
    double total = 0;
    for (const auto& [k, v] : run.deltas.totals()) total += static_cast<double>(v.delta[0]);
    int n = 0;
    for (const auto& [k, v] : sorted_by(run, 0)) {
        if (v->delta[0] == 0 && v->delta[1] == 0) continue;
        if (c.o.top > 0 && n++ >= c.o.top) break;
        const auto& d = v->delta;
        t.add_row({k, d[0], d[1], d[1] > 0 ? Cell{static_cast<double>(d[0]) / d[1]} : Cell{},
                   total > 0 ? Cell{100.0 * static_cast<double>(d[0]) / total} : Cell{}});
    }
    reset_notes(c, run, "latch stats");
}

void spinlocks(Ctx& c) {
    auto& t = c.table("spinlocks", "Spinlocks by spins");
    t.columns = {{"spinlock", Kind::text},   {"spins", Kind::integer},    {"collisions", Kind::integer},
                 {"backoffs", Kind::integer}, {"sleep_ms", Kind::integer}, {"spins_per_collision", Kind::real, 1}};
    if (!has_table(c.db, "spinlock_stats")) return c.note("this store has no spinlock_stats table");
    auto run = run_counters(c, "spinlocks", "spinlock_stats", {"spinlock_stats"}, 4, true);
    int n = 0;
    for (const auto& [k, v] : sorted_by(run, 0)) {
        if (v->delta[0] == 0 && v->delta[1] == 0) continue;
        if (c.o.top > 0 && n++ >= c.o.top) break;
        const auto& d = v->delta;
        t.add_row({k, d[0], d[1], d[2], d[3], d[1] > 0 ? Cell{static_cast<double>(d[0]) / d[1]} : Cell{}});
    }
    reset_notes(c, run, "spinlock stats");
}

void file_io(Ctx& c) {
    auto& t = c.table("file_io", "Database files by total I/O stall");
    t.columns = {{"database", Kind::text},          {"file", Kind::text},           {"type", Kind::text},
                 {"reads", Kind::integer},          {"read_mb", Kind::real, 1},     {"read_latency_ms", Kind::real, 2},
                 {"writes", Kind::integer},         {"write_mb", Kind::real, 1},    {"write_latency_ms", Kind::real, 2},
                 {"stall_ms", Kind::integer},       {"read_stall_ms", Kind::integer, 0, true},
                 {"write_stall_ms", Kind::integer, 0, true}, {"size_mb", Kind::real, 0, true},
                 {"physical_name", Kind::text, 0, true}};
    if (!has_table(c.db, "file_io")) return c.note("this store has no file_io table");
    auto run = run_counters(c, "file_io", "file_io", {"file_io"}, 7, false);
    int n = 0;
    for (const auto& [k, v] : sorted_by(run, 6)) {
        if (v->delta[0] == 0 && v->delta[3] == 0) continue;
        if (c.o.top > 0 && n++ >= c.o.top) break;
        const auto& d = v->delta;
        auto ex = run.extras[k];
        ex.resize(5);
        auto size_mb = std::holds_alternative<std::int64_t>(ex[4]) ? Cell{static_cast<double>(std::get<std::int64_t>(ex[4])) / 1048576.0} : Cell{};
        t.add_row({ex[0], ex[1], ex[2], d[0], static_cast<double>(d[1]) / 1048576.0,
                   d[0] > 0 ? Cell{static_cast<double>(d[2]) / d[0]} : Cell{}, d[3], static_cast<double>(d[4]) / 1048576.0,
                   d[3] > 0 ? Cell{static_cast<double>(d[5]) / d[3]} : Cell{}, d[6], d[2], d[5], size_mb, ex[3]});
    }
    reset_notes(c, run, "file stats");
}

// ---------------------------------------------------------------- perf counters

namespace {

constexpr std::int64_t kBulkCount = 272696576;      // PERF_COUNTER_BULK_COUNT: cumulative, per second
constexpr std::int64_t kLargeRaw = 65792;           // PERF_COUNTER_LARGE_RAWCOUNT: point in time
constexpr std::int64_t kRawFraction = 537003264;    // PERF_LARGE_RAW_FRACTION: value / base
constexpr std::int64_t kAverageBulk = 1073874176;   // PERF_AVERAGE_BULK: delta value / delta base
constexpr std::int64_t kRawBase = 1073939712;       // PERF_LARGE_RAW_BASE

std::string lower(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

struct Stat {
    double min = 0, max = 0, sum = 0;
    int n = 0;
    void add(double v) {
        if (n == 0 || v < min) min = v;
        if (n == 0 || v > max) max = v;
        sum += v;
        ++n;
    }
};

}  // namespace

void perf_counters(Ctx& c) {
    auto& t = c.table("perf_counters", "Performance counters");
    t.columns = {{"object", Kind::text}, {"counter", Kind::text},  {"instance", Kind::text}, {"kind", Kind::text},
                 {"value", Kind::real, 2}, {"min", Kind::real, 2}, {"max", Kind::real, 2},   {"delta", Kind::integer},
                 {"cntr_type", Kind::integer, 0, true}};
    if (!has_table(c.db, "perf_counters")) return c.note("this store has no perf_counters table");
    const auto& w = c.o.window;
    std::optional<std::int64_t> base;
    {
        Stmt s(c.db, analysis_sql("common", "baseline_snapshot"));
        s.bind(":collector", std::string("perf_counters")).bind(":instance", c.instance).bind(":from", c.from)
            .bind(":lookback", store_text(w.from - kTicksPerDay));
        base = scalar_time(s);
    }
    const std::int64_t start = base.value_or(w.from);
    auto ep = epochs(c, {"perf_counters"}, start);
    struct Row {
        std::int64_t value;
        std::int64_t type;
    };
    struct KeyState {
        std::string object, counter, instance;
        std::int64_t type = 0;
        bool has_prev = false;
        std::int64_t prev = 0, prev_at = 0, prev_base = 0;
        std::string prev_epoch;
        double sum_delta = 0, sum_base = 0, sum_secs = 0;
        Stat stat;   // rates per interval, ratios or values
        int resets = 0;
    };
    std::map<std::string, KeyState> keys;
    std::map<std::string, std::string> base_of;   // counter key -> base key
    std::unordered_map<std::string, Row> snap;
    std::int64_t snap_at = 0;
    std::string epoch;
    int snapshots = 0, resets = 0;
    auto find_base = [&](const std::string& obj, const std::string& cnt, const std::string& inst) -> std::string {
        const std::string k = obj + "\x1f" + cnt + "\x1f" + inst;
        auto it = base_of.find(k);
        if (it != base_of.end()) return it->second;
        std::string best;
        const std::string lc = lower(cnt);
        for (const auto& [bk, r] : snap) {
            if (r.type != kRawBase) continue;
            auto p1 = bk.find('\x1f'), p2 = bk.rfind('\x1f');
            if (bk.substr(0, p1) != obj || bk.substr(p2 + 1) != inst) continue;
            std::string bn = lower(bk.substr(p1 + 1, p2 - p1 - 1));
            if (bn.size() > 5 && bn.substr(bn.size() - 5) == " base") bn.resize(bn.size() - 5);
            if (!bn.empty() && lc.rfind(bn, 0) == 0 && bn.size() > lower(best).size()) best = bk;
        }
        base_of[k] = best;
        return best;
    };
    auto close = [&] {
        if (snap.empty()) return;
        const bool in_window = snap_at >= w.from && snap_at < w.to;
        const bool counted = snap_at > w.from && snap_at < w.to;
        if (in_window) ++snapshots;
        for (const auto& [k, r] : snap) {
            if (r.type == kRawBase) continue;
            auto p1 = k.find('\x1f'), p2 = k.rfind('\x1f');
            auto& st = keys[k];
            if (st.object.empty()) {
                st.object = k.substr(0, p1);
                st.counter = k.substr(p1 + 1, p2 - p1 - 1);
                st.instance = k.substr(p2 + 1);
            }
            st.type = r.type;
            std::int64_t bval = 0;
            bool has_base = false;
            if (r.type == kRawFraction || r.type == kAverageBulk) {
                auto bk = find_base(st.object, st.counter, st.instance);
                auto bit = bk.empty() ? snap.end() : snap.find(bk);
                if (bit != snap.end()) {
                    bval = bit->second.value;
                    has_base = true;
                }
            }
            if (r.type == kLargeRaw) {
                if (in_window) st.stat.add(static_cast<double>(r.value));
            } else if (r.type == kRawFraction) {
                if (in_window && has_base && bval > 0) st.stat.add(100.0 * static_cast<double>(r.value) / static_cast<double>(bval));
            } else if (r.type == kBulkCount || r.type == kAverageBulk) {
                if (st.has_prev && counted) {
                    const bool restart = st.prev_epoch != epoch;
                    std::int64_t dv = r.value - st.prev;
                    std::int64_t db = bval - st.prev_base;
                    if (restart || dv < 0 || db < 0) {
                        dv = r.value;
                        db = bval;
                        ++st.resets;
                        ++resets;
                    }
                    const double dt = static_cast<double>(snap_at - st.prev_at) / kTicksPerSecond;
                    st.sum_delta += static_cast<double>(dv);
                    st.sum_base += static_cast<double>(db);
                    st.sum_secs += dt;
                    if (r.type == kBulkCount && dt > 0) st.stat.add(static_cast<double>(dv) / dt);
                    if (r.type == kAverageBulk && has_base && db > 0) st.stat.add(static_cast<double>(dv) / static_cast<double>(db));
                }
                st.has_prev = true;
                st.prev = r.value;
                st.prev_base = bval;
                st.prev_at = snap_at;
                st.prev_epoch = epoch;
            }
        }
        snap.clear();
    };
    Stmt s(c.db, analysis_sql("perf_counters", "rows"));
    s.bind(":instance", c.instance).bind(":from", store_text(start)).bind(":to", c.to)
        .bind(":filter", c.o.filter.empty() ? std::string("%") : c.o.filter);
    std::string last_text;
    while (s.step()) {
        auto at_v = s.view(0);
        if (at_v != last_text) {
            close();
            last_text.assign(at_v);
            snap_at = store_ticks(at_v).value_or(0);
            auto it = ep.find(snap_at);
            if (it != ep.end()) epoch = it->second;
        }
        std::string k;
        k.reserve(96);
        k.append(s.view(1)).append("\x1f").append(s.view(2)).append("\x1f").append(s.view(3));
        snap[k] = Row{s.i64(4), s.i64(5)};
    }
    close();
    int n = 0;
    for (const auto& [k, st] : keys) {
        Cell value, mn, mx, delta;
        std::string kind;
        if (st.type == kLargeRaw || st.type == kRawFraction) {
            if (st.stat.n == 0) continue;
            kind = st.type == kLargeRaw ? "value (avg)" : "ratio % (avg)";
            value = st.stat.sum / st.stat.n;
            mn = st.stat.min;
            mx = st.stat.max;
        } else if (st.type == kBulkCount) {
            if (st.sum_secs <= 0) continue;
            kind = "per second";
            value = st.sum_delta / st.sum_secs;
            if (st.stat.n) {
                mn = st.stat.min;
                mx = st.stat.max;
            }
            delta = static_cast<std::int64_t>(st.sum_delta);
        } else if (st.type == kAverageBulk) {
            if (st.sum_secs <= 0) continue;
            kind = "average";
            value = st.sum_base > 0 ? Cell{st.sum_delta / st.sum_base} : Cell{0.0};
            if (st.stat.n) {
                mn = st.stat.min;
                mx = st.stat.max;
            }
            delta = static_cast<std::int64_t>(st.sum_base);
        } else {
            continue;
        }
        if (c.o.top > 0 && n++ >= c.o.top * 40) break;
        t.add_row({st.object, st.counter, st.instance, kind, value, mn, mx, delta, st.type});
    }
    c.note("per second: delta / seconds between snapshots (min/max over intervals); ratio: value / base at each "
           "snapshot; average: delta value / delta base (delta = base count); value: as observed (min/avg/max)");
    if (!c.o.filter.empty()) c.note("filter (LIKE on object or counter): " + c.o.filter);
    if (resets > 0) c.note(fmt::format("{} counter resets (restart or decrease) were counted as new values", resets));
    c.note(fmt::format("{} snapshots in the window{}", snapshots, base ? ", baseline " + c.zone.display(*base) : ""));
}

// ---------------------------------------------------------------- index usage

void index_usage(Ctx& c) {
    auto& t = c.table("indexes", "Index activity (reads = seeks + scans + lookups)");
    auto& u = c.table("unused", "Indexes without reads in the window (nonclustered, not unique)");
    const std::vector<Column> cols = {{"database", Kind::text},     {"table", Kind::text},      {"index", Kind::text},
                                      {"type", Kind::text, 0, true}, {"seeks", Kind::integer},   {"scans", Kind::integer},
                                      {"lookups", Kind::integer},   {"updates", Kind::integer}, {"rows", Kind::integer},
                                      {"size_mb", Kind::real, 1},   {"flag", Kind::text},       {"quality", Kind::text, 0, true}};
    t.columns = cols;
    u.columns = cols;
    if (!has_table(c.db, "index_usage")) return c.note("this store has no index_usage table");
    const auto& w = c.o.window;
    const bool has_full = has_table(c.db, "index_usage_full");
    std::optional<std::int64_t> base, full_at;
    if (has_full) {
        Stmt s(c.db, analysis_sql("common", "baseline_snapshot"));
        s.bind(":collector", std::string("index_usage_full")).bind(":instance", c.instance).bind(":from", c.from)
            .bind(":lookback", store_text(w.from - 8 * kTicksPerDay));
        base = scalar_time(s);
        Stmt f(c.db, analysis_sql("index_usage", "full_at"));
        f.bind(":instance", c.instance).bind(":to", c.to);
        full_at = scalar_time(f);
    }
    if (!base) base = w.from - kTicksPerDay;
    auto run = run_counters(c, "index_usage", "index_usage", {"index_usage", "index_usage_full"}, 4, false, base);
    auto row_of = [&](const std::string& k, const Metrics* d, bool lower) -> std::vector<Cell> {
        auto ex = run.extras[k];
        ex.resize(9);
        const std::int64_t rows = std::holds_alternative<std::int64_t>(ex[7]) ? std::get<std::int64_t>(ex[7]) : 0;
        const std::int64_t pages = std::holds_alternative<std::int64_t>(ex[8]) ? std::get<std::int64_t>(ex[8]) : 0;
        Metrics z{};
        const Metrics& v = d ? *d : z;
        const std::int64_t reads = v[0] + v[1] + v[2];
        std::string flag;
        if (reads == 0 && v[3] > 0) flag = "write-only";
        else if (v[1] >= 10 && v[1] >= 10 * (v[0] + v[2] + 1) && rows >= 10000) flag = "scan-heavy";
        else if (reads == 0) flag = "unused";
        auto text = [](const Cell& x) { return std::holds_alternative<std::string>(x) ? std::get<std::string>(x) : std::string(); };
        return {ex[0], text(ex[1]) + "." + text(ex[2]), ex[3], ex[4], v[0], v[1], v[2], v[3], rows,
                static_cast<double>(pages) * 8.0 / 1024.0, flag, std::string(lower ? "lower-bound" : (run.cov.partial ? "partial" : "exact"))};
    };
    std::vector<std::pair<std::int64_t, std::string>> order;
    for (const auto& [k, v] : run.deltas.totals()) {
        const std::int64_t reads = v.delta[0] + v.delta[1] + v.delta[2];
        if (reads > 0 || v.delta[3] > 0) order.push_back({reads, k});
    }
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a > b; });
    int n = 0;
    for (const auto& [reads, k] : order) {
        if (c.o.top > 0 && n++ >= c.o.top) break;
        const auto& v = run.deltas.totals().at(k);
        t.add_row(row_of(k, &v.delta, v.lower_bound));
    }
    // Unused: every index of the latest complete listing with no reads in the window.
    if (full_at) {
        std::vector<std::tuple<std::int64_t, std::string, std::vector<Cell>>> unused;
        for (const auto& [k, ex] : run.extras) {
            auto it = run.deltas.totals().find(k);
            const Metrics* d = it != run.deltas.totals().end() ? &it->second.delta : nullptr;
            if (d && (*d)[0] + (*d)[1] + (*d)[2] > 0) continue;
            auto e = ex;
            e.resize(9);
            auto type = std::holds_alternative<std::string>(e[4]) ? std::get<std::string>(e[4]) : "";
            auto uniq = std::holds_alternative<std::int64_t>(e[5]) && std::get<std::int64_t>(e[5]) != 0;
            auto pk = std::holds_alternative<std::int64_t>(e[6]) && std::get<std::int64_t>(e[6]) != 0;
            if (type != "NONCLUSTERED" || uniq || pk) continue;
            const std::int64_t pages = std::holds_alternative<std::int64_t>(e[8]) ? std::get<std::int64_t>(e[8]) : 0;
            unused.push_back({pages, k, row_of(k, d, false)});
        }
        // Largest first; equal sizes by index key, so that every store gives the same order.
        std::sort(unused.begin(), unused.end(), [](const auto& a, const auto& b) {
            return std::get<0>(a) != std::get<0>(b) ? std::get<0>(a) > std::get<0>(b) : std::get<1>(a) < std::get<1>(b);
        });
        int m = 0;
        for (auto& [p, key, r] : unused) {
            if (c.o.top > 0 && m++ >= c.o.top) break;
            u.add_row(std::move(r));
        }
        c.note("unused: nonclustered, non-unique indexes listed since the baseline (the latest index_usage_full listing is "
               "from " + c.zone.display(*full_at) + ") with no seeks, scans or lookups in the window, largest first");
    } else {
        u.empty_text = "(needs an index_usage_full snapshot: the daily listing of every index)";
    }
    reset_notes(c, run, "index usage");
}

}  // namespace dmvlog::query
