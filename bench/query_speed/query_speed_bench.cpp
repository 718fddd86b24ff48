// Benchmark of `dmvlog query` on a generated store written with the real SqliteStore:
//   - top-queries over 24 h of 1-minute query_stats snapshots (1,000 rows each: 1.44 million rows) plus the
//     hourly query_stats_full listings, against a bare scan of the same rows (the same statements, every
//     column read, nothing computed);
//   - requests over 7 days of 5-second requests_5s snapshots (and 1-minute requests_1m), against a bare scan
//     of the same rows.
// Each timing is the best of R runs, alternating bare scan and question, in one process on one store.
//
//   query_speed_bench [--dir DIR] [--runs R] [--keep] [--reuse] [--qs-rows N] [--req-rows N]
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "agent/collect/declaration.h"
#include "agent/core/time_format.h"
#include "agent/query/open.h"
#include "agent/query/questions.h"
#include "agent/query/sql.h"
#include "agent/store/sqlite_store.h"

namespace {

using namespace dmvlog;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr std::int64_t kSec = kTicksPerSecond;
constexpr std::int64_t kMin = kTicksPerMinute;
constexpr std::int64_t kHour = 60 * kMin;
constexpr std::int64_t kDay = 24 * kHour;

struct Writer {
    store::SqliteStore& st;
    std::map<std::string, store::TableSpec> specs;
    std::map<std::string, std::map<std::string, std::size_t>> index;

    Row blank(const std::string& collector) { return Row(specs.at(collector).columns.size()); }
    void set(const std::string& collector, Row& r, const std::string& col, Value v) {
        r[index.at(collector).at(col)] = std::move(v);
    }
    void write(const std::string& collector, std::int64_t at, std::vector<Row> rows,
               std::vector<std::pair<std::int64_t, std::string>> texts = {}) {
        store::Snapshot s;
        s.instance = "bench1";
        s.collector = collector;
        s.table = specs.at(collector).name;
        s.collected_at = Timestamp{at, 0, false};
        s.utc_offset_minutes = 60;
        s.sqlserver_start_time = Timestamp{at - at % (30 * kDay), 0, false};
        s.rows = std::move(rows);
        s.texts = std::move(texts);
        store::RunRecord run;
        run.instance = s.instance;
        run.collector = collector;
        run.started_at = s.collected_at;
        run.status = "ok";
        run.rows = static_cast<std::int64_t>(s.rows.size());
        st.write(s, run);
    }
};

Bytes handle(std::mt19937_64& rng, std::size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    return b;
}

struct Plan {
    Bytes sql_handle, plan_handle;
    std::int64_t creation;
    int query;
    std::int64_t execs = 0, cpu = 0, dur = 0, lreads = 0, preads = 0, writes = 0, grant = 0, spills = 0, rows = 0;
};

void generate_query_stats(Writer& w, std::int64_t start, int rows_per_snapshot) {
    std::mt19937_64 rng(42);
    const int queries = 3000;
    std::vector<Bytes> query_hash(queries), plan_hash(queries);
    std::vector<std::int64_t> text_hash(queries);
    std::vector<std::string> text(queries);
    for (int q = 0; q < queries; ++q) {
        query_hash[q] = handle(rng, 8);
        plan_hash[q] = handle(rng, 8);
        text[q] = "SELECT c1, c2, c3 FROM dbo.table_" + std::to_string(q) + " WHERE id = @p1 AND status = @p2";
        text_hash[q] = store::text_hash(text[q]);
    }
    std::vector<Plan> cache;
    auto new_plan = [&](std::int64_t at) {
        Plan p;
        p.sql_handle = handle(rng, 20);
        p.plan_handle = handle(rng, 24);
        p.creation = at;
        p.query = static_cast<int>(rng() % queries);
        return p;
    };
    for (int k = 0; k < 6000; ++k) cache.push_back(new_plan(start - kHour - static_cast<std::int64_t>(rng() % kDay)));
    auto row_of = [&](const Plan& p, bool with_text) {
        Row r = w.blank("query_stats");
        auto set = [&](const char* c, Value v) { w.set("query_stats", r, c, std::move(v)); };
        set("sql_handle", p.sql_handle);
        set("plan_handle", p.plan_handle);
        set("statement_start_offset", std::int64_t{0});
        set("statement_end_offset", std::int64_t{-1});
        set("creation_time", Timestamp{p.creation, 0, false});
        set("last_execution_time", Timestamp{p.creation, 0, false});
        set("query_hash", query_hash[static_cast<std::size_t>(p.query)]);
        set("query_plan_hash", plan_hash[static_cast<std::size_t>(p.query)]);
        set("plan_generation_num", std::int64_t{1});
        set("execution_count", p.execs);
        set("total_worker_time", p.cpu);
        set("last_worker_time", p.cpu / std::max<std::int64_t>(1, p.execs));
        set("min_worker_time", std::int64_t{10});
        set("max_worker_time", p.cpu);
        set("total_elapsed_time", p.dur);
        set("total_logical_reads", p.lreads);
        set("total_physical_reads", p.preads);
        set("total_logical_writes", p.writes);
        set("total_rows", p.rows);
        set("total_grant_kb", p.grant);
        set("total_used_grant_kb", p.grant / 2);
        set("total_spills", p.spills);
        set("total_dop", p.execs);
        if (with_text) {
            set("batch_text_hash", text_hash[static_cast<std::size_t>(p.query)]);
            set("statement_text_hash", text_hash[static_cast<std::size_t>(p.query)]);
        }
        return r;
    };
    for (int minute = 0; minute < 24 * 60; ++minute) {
        const std::int64_t at = start + minute * kMin + 250 * 10'000;
        // churn: 60 entries evicted and 60 compiled per minute
        for (int k = 0; k < 60; ++k) cache[rng() % cache.size()] = new_plan(at - static_cast<std::int64_t>(rng() % kMin));
        std::vector<Row> rows;
        std::vector<std::pair<std::int64_t, std::string>> texts;
        std::vector<char> used(cache.size(), 0);
        for (int k = 0; k < rows_per_snapshot; ++k) {
            std::size_t i = static_cast<std::size_t>(rng() % cache.size());
            if (used[i]) i = (i * 7 + 1) % cache.size();
            if (used[i]) continue;
            used[i] = 1;
            Plan& p = cache[i];
            const std::int64_t n = 1 + static_cast<std::int64_t>(rng() % 20);
            p.execs += n;
            p.cpu += n * static_cast<std::int64_t>(100 + rng() % 5000);
            p.dur += n * static_cast<std::int64_t>(200 + rng() % 9000);
            p.lreads += n * static_cast<std::int64_t>(rng() % 1000);
            p.preads += n * static_cast<std::int64_t>(rng() % 10);
            p.writes += n * static_cast<std::int64_t>(rng() % 5);
            p.rows += n;
            p.grant += (rng() % 10 == 0) ? n * 1024 : 0;
            rows.push_back(row_of(p, true));
            texts.push_back({text_hash[static_cast<std::size_t>(p.query)], text[static_cast<std::size_t>(p.query)]});
        }
        w.write("query_stats", at, std::move(rows), std::move(texts));
        if (minute % 60 == 30) {
            std::vector<Row> full;
            for (const auto& p : cache) full.push_back(row_of(p, false));
            w.write("query_stats_full", at + 30 * kSec, std::move(full));
        }
        if (minute % 120 == 0) std::fprintf(stderr, "  query_stats: %d of 24 hours\n", minute / 60);
    }
}

void generate_requests(Writer& w, std::int64_t start, int rows_per_snapshot) {
    std::mt19937_64 rng(7);
    struct R {
        int session;
        std::int64_t start;
        std::int64_t cpu = 0, reads = 0;
        int blocked_by = 0;
        std::int64_t text;
    };
    std::vector<std::string> text(200);
    std::vector<std::int64_t> hash(200);
    for (int k = 0; k < 200; ++k) {
        text[static_cast<std::size_t>(k)] = "UPDATE dbo.orders_" + std::to_string(k) + " SET status = @s WHERE id = @id";
        hash[static_cast<std::size_t>(k)] = store::text_hash(text[static_cast<std::size_t>(k)]);
    }
    std::vector<R> live;
    int next_session = 51;
    auto row_of = [&](const std::string& coll, const R& r, std::int64_t at) {
        Row row = w.blank(coll);
        auto set = [&](const char* c, Value v) { w.set(coll, row, c, std::move(v)); };
        set("session_id", std::int64_t{r.session});
        set("request_id", std::int64_t{0});
        set("start_time", Timestamp{r.start, 0, false});
        set("status", std::string(r.blocked_by ? "suspended" : "running"));
        set("command", std::string("UPDATE"));
        set("database_id", std::int64_t{5});
        set("database_name", std::string("Sales"));
        set("blocking_session_id", std::int64_t{r.blocked_by});
        if (r.blocked_by) set("wait_type", std::string("LCK_M_X"));
        set("wait_time", std::int64_t{r.blocked_by ? (at - r.start) / 10'000 : 0});
        set("cpu_time", r.cpu);
        set("total_elapsed_time", (at - r.start) / 10'000);
        set("logical_reads", r.reads);
        set("reads", r.reads / 10);
        set("writes", std::int64_t{3});
        set("granted_query_memory", std::int64_t{0});
        set("login_name", std::string("app"));
        set("host_name", std::string("web" + std::to_string(r.session % 7)));
        set("program_name", std::string("shop"));
        set("batch_text_hash", r.text);
        set("statement_text_hash", r.text);
        return row;
    };
    const std::int64_t steps = 7 * 24 * 720;  // 5 s
    for (std::int64_t k = 0; k < steps; ++k) {
        const std::int64_t at = start + k * 5 * kSec + 100 * 10'000;
        // requests end after 1-10 snapshots; new ones keep the count near rows_per_snapshot
        for (std::size_t i = 0; i < live.size();) {
            if (rng() % 6 == 0) {
                live[i] = live.back();
                live.pop_back();
            } else {
                ++i;
            }
        }
        while (static_cast<int>(live.size()) < rows_per_snapshot) {
            R r;
            r.session = next_session++;
            if (next_session > 900) next_session = 51;
            r.start = at - kSec - static_cast<std::int64_t>(rng() % (4 * kSec));
            r.text = hash[rng() % 200];
            r.blocked_by = (rng() % 10 == 0 && !live.empty()) ? live[0].session : 0;
            live.push_back(r);
        }
        std::vector<Row> rows;
        std::vector<std::pair<std::int64_t, std::string>> texts;
        for (auto& r : live) {
            r.cpu += 400;
            r.reads += 1000;
            rows.push_back(row_of("requests_5s", r, at));
        }
        if (k < 200) {
            for (int t = 0; t < 200; ++t) texts.push_back({hash[static_cast<std::size_t>(t)], text[static_cast<std::size_t>(t)]});
        }
        w.write("requests_5s", at, std::move(rows), std::move(texts));
        if (k % 12 == 0) {
            std::vector<Row> m;
            for (const auto& r : live) m.push_back(row_of("requests_1m", r, at + 2 * kSec));
            w.write("requests_1m", at + 2 * kSec, std::move(m));
        }
        if (k % (720 * 24) == 0) std::fprintf(stderr, "  requests: day %lld of 7\n", static_cast<long long>(k / (720 * 24)));
    }
}

// Reads every row of the statements, every column, nothing else.
long long bare_scan(sqlite3* db, const std::vector<std::string>& sqls, const std::string& from, const std::string& to) {
    long long rows = 0;
    std::uint64_t sink = 0;
    for (const auto& sql : sqls) {
        // The SQLite C API directly: no wrapper, no virtual call.
        sqlite3_stmt* s = nullptr;
        sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
        auto bind = [&](const char* name, const std::string& v) {
            if (int k = sqlite3_bind_parameter_index(s, name); k > 0) sqlite3_bind_text(s, k, v.c_str(), -1, SQLITE_TRANSIENT);
        };
        bind(":instance", "bench1");
        bind(":from", from);
        bind(":to", to);
        const int n = sqlite3_column_count(s);
        while (sqlite3_step(s) == SQLITE_ROW) {
            ++rows;
            for (int i = 0; i < n; ++i) {
                switch (sqlite3_column_type(s, i)) {
                    case SQLITE_INTEGER: sink += static_cast<std::uint64_t>(sqlite3_column_int64(s, i)); break;
                    case SQLITE_TEXT: sink += static_cast<std::uint64_t>(sqlite3_column_bytes(s, i)); break;
                    case SQLITE_BLOB: sink += static_cast<std::uint64_t>(sqlite3_column_bytes(s, i)); break;
                    default: break;
                }
            }
        }
        sqlite3_finalize(s);
    }
    if (sink == 42) std::fprintf(stderr, " ");
    return rows;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

int main(int argc, char** argv) {
    std::string dir = (fs::temp_directory_path() / "dmvlog_query_speed").string();
    int runs = 3, qs_rows = 1000, req_rows = 10;
    bool keep = false, reuse = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
        if (a == "--dir") dir = next();
        else if (a == "--runs") runs = std::atoi(next().c_str());
        else if (a == "--keep") keep = true;
        else if (a == "--reuse") reuse = keep = true;
        else if (a == "--qs-rows") qs_rows = std::atoi(next().c_str());
        else if (a == "--req-rows") req_rows = std::atoi(next().c_str());
        else {
            std::fprintf(stderr, "usage: query_speed_bench [--dir DIR] [--runs R] [--keep] [--reuse] [--qs-rows N] [--req-rows N]\n");
            return 2;
        }
    }
    const std::string path = dir + "/store.db";
    const std::int64_t day0 = parse_timestamp("2026-03-02 00:00:00")->utc_ticks;  // requests: 7 days from here
    const std::int64_t qs0 = day0 + 6 * kDay;                                      // query stats: the last day
    try {
        if (!reuse || !fs::exists(path)) {
            fs::remove_all(dir);
            fs::create_directories(dir);
            store::SqliteStore st(path);
            Writer w{st, {}, {}};
            std::vector<store::TableSpec> specs;
            for (const auto& d : collect::load_builtin()) {
                auto t = store::table_spec(d);
                w.specs[d.name] = t;
                for (std::size_t k = 0; k < t.columns.size(); ++k) w.index[d.name][t.columns[k].name] = k;
                specs.push_back(t);
            }
            st.install(specs);
            auto t0 = Clock::now();
            generate_query_stats(w, qs0, qs_rows);
            generate_requests(w, day0, req_rows);
            std::fprintf(stderr, "generated in %.1f s\n", seconds_since(t0));
        }
        // opened as `dmvlog query` opens it (read-only, the reading settings; a long window of top-queries is
        // read in two halves on two connections); the bare scan runs on the same connection
        auto reader = query::open_reader("sqlite:" + path);
        sqlite3* db = dynamic_cast<query::SqliteDb&>(*reader).handle();
        std::printf("store: %s, %.1f MiB\n", path.c_str(), static_cast<double>(fs::file_size(path)) / 1048576.0);

        struct Case {
            const char* question;
            std::int64_t from, to;
            std::vector<std::string> sqls;
        };
        // The statements the questions read on this store (on SQLite: from the row tables, sql.h).
        query::SqliteDb statements_of(db);
        auto sql = [&](const char* file, const char* name, const char* table) {
            return query::analysis_sql(&statements_of, file, name, table);
        };
        std::vector<Case> cases = {
            {"top-queries", qs0, qs0 + kDay,
             {sql("top_queries", "rows", "query_stats"), sql("top_queries", "rows_full", "query_stats_full")}},
            {"requests", day0, day0 + 7 * kDay,
             {sql("requests", "rows_5s", "requests_5s"), sql("requests", "rows_1m", "requests_1m")}},
        };
        bool ok = true;
        for (const auto& c : cases) {
            const std::string from = query::store_text(c.from), to = query::store_text(c.to);
            double best_bare = 1e9, best_q = 1e9, best_one = 1e9;
            long long rows = 0;
            std::size_t out_rows = 0;
            bare_scan(db, c.sqls, from, to);  // warm the page cache
            for (int r = 0; r < runs; ++r) {
                auto t0 = Clock::now();
                rows = bare_scan(db, c.sqls, from, to);
                best_bare = std::min(best_bare, seconds_since(t0));
                query::Options o;
                o.window.from = c.from;
                o.window.to = c.to;
                o.instances = {"bench1"};
                auto t1 = Clock::now();
                auto rep = query::run_question(reader.get(), c.question, o);
                best_q = std::min(best_q, seconds_since(t1));
                out_rows = rep.tables.empty() ? 0 : rep.tables.front().rows.size();
                auto t2 = Clock::now();   // the same question on one connection only (one pass, one core)
                auto one = query::run_question(db, c.question, o);
                best_one = std::min(best_one, seconds_since(t2));
                if (one.tables.empty() || rep.tables.empty() || one.tables.front().rows != rep.tables.front().rows) {
                    std::fprintf(stderr, "%s: one connection and two give different answers\n", c.question);
                    ok = false;
                }
            }
            const double ratio = best_q / best_bare;
            const bool pass = ratio <= 2.0 && best_q < 2.0;
            ok = ok && pass;
            std::printf("%-12s rows scanned %9lld  bare scan %.3f s  question %.3f s  ratio %.2f  (%zu result rows)  %s"
                        "  [one connection: %.3f s, ratio %.2f]\n",
                        c.question, rows, best_bare, best_q, ratio, out_rows, pass ? "ok" : "OVER TARGET", best_one,
                        best_one / best_bare);
        }
        std::printf("target: question <= 2x bare scan and < 2 s; best of %d runs each\n", runs);
        if (!keep) fs::remove_all(dir);
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "query_speed_bench: %s\n", e.what());
        return 1;
    }
}
