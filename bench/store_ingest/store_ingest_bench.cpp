// Store ingest: rows/s written by dmvlog into each store against that store's own bulk path on the same rows,
// in one run:
//   - SqliteStore::write (snapshots row, sql_text, rows, run record; one transaction per snapshot) against a
//     bare prepared-insert loop through the SQLite C library into a table of the same shape, one transaction
//     per snapshot (target: at least 0.7 of the loop's rows/s);
//   - PgStore::write (the same, rows by COPY) against `psql -c "\copy TABLE FROM FILE"` of the same rows
//     written to a COPY text file beforehand, into a database with the same schema and the day partitions made
//     ahead; the time is the one psql's \timing reports for the copy (target: at least 0.5).
// Snapshots have the shapes of real collectors (requests_5s, query_stats, wait_stats: their TableSpecs from the
// built-in declarations). Each figure is the best of R runs, each on a fresh store; baseline and store
// alternate. It starts its own PostgreSQL with tests/pg/pg-test-server unless given --conninfo. Exits non-zero
// on errors only (a missed target is reported, not failed).
//
//   store_ingest_bench [--runs R] [--scale F] [--conninfo C] [--dir DIR] [--only sqlite|pg]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <string>
#include <vector>

#include "agent/core/time_format.h"
#include "agent/store/pg_store.h"
#include "agent/store/sqlite_store.h"
#include "bench/store_ingest/pg_bare.h"
#include "bench/store_ingest/sqlite_bare.h"
#include "bench/store_ingest/workload.h"

namespace {

using namespace dmvlog;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Figure {
    std::string store, shape;
    std::int64_t rows = 0;
    int snapshots = 0;
    double baseline = 1e30, ours = 1e30;   // best seconds
};

double write_all(store::Store& st, bench::Workload& w) {
    auto t0 = Clock::now();
    for (int k = 0; k < w.shape().snapshots; ++k) {
        const auto& s = w.snapshot(k);
        if (!st.write(s, w.run_record(s))) throw std::runtime_error("snapshot reported as already written");
    }
    return seconds_since(t0);
}

std::vector<store::TableSpec> all_specs(const std::vector<bench::Workload>& ws) {
    std::vector<store::TableSpec> out;
    for (const auto& w : ws) out.push_back(w.spec());
    return out;
}

Figure bench_sqlite(bench::Workload& w, const std::vector<store::TableSpec>& specs, const std::string& dir, int runs) {
    Figure f{"sqlite", w.spec().collector, w.rows(), w.shape().snapshots};
    const std::string bare = dir + "/bare.db", ours = dir + "/store.db";
    auto fresh = [&](const std::string& path) {
        for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
        store::SqliteStore st(path);
        st.install(specs);
    };
    for (int r = 0; r < runs; ++r) {
        for (int which = 0; which < 2; ++which) {
            if ((which + r) % 2 == 0) {
                fresh(bare);
                auto t0 = Clock::now();
                const auto n = bench::sqlite_bare_insert(bare, w);
                f.baseline = std::min(f.baseline, seconds_since(t0));
                if (n != f.rows) throw std::runtime_error("sqlite baseline wrote a different number of rows");
            } else {
                fresh(ours);
                store::SqliteStore st(ours);
                st.install(specs);
                f.ours = std::min(f.ours, write_all(st, w));
            }
        }
    }
    for (const auto& p : {bare, ours})
        for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(p + suffix);
    return f;
}

Figure bench_pg(bench::Workload& w, const std::vector<store::TableSpec>& specs, const bench::PgServer& pg,
                const std::string& dir, int runs) {
    Figure f{"postgres", w.spec().collector, w.rows(), w.shape().snapshots};
    const std::string file = dir + "/" + w.spec().name + ".copy";
    if (bench::write_copy_file(file, w) != f.rows) throw std::runtime_error("copy file has a different number of rows");
    const std::string bare_db = "ingest_bare", our_db = "ingest_store";
    for (int r = 0; r < runs; ++r) {
        for (int which = 0; which < 2; ++which) {
            if ((which + r) % 2 == 0) {
                pg.recreate_database(bare_db);
                {
                    store::PgStore st(pg.conninfo(bare_db));
                    st.install(specs);
                }
                bench::create_partitions(pg, bare_db, w.spec().name, w.days());
                pg.exec("CHECKPOINT");
                f.baseline = std::min(f.baseline, bench::psql_copy(pg.conninfo(bare_db), w.spec(), file));
            } else {
                pg.recreate_database(our_db);
                store::PgStore st(pg.conninfo(our_db));
                st.install(specs);
                pg.exec("CHECKPOINT");
                f.ours = std::min(f.ours, write_all(st, w));
            }
        }
        if (r == 0) {
            // The same rows on both sides: count and an order-independent checksum of every row's text form.
            const std::string q = fmt::format("SELECT count(*) || '/' || coalesce(sum(hashtext(t::text)::numeric), 0) FROM \"{}\" t",
                                              w.spec().name);
            const auto a = pg.query_value(q, bare_db), b = pg.query_value(q, our_db);
            if (a != b)
                throw std::runtime_error(fmt::format("{}: the store's rows differ from the copied rows ({} against {})",
                                                     w.spec().name, b, a));
        }
    }
    pg.drop_database(bare_db);
    pg.drop_database(our_db);
    fs::remove(file);
    return f;
}

void print(const std::vector<Figure>& figs, const char* store_name, const char* baseline, double target) {
    std::printf("\n%s: dmvlog against %s (target: at least %.1fx)\n", store_name, baseline, target);
    std::printf("  %-12s %9s %8s  %10s %12s  %10s %12s  %6s\n", "shape", "rows", "snaps", "baseline s", "rows/s",
                "dmvlog s", "rows/s", "ratio");
    std::int64_t rows = 0;
    double b = 0, o = 0;
    for (const auto& f : figs) {
        std::printf("  %-12s %9lld %8d  %10.3f %12.0f  %10.3f %12.0f  %6.2f\n", f.shape.c_str(), static_cast<long long>(f.rows),
                    f.snapshots, f.baseline, static_cast<double>(f.rows) / f.baseline, f.ours, static_cast<double>(f.rows) / f.ours,
                    f.baseline / f.ours);
        rows += f.rows;
        b += f.baseline;
        o += f.ours;
    }
    std::printf("  %-12s %9lld %8s  %10.3f %12.0f  %10.3f %12.0f  %6.2f  %s\n", "all", static_cast<long long>(rows), "", b,
                static_cast<double>(rows) / b, o, static_cast<double>(rows) / o, b / o, b / o >= target ? "met" : "NOT MET");
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 3;
    double scale = 1.0;
    std::string conninfo, dir, only;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
        if (a == "--runs") runs = std::max(1, std::atoi(next().c_str()));
        else if (a == "--scale") scale = std::atof(next().c_str());
        else if (a == "--conninfo") conninfo = next();
        else if (a == "--dir") dir = next();
        else if (a == "--only") only = next();
        else {
            std::fprintf(stderr, "usage: store_ingest_bench [--runs R] [--scale F] [--conninfo C] [--dir DIR] [--only sqlite|pg]\n");
            return 2;
        }
    }
    const bool own_dir = dir.empty();
    if (own_dir) dir = (fs::temp_directory_path() / fmt::format("dmvlog-store-ingest-{}", getpid())).string();
    fs::create_directories(dir);
    int status = 0;
    try {
        const std::int64_t day = parse_timestamp("2026-03-02 00:00:00")->utc_ticks;
        auto snaps = [&](int n) { return std::max(1, static_cast<int>(n * scale)); };
        // Two hours of one instance at the default intervals (--scale multiplies), so that "all" weighs the shapes
        // as a day does. Rows per snapshot as steady-oltp gives them (requests_5s: the running requests;
        // query_stats: the statements executed in the last minute; wait_stats: the wait types with waits).
        std::vector<bench::Shape> shapes = {
            {"requests_5s", 10, 5 * kTicksPerSecond, snaps(1440)},
            {"query_stats", 1000, kTicksPerMinute, snaps(120)},
            {"wait_stats", 150, kTicksPerMinute, snaps(120)},
        };
        std::vector<bench::Workload> ws;
        std::uint64_t seed = 1;
        for (const auto& s : shapes) ws.emplace_back(bench::builtin_spec(s.collector), s, day, seed++);
        const auto specs = all_specs(ws);
        std::printf("store_ingest_bench: %d run(s) each, best taken; snapshot shapes:", runs);
        for (const auto& w : ws)
            std::printf(" %s (%zu columns, %d rows)", w.spec().name.c_str(), w.spec().columns.size() + 3, w.shape().rows_per_snapshot);
        std::printf("\n");
        std::fflush(stdout);
        if (only.empty() || only == "sqlite") {
            std::vector<Figure> figs;
            for (auto& w : ws) figs.push_back(bench_sqlite(w, specs, dir, runs));
            print(figs, "SQLite", "a bare prepared-insert loop (sqlite3 C API, one transaction per snapshot)", 0.7);
            std::fflush(stdout);
        }
        if (only.empty() || only == "pg") {
            auto pg = conninfo.empty() ? bench::PgServer::start(fmt::format("/tmp/dmvlog-store-ingest-pg-{}", getpid()))
                                       : bench::PgServer::existing(conninfo);
            std::printf("\nPostgreSQL: %s\n", pg.query_value("SELECT version()", "").c_str());
            std::vector<Figure> figs;
            for (auto& w : ws) figs.push_back(bench_pg(w, specs, pg, dir, runs));
            print(figs, "PostgreSQL", "psql \\copy of the same rows from a COPY text file", 0.5);
        }
        std::printf("\nbaseline: rows only; dmvlog also writes each snapshot's snapshots row, its sql_text (ON CONFLICT "
                    "DO NOTHING) and its run record, in one transaction per\nsnapshot\n");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "store_ingest_bench: %s\n", e.what());
        status = 1;
    }
    if (own_dir) fs::remove_all(dir);
    return status;
}
