// The PostgreSQL store against the SQLite store on the same collected data: the simulator's incident is
// collected into SQLite by `dmvlog run` (every collector), copied into a PostgreSQL server on loopback through
// PgStore's own write path (COPY, day partitions, idempotent snapshots), and then every `dmvlog query`
// question and the digest must give the same answer from both, byte for byte, and every view
// (schema/*/002_views.sql) the same rows. Also: a second copy writes nothing, retention drops whole day
// partitions, and the CLI reads postgres: URIs.
//
// The server is started by tests/pg/pg-test-server (a ctest fixture); its conninfo is in the file named by
// DMVLOG_TEST_PG. Without it the test says SKIPPED.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "agent/collect/declaration.h"
#include "agent/core/time_format.h"
#include "agent/digest/digest.h"
#include "agent/query/pg_db.h"
#include "agent/query/questions.h"
#include "agent/store/copy.h"
#include "agent/store/pg_store.h"
#include "agent/store/sqlite_store.h"
#include "support/agent_process.h"
#include "pg_conninfo.h"
#include "support/sim_clock.h"
#include "support/sim_process.h"
#include "support/store_compare.h"

namespace dmvlog::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string iso(std::int64_t ticks) {
    auto s = format_timestamp(Timestamp{ticks, 0, false});
    s[10] = 'T';
    return s.substr(0, 19) + "Z";
}

void exec(PGconn* c, const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    auto st = PQresultStatus(r);
    std::string msg = PQresultErrorMessage(r);
    PQclear(r);
    ASSERT_TRUE(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) << sql << ": " << msg;
}

long long pg_scalar(PGconn* c, const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    long long v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) ? std::atoll(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return v;
}

// The views of a store's schema, by name: SQLite's from sqlite_master, PostgreSQL's from the current schema.
// The friendly views (schema/sqlite/002_views.sql), not the views of the collector tables' declared shape.
std::vector<std::string> sqlite_views(sqlite3* db) {
    std::vector<std::string> out;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'view' AND name NOT IN "
                           "(SELECT table_name FROM collector_tables) ORDER BY name", -1, &s, nullptr) != SQLITE_OK)
        return out;
    while (sqlite3_step(s) == SQLITE_ROW) out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    sqlite3_finalize(s);
    return out;
}

std::vector<std::string> pg_views(PGconn* c) {
    std::vector<std::string> out;
    PGresult* r = PQexec(c, "SELECT viewname FROM pg_views WHERE schemaname = current_schema() ORDER BY viewname COLLATE \"C\"");
    for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r); ++i) out.emplace_back(PQgetvalue(r, i, 0));
    PQclear(r);
    return out;
}

// Every row of a view as text, one line per row, its columns' names first; ordered by all columns. Values in
// PostgreSQL's text form: integers in decimal, bytea as \x and lowercase hex, NULL as \N. The views hold no
// floating-point columns (counters, times as text, hashes); a real would be written shortest round-trip, the
// form PostgreSQL's float8 output takes, so that no rounding is needed.
std::string sqlite_view_rows(sqlite3* db, const std::string& view, int columns) {
    std::string order;
    for (int i = 1; i <= columns; ++i) order += (i > 1 ? ", " : "") + std::to_string(i);
    std::string out;
    sqlite3_stmt* s = nullptr;
    const std::string sql = "SELECT * FROM \"" + view + "\" ORDER BY " + order;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) return std::string("error: ") + sqlite3_errmsg(db);
    for (int i = 0; i < sqlite3_column_count(s); ++i) out += (i ? "|" : "") + std::string(sqlite3_column_name(s, i));
    out += '\n';
    while (sqlite3_step(s) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(s); ++i) {
            if (i) out += '|';
            switch (sqlite3_column_type(s, i)) {
                case SQLITE_NULL: out += "\\N"; break;
                case SQLITE_INTEGER: out += std::to_string(sqlite3_column_int64(s, i)); break;
                case SQLITE_FLOAT: out += fmt::format("{}", sqlite3_column_double(s, i)); break;
                case SQLITE_BLOB: {
                    const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(s, i));
                    out += "\\x";
                    for (int k = 0; k < sqlite3_column_bytes(s, i); ++k) out += fmt::format("{:02x}", p[k]);
                    break;
                }
                default: out += reinterpret_cast<const char*>(sqlite3_column_text(s, i));
            }
        }
        out += '\n';
    }
    sqlite3_finalize(s);
    return out;
}

// The same from PostgreSQL. NULLS FIRST as SQLite orders them; the text columns are COLLATE "C", so text
// orders as in SQLite (bytewise).
std::string pg_view_rows(PGconn* c, const std::string& view, int* columns) {
    PGresult* probe = PQexec(c, ("SELECT * FROM \"" + view + "\" LIMIT 0").c_str());
    *columns = PQresultStatus(probe) == PGRES_TUPLES_OK ? PQnfields(probe) : 0;
    PQclear(probe);
    std::string order;
    for (int i = 1; i <= *columns; ++i) order += (i > 1 ? ", " : "") + std::to_string(i) + " NULLS FIRST";
    PGresult* r = PQexec(c, ("SELECT * FROM \"" + view + "\" ORDER BY " + order).c_str());
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        std::string e = std::string("error: ") + PQresultErrorMessage(r);
        PQclear(r);
        return e;
    }
    std::string out;
    for (int i = 0; i < PQnfields(r); ++i) out += (i ? "|" : "") + std::string(PQfname(r, i));
    out += '\n';
    for (int row = 0; row < PQntuples(r); ++row) {
        for (int i = 0; i < PQnfields(r); ++i) {
            if (i) out += '|';
            out += PQgetisnull(r, row, i) ? "\\N" : PQgetvalue(r, row, i);
        }
        out += '\n';
    }
    PQclear(r);
    return out;
}

TEST(PgStore, SameAnswersAsSqliteOnTheIncident) {
    const std::string base = pg_conninfo();
    if (base.empty()) {
        std::printf("[ SKIPPED  ] no PostgreSQL server: DMVLOG_TEST_PG names no conninfo file (ctest starts one with "
                    "tests/pg/pg-test-server)\n");
        GTEST_SKIP();
    }
    // A schema of its own, so that reruns and other tests do not meet.
    const std::string schema = "parity_" + std::to_string(::getpid());
    {
        PGconn* c = PQconnectdb(base.c_str());
        ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
        exec(c, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema);
        PQfinish(c);
    }
    const std::string conninfo = base + " options=-csearch_path=" + schema;

    // 1. The incident collected into SQLite, every collector on.
    SimOptions so;
    so.args = {"--scenario", scenarios_dir() + "/incident.toml", "--seed", "5", "--speed", "10"};
    so.control = true;
    SimProcess sim(so);
    const auto scenario = json::parse(sim.control(R"({"cmd":"scenario"})"));
    const auto start = parse_timestamp(scenario.at("start").get<std::string>())->utc_ticks;
    TempDir dir;
    const auto db = dir.file("dmvlog.db");
    const auto cfg = agent_config(dir, sim.port(), db);
    ASSERT_EQ(run_dmvlog({"xe", "setup", "--apply", "--set-threshold", "5", "--config", cfg}).exit_code, 0);
    {
        AgentProcess agent({"run", "--config", cfg, "--time-scale", "10"});
        wait_for_offset(sim, 300, 90s);
        if (::testing::Test::HasFatalFailure()) return;
        sim.control(R"({"cmd":"pause"})");
        std::this_thread::sleep_for(3s);
        ASSERT_EQ(agent.stop(), 0) << agent.output();
    }

    // 2. Copied into PostgreSQL through PgStore::write, twice: the second copy writes nothing.
    std::vector<store::TableSpec> specs;
    for (const auto& d : collect::load_builtin())
        if (!d.is_xe()) specs.push_back(store::table_spec(d));
    store::SqliteStore from(db);
    store::PgStore to(conninfo);
    to.install(specs);
    EXPECT_EQ(to.schema_version(), from.schema_version());
    auto first = store::copy_store(from, to, specs);
    EXPECT_GT(first.snapshots, 100);
    EXPECT_GT(first.rows, 1000);
    EXPECT_EQ(first.skipped, 0);
    EXPECT_GT(store::copy_xe_tables(from, to), 100);
    auto again = store::copy_store(from, to, std::vector<store::TableSpec>(specs));
    EXPECT_EQ(again.snapshots, 0);
    EXPECT_EQ(again.skipped, first.snapshots) << "a snapshot written twice lands once";
    std::printf("[ pg ] %lld snapshots, %lld rows copied\n", static_cast<long long>(first.snapshots),
                static_cast<long long>(first.rows));
    // Row counts agree table by table (the second copy's run records aside).
    {
        store::SqliteStore ro(db, std::chrono::milliseconds(5000), true);
        query::SqliteDb sdb(ro.handle());
        for (const auto& t : specs) {
            if (!sdb.has_table(t.name)) continue;
            query::Stmt s(&sdb, "SELECT count(*) FROM \"" + t.name + "\"");
            ASSERT_TRUE(s.step());
            EXPECT_EQ(pg_scalar(to.handle(), "SELECT count(*) FROM \"" + t.name + "\""), s.i64(0)) << t.name;
        }
    }

    // 3. Every question and the digest: the same JSON from both stores.
    store::SqliteStore ro(db, std::chrono::milliseconds(5000), true);
    query::SqliteDb sqlite_db(ro.handle());
    query::PgDb pg_db(conninfo);
    query::Zone zone("Europe/Berlin");
    int compared = 0;
    for (const auto& q : query::questions()) {
        query::Options o;
        o.zone = &zone;
        if (q.point) {
            o.window.from = o.window.to = start + 150 * kTicksPerSecond;
            o.window.is_point = true;
        } else {
            o.window.from = start;
            o.window.to = start + 600 * kTicksPerSecond;
        }
        auto a = query::render(query::run_question(&sqlite_db, q.name, o), query::Format::json, zone, 0);
        auto b = query::render(query::run_question(&pg_db, q.name, o), query::Format::json, zone, 0);
        EXPECT_TRUE(a == b) << q.name << ": " << first_difference(a, b, "postgres");
        EXPECT_GT(a.size(), 100u) << q.name;
        ++compared;
    }
    EXPECT_EQ(compared, static_cast<int>(query::questions().size()));
    digest::Options dopt;
    dopt.zone = &zone;
    dopt.window.from = start;
    dopt.window.to = start + 600 * kTicksPerSecond;
    dopt.now = start;
    auto da = digest::render_json(digest::build(&sqlite_db, dopt), zone);
    auto dbj = digest::render_json(digest::build(&pg_db, dopt), zone);
    EXPECT_TRUE(da == dbj) << "digest: " << first_difference(da, dbj, "postgres");
    EXPECT_EQ(json::parse(da)["instances"][0]["headline"]["episodes"], 1) << da.substr(0, 2000);

    // 3b. The views: the same ones on both stores, with the same columns and rows.
    const auto views = sqlite_views(ro.handle());
    EXPECT_EQ(views, (std::vector<std::string>{"blocked_requests", "file_io_delta", "query_stats_delta", "requests_log",
                                               "waits_delta"}));
    EXPECT_EQ(pg_views(to.handle()), views);
    for (const auto& v : views) {
        int columns = 0;
        const auto b = pg_view_rows(to.handle(), v, &columns);
        const auto a = sqlite_view_rows(ro.handle(), v, columns);
        EXPECT_TRUE(a == b) << v << ": " << first_difference(a, b, "postgres");
        const auto rows = std::count(a.begin(), a.end(), '\n') - 1;
        EXPECT_GT(rows, 10) << v << " has rows on the incident";
        std::printf("[ pg ] view %s: %ld rows compared\n", v.c_str(), static_cast<long>(rows));
    }

    // 4. The CLI reads postgres: URIs.
    auto r = run_dmvlog({"query", "top-queries", "--store", "postgres:" + conninfo, "--from", iso(start), "--to",
                         iso(start + 600 * kTicksPerSecond), "--format", "csv", "--top", "3"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("query_hash"), std::string::npos) << r.output;

    // 5. Retention drops whole days: a cutoff a day after the data removes every partition of requests_5s.
    const auto parts_before = pg_scalar(to.handle(), "SELECT count(*) FROM pg_inherits WHERE inhparent = to_regclass('requests_5s')");
    EXPECT_GE(parts_before, 1);
    auto purged = to.purge("requests_5s", "requests_5s", Timestamp{start + 2 * kTicksPerDay, 0, false}, 1000);
    EXPECT_GT(purged.rows, 0);
    EXPECT_EQ(pg_scalar(to.handle(), "SELECT count(*) FROM pg_inherits WHERE inhparent = to_regclass('requests_5s')"), 0);
    EXPECT_EQ(pg_scalar(to.handle(), "SELECT count(*) FROM requests_5s"), 0);
    EXPECT_EQ(pg_scalar(to.handle(), "SELECT count(*) FROM snapshots WHERE collector = 'requests_5s'"), 0);
}

// The agent itself on a PostgreSQL store: `collect --once` writes there, `collectors` and `check` read it,
// `query` answers from it; and `store copy` moves a SQLite store's history in, once.
TEST(PgStore, TheAgentWritesThereAndStoreCopyMovesHistoryIn) {
    const std::string base = pg_conninfo();
    if (base.empty()) {
        std::printf("[ SKIPPED  ] no PostgreSQL server: DMVLOG_TEST_PG names no conninfo file\n");
        GTEST_SKIP();
    }
    const std::string schema = "agent_" + std::to_string(::getpid()), copy_schema = "copy_" + std::to_string(::getpid());
    {
        PGconn* c = PQconnectdb(base.c_str());
        ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
        exec(c, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema);
        exec(c, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS " + copy_schema + " CASCADE; CREATE SCHEMA " + copy_schema);
        PQfinish(c);
    }
    const std::string conninfo = base + " options=-csearch_path=" + schema;
    SimOptions so;
    so.args = {"--scenario", scenarios_dir() + "/steady-oltp.toml", "--seed", "3"};
    SimProcess sim(so);
    TempDir dir;
    const auto db = dir.file("local.db");
    const auto sqlite_cfg = agent_config(dir, sim.port(), db);
    std::string text;
    {
        std::ifstream in(sqlite_cfg);
        std::stringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    }
    const std::string sqlite_store = "[store]\nkind = \"sqlite\"\npath = \"" + db + "\"\n";
    ASSERT_NE(text.find(sqlite_store), std::string::npos) << text;
    std::string pg_text = text;
    pg_text.replace(pg_text.find(sqlite_store), sqlite_store.size(), "[store]\nkind = \"postgres\"\nconninfo = \"" + conninfo + "\"\n");
    const auto pg_cfg = dir.write("pg.toml", pg_text);

    auto r = run_dmvlog({"collect", "--once", "--config", pg_cfg});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    query::PgDb pg(conninfo);
    auto count = [&](const std::string& sql) {
        query::Stmt s(&pg, sql);
        return s.step() ? s.i64(0) : -1;
    };
    EXPECT_GT(count("SELECT count(*) FROM snapshots"), 10);
    EXPECT_GT(count("SELECT count(*) FROM collector_runs WHERE status = 'ok'"), 10);
    EXPECT_GT(count("SELECT count(*) FROM requests_5s"), 0);
    EXPECT_GE(count("SELECT count(*) FROM pg_inherits WHERE inhparent = to_regclass('requests_5s')"), 1);
    EXPECT_GT(count("SELECT count(*) FROM sql_text"), 0);

    auto check = run_dmvlog({"check", "--config", pg_cfg});
    EXPECT_NE(check.output.find("reachable, schema version 4"), std::string::npos) << check.output;
    auto colls = run_dmvlog({"collectors", "--config", pg_cfg, "--format", "json"});
    EXPECT_EQ(colls.exit_code, 0) << colls.output;
    EXPECT_NE(colls.output.find(R"("last_status": "ok")"), std::string::npos) << colls.output;
    auto q = run_dmvlog({"query", "requests", "--config", pg_cfg, "--last", "2h", "--format", "csv"});
    EXPECT_EQ(q.exit_code, 0) << q.output;
    auto print = run_dmvlog({"schema", "print", "--store", "postgres:" + conninfo});
    EXPECT_NE(print.output.find("PARTITION BY RANGE (collected_at)"), std::string::npos) << print.output.substr(0, 500);
    EXPECT_EQ(print.output.find(schema), std::string::npos) << "print does not echo the conninfo";
    // The views' DDL, after the collector tables, as for SQLite.
    auto sqlite_print = run_dmvlog({"schema", "print", "--store", "sqlite:" + db});
    for (const std::string v : {"requests_log", "blocked_requests", "query_stats_delta", "waits_delta", "file_io_delta"}) {
        EXPECT_NE(sqlite_print.output.find("CREATE VIEW " + v + " AS"), std::string::npos) << v;
        const auto at = print.output.find("CREATE OR REPLACE VIEW " + v + " AS");
        EXPECT_NE(at, std::string::npos) << v << ": " << print.output.substr(0, 500);
        EXPECT_GT(at, print.output.find("PARTITION BY RANGE (collected_at)")) << v;
    }

    // store copy: a SQLite history into another schema, twice.
    ASSERT_EQ(run_dmvlog({"collect", "--once", "--config", sqlite_cfg}).exit_code, 0);
    const std::string to = "postgres:" + base + " options=-csearch_path=" + copy_schema;
    auto c1 = run_dmvlog({"store", "copy", "--from", "sqlite:" + db, "--to", to});
    ASSERT_EQ(c1.exit_code, 0) << c1.output;
    EXPECT_NE(c1.output.find("snapshot(s) were already there"), std::string::npos) << c1.output;
    EXPECT_NE(c1.output.find(" 0 snapshot(s) were already there"), std::string::npos) << c1.output;
    auto c2 = run_dmvlog({"store", "copy", "--from", "sqlite:" + db, "--to", to});
    ASSERT_EQ(c2.exit_code, 0) << c2.output;
    EXPECT_NE(c2.output.find("copied 0 snapshot(s)"), std::string::npos) << c2.output;
}

}  // namespace
}  // namespace dmvlog::test
