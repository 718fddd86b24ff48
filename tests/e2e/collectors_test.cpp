// Every collector against the simulator through unixODBC and FreeTDS: its declared columns arrive and land
// in the store with their types; per-database iteration; a permission error disables exactly one
// collector; counters reset by a restart are stored with the new sqlserver_start_time.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "agent/collect/declaration.h"
#include "agent/collect/job.h"
#include "agent/odbc/connection.h"
#include "agent/store/store.h"
#include "support/agent_process.h"
#include "support/sim_process.h"

namespace dmvlog::test {
namespace {

SimOptions incident() {
    SimOptions o;
    o.args = {"--scenario", scenarios_dir() + "/incident.toml", "--seed", "11"};
    o.control = true;
    return o;
}

// Holds the simulated clock `seconds` after the scenario start.
void hold_at(SimProcess& sim, int seconds) {
    sim.control(R"({"cmd":"pause"})");
    sim.control(R"({"cmd":"advance","seconds":)" + std::to_string(seconds) + "}");
}

std::set<std::string> allowed_types(collect::StorageClass s) {
    switch (s) {
        case collect::StorageClass::integer: return {"integer"};
        case collect::StorageClass::real: return {"real", "integer"};
        case collect::StorageClass::decimal: return {"integer", "real"};
        case collect::StorageClass::text: return {"text"};
        case collect::StorageClass::timestamp: return {"text"};
        case collect::StorageClass::blob: return {"blob"};
    }
    return {};
}

TEST(Collectors, EveryCollectorLandsItsDeclaredColumnsWithTheirTypes) {
    SimProcess sim(incident());
    hold_at(sim, 150);
    TempDir dir;
    auto db = dir.file("dmvlog.db");
    auto cfg = agent_config(dir, sim.port(), db);
    auto r = run_dmvlog({"collect", "--once", "--config", cfg}, std::chrono::seconds(120));
    ASSERT_EQ(r.exit_code, 0) << r.output << "\n" << sim.log_text().substr(0, 4000);
    StoreReader s(db);
    const auto decls = collect::load_builtin();
    ASSERT_GE(decls.size(), 20u);
    // Collectors that must have rows at this moment of the incident (others may legitimately be empty,
    // e.g. statistics updated in the last two minutes).
    const std::set<std::string> must_have_rows = {
        "requests_5s", "requests_1m", "memory_grants", "resource_semaphores", "query_stats", "query_stats_full",
        "procedure_stats", "index_usage_full", "index_operational", "file_io", "wait_stats", "latch_stats",
        "spinlock_stats", "waiting_tasks", "schedulers", "tasks", "memory_clerks", "tempdb_space", "perf_counters",
        "stats_full", "database_size", "server_info"};
    for (const auto& d : decls) {
        SCOPED_TRACE(d.name);
        if (d.is_xe()) {
            // no snapshot and no generic table: its run is recorded with the events (tests/e2e/blocking_test.cpp)
            EXPECT_EQ(s.scalar("SELECT count(*) FROM collector_runs WHERE collector = '" + d.name + "'"), 1);
            continue;
        }
        EXPECT_EQ(s.scalar("SELECT count(*) FROM snapshots WHERE collector = '" + d.name + "'"), 1);
        EXPECT_EQ(s.scalar("SELECT count(*) FROM collector_runs WHERE collector = '" + d.name + "' AND status = 'ok'"), 1);
        auto spec = store::table_spec(d);
        auto info = s.rows("PRAGMA table_info(\"" + spec.name + "\")");
        std::set<std::string> stored;
        for (const auto& col : info) stored.insert(col[1]);
        long long rows = s.scalar("SELECT count(*) FROM \"" + spec.name + "\"");
        if (must_have_rows.count(d.name)) {
            EXPECT_GT(rows, 0);
        }
        for (const auto& c : spec.columns) {
            SCOPED_TRACE(c.name);
            EXPECT_TRUE(stored.count(c.name)) << "column missing from the table";
            auto types = s.rows("SELECT DISTINCT typeof(\"" + c.name + "\") FROM \"" + spec.name + "\" WHERE \"" + c.name +
                                "\" IS NOT NULL");
            for (const auto& t : types) EXPECT_TRUE(allowed_types(c.storage).count(t[0])) << "stored as " << t[0];
        }
        for (const auto& c : d.columns) {
            if (!c.key || rows == 0) continue;
            EXPECT_EQ(s.scalar("SELECT count(*) FROM \"" + spec.name + "\" WHERE \"" + c.name + "\" IS NULL"), 0)
                << "key column " << c.name << " has NULLs";
        }
    }
    // Text is stored once for every collector that carries it.
    EXPECT_EQ(s.scalar("SELECT count(*) FROM sql_text"), s.scalar("SELECT count(DISTINCT text) FROM sql_text"));
    EXPECT_GT(s.scalar("SELECT count(*) FROM query_stats q JOIN sql_text t ON t.hash = q.statement_text_hash"), 0);
    // Every time in the store is UTC text with 100 ns digits.
    EXPECT_EQ(s.scalar("SELECT count(*) FROM query_stats WHERE creation_time NOT GLOB "
                       "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9][0-9]'"),
              0);
}

TEST(Collectors, PerDatabaseCollectorsVisitOnlineDatabasesAndHonourExcludes) {
    SimProcess sim(incident());
    hold_at(sim, 150);
    TempDir dir;
    auto db = dir.file("dmvlog.db");
    // What the server says about its databases, through the agent's own query.
    odbc::Environment env;
    odbc::Connection conn(env, "test");
    conn.connect(sim.connection_string(), SimProcess::kUser, SimProcess::kPassword, std::chrono::seconds(5));
    auto all = collect::list_databases(conn);
    std::string offline;
    for (const auto& d : all)
        if (d.database_id > 4 && d.state_desc == "OFFLINE") offline = d.name;
    ASSERT_FALSE(offline.empty()) << "the incident scenario should have an offline user database";
    auto cfg = agent_config(dir, sim.port(), db, "");
    ASSERT_EQ(run_dmvlog({"collect", "--once", "--only", "index_usage_full,database_size", "--config", cfg}).exit_code, 0);
    StoreReader s(db);
    auto names = s.rows("SELECT DISTINCT database_name FROM database_size ORDER BY 1");
    ASSERT_GE(names.size(), 2u);
    std::set<std::string> seen;
    for (const auto& n : names) seen.insert(n[0]);
    EXPECT_FALSE(seen.count("master")) << "system databases are not visited";
    EXPECT_FALSE(seen.count("tempdb"));
    EXPECT_EQ(s.scalar("SELECT count(*) FROM database_size WHERE database_id IS NULL OR database_id <= 4"), 0);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM index_usage_full WHERE database_name IS NULL"), 0);
    EXPECT_EQ(seen.count(offline), 0u) << "the offline database " << offline << " must be skipped";
    EXPECT_EQ(s.scalar("SELECT count(DISTINCT database_name) FROM database_size"),
              static_cast<long long>(collect::databases_to_visit(all, config::Instance{}).size()));

    // Excluding a database by name.
    TempDir dir2;
    auto db2 = dir2.file("dmvlog.db");
    const std::string excluded = *seen.begin();
    auto cfg2 = agent_config(dir2, sim.port(), db2, "");
    // exclude_databases belongs to the instance table, which agent_config writes first.
    std::string text;
    {
        std::ifstream in(cfg2);
        std::stringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    }
    auto pos = text.find("login_timeout");
    text.insert(pos, "exclude_databases = [\"" + excluded + "\"]\n");
    dir2.write("dmvlog.toml", text);
    ASSERT_EQ(run_dmvlog({"collect", "--once", "--only", "database_size", "--config", cfg2}).exit_code, 0);
    StoreReader s2(db2);
    EXPECT_EQ(s2.scalar("SELECT count(*) FROM database_size WHERE database_name = '" + excluded + "'"), 0);
    EXPECT_GT(s2.scalar("SELECT count(*) FROM database_size"), 0);
}

TEST(Collectors, APermissionErrorDisablesExactlyOneCollector) {
    SimProcess sim(incident());
    hold_at(sim, 150);
    auto answer = sim.control(R"({"cmd":"fault","kind":"deny","tag":"wait_stats"})");
    ASSERT_NE(answer.find("true"), std::string::npos) << answer;
    TempDir dir;
    auto db = dir.file("dmvlog.db");
    auto cfg = agent_config(dir, sim.port(), db);
    auto r = run_dmvlog({"collect", "--once", "--config", cfg}, std::chrono::seconds(120));
    EXPECT_EQ(r.exit_code, 1) << r.output;
    StoreReader s(db);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM collector_runs WHERE status <> 'ok'"), 1) << r.output;
    EXPECT_EQ(s.text("SELECT collector || ' ' || status || ' ' || error_class FROM collector_runs WHERE status <> 'ok'"),
              "wait_stats disabled permission");
    EXPECT_EQ(s.scalar("SELECT count(*) FROM snapshots WHERE collector = 'wait_stats'"), 0);
    EXPECT_GE(s.scalar("SELECT count(*) FROM snapshots"), 20);
    auto list = run_dmvlog({"collectors", "--config", cfg});
    EXPECT_NE(list.output.find("disabled at run time"), std::string::npos) << list.output;
}

TEST(Collectors, CountersResetByARestartAreStoredWithTheNewStartTime) {
    SimProcess sim(incident());
    hold_at(sim, 300);
    TempDir dir;
    auto db = dir.file("dmvlog.db");
    auto cfg = agent_config(dir, sim.port(), db);
    ASSERT_EQ(run_dmvlog({"collect", "--once", "--only", "wait_stats,file_io", "--config", cfg}).exit_code, 0);
    auto restarted = sim.control(R"({"cmd":"restart","outage_seconds":0})");
    ASSERT_NE(restarted.find("true"), std::string::npos) << restarted;
    sim.control(R"({"cmd":"advance","seconds":60})");
    auto r = run_dmvlog({"collect", "--once", "--only", "wait_stats,file_io", "--config", cfg});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    StoreReader s(db);
    EXPECT_EQ(s.scalar("SELECT count(DISTINCT sqlserver_start_time) FROM snapshots WHERE collector = 'wait_stats'"), 2);
    auto starts = s.rows("SELECT sqlserver_start_time, collected_at FROM snapshots WHERE collector = 'wait_stats' ORDER BY collected_at");
    ASSERT_EQ(starts.size(), 2u);
    EXPECT_LT(starts[0][0], starts[1][0]);
    EXPECT_LE(starts[1][0], starts[1][1]) << "the new epoch starts before the second snapshot";
    // The cumulative total went down: the counters restarted from zero.
    auto totals = s.rows("SELECT collected_at, sum(wait_time_ms) FROM wait_stats GROUP BY collected_at ORDER BY collected_at");
    ASSERT_EQ(totals.size(), 2u);
    EXPECT_LT(std::stoll(totals[1][1]), std::stoll(totals[0][1]));
}

}  // namespace
}  // namespace dmvlog::test
