// Blocking and deadlocks written straight to PostgreSQL: two agents read the simulator's incident from the
// same event session at once, one into SQLite and one into PostgreSQL, and the two stores must hold the same
// events, reports, deadlocks, episodes and bookmarks; XE retention on PostgreSQL purges events with their
// parsed rows. The server is started by tests/pg/pg-test-server (DMVLOG_TEST_PG); without it: SKIPPED.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <iterator>
#include <set>
#include <sstream>
#include <thread>

#include "agent/collect/declaration.h"
#include "agent/core/time_format.h"
#include "agent/query/pg_db.h"
#include "agent/store/pg_store.h"
#include "pg_conninfo.h"
#include "support/agent_process.h"
#include "support/sim_clock.h"
#include "support/sim_process.h"
#include "support/store_compare.h"

namespace dmvlog::test {
namespace {

using namespace std::chrono_literals;

std::string only_blocking() {
    std::string out;
    for (const auto& d : collect::load_builtin())
        if (d.name != "blocking_events" && d.name != "requests_5s")
            out += "[collectors." + d.name + "]\nenabled = false\n\n";
    return out;
}

// Rows of a query as lines, sorted, from either store.
std::multiset<std::string> sqlite_lines(const StoreReader& s, const std::string& sql) {
    std::multiset<std::string> out;
    for (const auto& row : s.rows(sql)) {
        std::string line;
        for (const auto& v : row) line += v + "|";
        out.insert(line);
    }
    return out;
}

std::multiset<std::string> pg_lines(query::PgDb& pg, const std::string& sql) {
    std::multiset<std::string> out;
    query::Stmt st(&pg, sql);
    while (st.step()) {
        std::string line;
        for (int i = 0; i < st.columns(); ++i) line += (st.null(i) ? std::string("<NULL>") : st.text(i)) + "|";
        out.insert(line);
    }
    return out;
}

TEST(PgXe, TheSameBlockingAndDeadlocksAsSqlite) {
    const std::string base = pg_conninfo();
    if (base.empty()) {
        std::printf("[ SKIPPED  ] no PostgreSQL server: DMVLOG_TEST_PG names no conninfo file\n");
        GTEST_SKIP();
    }
    const std::string schema = "xe_" + std::to_string(::getpid());
    {
        PGconn* c = PQconnectdb(base.c_str());
        ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
        PQclear(PQexec(c, ("SET client_min_messages = warning; DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema).c_str()));
        PQfinish(c);
    }
    const std::string conninfo = base + " options=-csearch_path=" + schema;

    SimOptions o;
    o.args = {"--scenario", scenarios_dir() + "/incident.toml", "--seed", "11", "--speed", "10"};
    o.control = true;
    SimProcess sim(o);
    TempDir dir;
    const auto db = dir.file("dmvlog.db");
    const auto sqlite_cfg = agent_config(dir, sim.port(), db, only_blocking());
    std::string text;
    {
        std::ifstream in(sqlite_cfg);
        std::stringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    }
    const std::string sqlite_store = "[store]\nkind = \"sqlite\"\npath = \"" + db + "\"\n";
    ASSERT_NE(text.find(sqlite_store), std::string::npos) << text;
    text.replace(text.find(sqlite_store), sqlite_store.size(),
                 "[store]\nkind = \"postgres\"\nconninfo = \"" + conninfo + "\"\n\n[agent]\nstate_dir = \"" + dir.file("pg-state") + "\"\n");
    const auto pg_cfg = dir.write("pg.toml", text);

    auto setup = run_dmvlog({"xe", "setup", "--apply", "--set-threshold", "5", "--config", sqlite_cfg});
    ASSERT_EQ(setup.exit_code, 0) << setup.output;
    {
        AgentProcess to_sqlite({"run", "--config", sqlite_cfg, "--time-scale", "10"});
        AgentProcess to_pg({"run", "--config", pg_cfg, "--time-scale", "10"});
        wait_for_offset(sim, 270, 90s);
        sim.control(R"({"cmd":"pause"})");
        std::this_thread::sleep_for(4s);   // a few more runs read whatever is left
        ASSERT_EQ(to_pg.stop(), 0) << to_pg.output();
        ASSERT_EQ(to_sqlite.stop(), 0) << to_sqlite.output();
        EXPECT_EQ(to_pg.output().find("cannot keep extended events"), std::string::npos) << to_pg.output();
    }

    StoreReader s(db);
    query::PgDb pg(conninfo);
    ASSERT_GT(s.scalar("SELECT count(*) FROM xe_events"), 100);
    for (const auto& sql : xe_comparison_queries()) {
        const auto a = sqlite_lines(s, sql), b = pg_lines(pg, sql);
        EXPECT_FALSE(a.empty()) << sql;
        EXPECT_EQ(difference(a, b, "SQLite", "PostgreSQL"), "") << sql;
    }
    auto pg_count = [&](const std::string& sql) {
        query::Stmt st(&pg, sql);
        return st.step() ? st.i64(0) : -1;
    };
    EXPECT_EQ(pg_count("SELECT count(*) FROM collector_runs WHERE collector = 'blocking_events' AND status <> 'ok'"), 0);
    EXPECT_GT(pg_count("SELECT count(*) FROM collector_runs WHERE collector = 'blocking_events' AND status = 'ok'"), 5);
    // The blocking question reads both (the simulated clock runs ahead of the wall clock: an explicit window).
    const auto start = parse_timestamp(nlohmann::json::parse(sim.control(R"({"cmd":"scenario"})")).at("start").get<std::string>());
    ASSERT_TRUE(start);
    auto iso = [](std::int64_t ticks) {
        auto t = format_timestamp(Timestamp{ticks, 0, false});
        t[10] = 'T';
        return t.substr(0, 19) + "Z";
    };
    const std::vector<std::string> window = {"--from", iso(start->utc_ticks), "--to", iso(start->utc_ticks + 3600 * kTicksPerSecond)};
    std::vector<std::string> q1 = {"query", "blocking", "--store", "sqlite:" + db, "--format", "csv"};
    std::vector<std::string> q2 = {"query", "blocking", "--store", "postgres:" + conninfo, "--format", "csv"};
    q1.insert(q1.end(), window.begin(), window.end());
    q2.insert(q2.end(), window.begin(), window.end());
    auto d1 = run_dmvlog(q1);
    auto d2 = run_dmvlog(q2);
    EXPECT_EQ(d1.exit_code, 0) << d1.output;
    EXPECT_EQ(d2.exit_code, 0) << d2.output;
    EXPECT_EQ(d1.output.find("note: 0 episodes"), std::string::npos) << d1.output;
    EXPECT_EQ(d2.output.find("note: 0 episodes"), std::string::npos) << d2.output;

    // Retention: everything is older than a cutoff a year ahead; purged in steps with the parsed rows.
    store::PgStore st(conninfo);
    const auto future = Timestamp{parse_timestamp("2030-01-01 00:00:00")->utc_ticks, 0, false};
    const auto events = pg_count("SELECT count(*) FROM xe_events");
    std::int64_t purged_events = 0;
    for (int i = 0; i < 1000; ++i) {
        auto r = st.purge_xe("blocking_events", future, 50);
        purged_events += r.snapshots;
        if (!r.more) break;
    }
    EXPECT_EQ(purged_events, events);
    for (const char* t : {"xe_events", "blocked_process_reports", "deadlocks", "deadlock_processes", "deadlock_resources",
                          "blocking_episodes"})
        EXPECT_EQ(pg_count(std::string("SELECT count(*) FROM ") + t), 0) << t;
    EXPECT_EQ(pg_count("SELECT count(*) FROM xe_bookmarks"), 1) << "bookmarks are kept";
}

}  // namespace
}  // namespace dmvlog::test
