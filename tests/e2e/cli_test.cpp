// dmvlog's own commands end to end: the real binary, unixODBC, the FreeTDS driver, TDS on loopback, the
// simulator answering from its incident scenario, and the SQLite store the agent writes.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "support/agent_process.h"
#include "support/sim_process.h"

namespace dmvlog::test {
namespace {

using namespace std::chrono_literals;

SimOptions incident(std::vector<std::string> extra = {}) {
    SimOptions o;
    o.args = {"--scenario", scenarios_dir() + "/incident.toml", "--seed", "7"};
    o.args.insert(o.args.end(), extra.begin(), extra.end());
    o.control = true;
    return o;
}

// Moves the simulated clock to `seconds` after the scenario start and keeps it there.
void hold_at(SimProcess& sim, int seconds) {
    ASSERT_NE(sim.control(R"({"cmd":"pause"})").find("true"), std::string::npos);
    auto answer = sim.control(R"({"cmd":"advance","seconds":)" + std::to_string(seconds) + "}");
    ASSERT_NE(answer.find("true"), std::string::npos) << answer;
}

TEST(CollectOnce, FillsBothRequestTablesWithTheRightRowsAndTypes) {
    SimProcess sim(incident());
    hold_at(sim, 150);  // the blocking chain is 90 s old, grants are pending, the runaway query is 30 s in
    TempDir dir;
    auto db = dir.file("store/dmvlog.db");
    auto cfg = agent_config(dir, sim.port(), db);
    auto r = run_dmvlog({"collect", "--once", "--config", cfg});
    ASSERT_EQ(r.exit_code, 0) << r.output << sim.log_text();
    EXPECT_NE(r.output.find("requests_5s"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("requests_1m"), std::string::npos) << r.output;

    StoreReader s(db);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM snapshots WHERE collector IN ('requests_5s', 'requests_1m')"), 2);
    // One timestamp per snapshot, from the server's clock, with 100 ns digits.
    EXPECT_EQ(s.scalar("SELECT count(DISTINCT collected_at) FROM requests_1m"), 1);
    auto at = s.text("SELECT collected_at FROM snapshots WHERE collector = 'requests_1m'");
    EXPECT_TRUE(std::regex_match(at, std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{7})"))) << at;
    EXPECT_EQ(s.scalar("SELECT count(*) FROM snapshots WHERE sqlserver_start_time IS NULL"), 0);

    // requests_1m sees the whole chain (elapsed 1 s to 10 h); requests_5s only requests running 1-30 s.
    long long blocked_1m = s.scalar("SELECT count(*) FROM requests_1m WHERE blocking_session_id > 0");
    EXPECT_GE(blocked_1m, 19) << "the chain of 20 sessions";
    EXPECT_EQ(s.scalar("SELECT count(*) FROM requests_5s WHERE total_elapsed_time >= 30000 OR total_elapsed_time < 1000"), 0);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM requests_1m WHERE total_elapsed_time < 1000"), 0);
    EXPECT_GT(s.scalar("SELECT count(*) FROM requests_1m"), s.scalar("SELECT count(*) FROM requests_5s"));

    // The head blocker is sleeping with an open transaction: it blocks others but has no request row.
    EXPECT_GE(s.scalar("SELECT count(DISTINCT blocking_session_id) FROM requests_1m r WHERE blocking_session_id > 0 "
                       "AND NOT EXISTS (SELECT 1 FROM requests_1m x WHERE x.session_id = r.blocking_session_id)"),
              1);

    // Types as stored: integers, UTC text times, binary hashes of 8 bytes, NULLs where SQL Server has NULL.
    EXPECT_EQ(s.type_of("SELECT session_id FROM requests_1m LIMIT 1"), "integer");
    EXPECT_EQ(s.scalar("SELECT length(query_hash) FROM requests_1m WHERE query_hash IS NOT NULL LIMIT 1"), 8);
    EXPECT_EQ(s.type_of("SELECT sql_handle FROM requests_1m WHERE sql_handle IS NOT NULL LIMIT 1"), "blob");
    auto start = s.text("SELECT start_time FROM requests_1m LIMIT 1");
    EXPECT_TRUE(std::regex_match(start, std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{7})"))) << start;
    EXPECT_GE(s.scalar("SELECT count(*) FROM requests_1m WHERE wait_type = 'RESOURCE_SEMAPHORE' AND "
                       "granted_memory_kb IS NULL AND requested_memory_kb > 0"),
              1)
        << "pending memory grants have NULL granted_memory_kb";
    EXPECT_GE(s.scalar("SELECT count(*) FROM requests_1m WHERE requested_memory_kb IS NULL"), 1)
        << "requests without a grant (LEFT JOIN) have NULL grant columns";

    // Text: stored once, Japanese intact, statements sliced from the batch.
    EXPECT_EQ(s.scalar("SELECT count(*) FROM sql_text"), s.scalar("SELECT count(DISTINCT hash) FROM sql_text"));
    EXPECT_GE(s.scalar("SELECT count(*) FROM requests_1m WHERE database_name = '受注管理'"), 1);
    EXPECT_GE(s.scalar("SELECT count(*) FROM sql_text WHERE text LIKE '%顧客名%'"), 1);
    EXPECT_GE(s.scalar("SELECT count(*) FROM requests_1m r JOIN sql_text t ON t.hash = r.statement_text_hash "
                       "WHERE t.text = 'UPDATE dbo.Orders SET Status = @s WHERE OrderId = @id;'"),
              1);
    EXPECT_GT(s.scalar("SELECT max(length(text)) FROM sql_text"), 8000) << "long batches are not truncated";
    // Every statement is a piece of its batch.
    EXPECT_EQ(s.scalar("SELECT count(*) FROM requests_1m r JOIN sql_text b ON b.hash = r.batch_text_hash "
                       "JOIN sql_text st ON st.hash = r.statement_text_hash WHERE instr(b.text, st.text) = 0"),
              0);
    // The run was accounted.
    EXPECT_EQ(s.scalar("SELECT count(*) FROM collector_runs WHERE status = 'ok' AND collector IN ('requests_5s', 'requests_1m')"), 2);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM collector_runs WHERE status <> 'ok'"), 0);
}

TEST(CollectOnce, OnlyRunsTheNamedCollectorsAndRejectsUnknownOnes) {
    SimProcess sim(incident());
    TempDir dir;
    auto db = dir.file("dmvlog.db");
    auto cfg = agent_config(dir, sim.port(), db);
    auto r = run_dmvlog({"collect", "--once", "--only", "requests_1m", "--config", cfg});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    StoreReader s(db);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM snapshots WHERE collector = 'requests_1m'"), 1);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM snapshots WHERE collector = 'requests_5s'"), 0);
    auto bad = run_dmvlog({"collect", "--once", "--only", "requests_5x", "--config", cfg});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.output.find("unknown collector 'requests_5x'"), std::string::npos) << bad.output;
}

TEST(CollectOnce, FailsWithStatusOneWhenTheServerIsDown) {
    TempDir dir;
    auto cfg = agent_config(dir, free_tcp_port(), dir.file("dmvlog.db"));
    auto r = run_dmvlog({"collect", "--once", "--config", cfg});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("transient"), std::string::npos) << r.output;
}

TEST(Run, CollectsOnEachIntervalForSimulatedMinutesAndStopsOnSigterm) {
    // 20x: 5 s intervals are 250 ms of wall time, one simulated minute is 3 s.
    SimProcess sim(incident({"--speed", "20"}));
    TempDir dir;
    auto db = dir.file("dmvlog.db");
    auto cfg = agent_config(dir, sim.port(), db);
    auto started = std::chrono::steady_clock::now();
    AgentProcess agent({"run", "--config", cfg, "--time-scale", "20"});
    std::this_thread::sleep_for(9s);   // three simulated minutes
    int rc = agent.stop();
    auto wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ASSERT_EQ(rc, 0) << agent.output();
    StoreReader s(db);
    const double simulated = wall * 20;   // seconds of simulated time the agent ran (upper bound)
    long long fast = s.scalar("SELECT count(*) FROM snapshots WHERE collector = 'requests_5s'");
    long long slow = s.scalar("SELECT count(*) FROM snapshots WHERE collector = 'requests_1m'");
    EXPECT_LE(fast, static_cast<long long>(simulated / 5) + 1);
    EXPECT_GE(fast, static_cast<long long>(180 / 5 * 0.8)) << agent.output();
    EXPECT_GE(slow, 3);
    EXPECT_LE(slow, static_cast<long long>(simulated / 60) + 1);
    // Snapshots are 5 simulated seconds apart on the server's clock.
    auto gaps = s.rows("SELECT (julianday(collected_at) - julianday(lag(collected_at) OVER (ORDER BY collected_at))) * 86400 "
                       "FROM snapshots WHERE collector = 'requests_5s' ORDER BY collected_at");
    int near_five = 0, counted = 0;
    for (const auto& g : gaps) {
        if (g[0] == "<NULL>") continue;
        ++counted;
        double d = std::stod(g[0]);
        if (d > 3.5 && d < 6.5) ++near_five;
    }
    EXPECT_GE(near_five, counted * 8 / 10) << "most consecutive 5 s snapshots are ~5 s apart";
    EXPECT_EQ(s.scalar("SELECT count(*) FROM collector_runs WHERE status <> 'ok'"), 0) << agent.output();
    EXPECT_NE(agent.output().find("stopped:"), std::string::npos) << agent.output();
}

TEST(Check, ReportsVersionEditionAndPermissions) {
    SimProcess sim(incident());
    TempDir dir;
    auto cfg = agent_config(dir, sim.port(), dir.file("dmvlog.db"));
    auto r = run_dmvlog({"check", "--config", cfg});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("SQL Server 2022 16.0.4135.4"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("Enterprise Edition"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("granted"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("all checks passed"), std::string::npos) << r.output;
}

TEST(Check, NamesAnUnreachableServer) {
    TempDir dir;
    int port = free_tcp_port();
    auto cfg = agent_config(dir, port, dir.file("dmvlog.db"));
    auto r = run_dmvlog({"check", "--config", cfg});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("cannot reach SQL Server at 127.0.0.1:" + std::to_string(port)), std::string::npos) << r.output;
}

TEST(Check, NamesAWrongPasswordWithoutShowingIt) {
    SimProcess sim(incident());
    TempDir dir;
    auto cfg = agent_config(dir, sim.port(), dir.file("dmvlog.db"), "", "Sup3rSecretWrong");
    auto r = run_dmvlog({"check", "--config", cfg});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("login failed for user 'dmvlog'"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("Sup3rSecretWrong"), std::string::npos) << "the password must never be printed";
}

TEST(Check, NamesAMissingViewServerStatePermission) {
    TempDir dir;
    // The incident scenario plus a login that lacks VIEW SERVER STATE.
    auto scenario = dir.write("lowpriv.toml", R"(name = "lowpriv"
description = "A login without VIEW SERVER STATE."
[server]
version = "15.0.4345.5"
[auth]
logins = [ { name = "dmvlog", password = "dmvlog" }, { name = "monitor", password = "m0nitor!", deny = ["VIEW SERVER STATE"] } ]
)");
    SimOptions o;
    o.args = {"--scenario", scenario};
    SimProcess sim(o);
    auto cfg = agent_config(dir, sim.port(), dir.file("dmvlog.db"), "", "m0nitor!", "monitor");
    auto r = run_dmvlog({"check", "--config", cfg});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("SQL Server 2019"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("VIEW SERVER STATE: MISSING"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("GRANT VIEW SERVER STATE TO [monitor]"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("requests_5s"), std::string::npos) << r.output;
    // Per collector: which ones the missing permission stops (server-wide and per-database alike).
    EXPECT_TRUE(std::regex_search(r.output, std::regex("collector requests_5s +cannot run: the login lacks VIEW SERVER STATE")))
        << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex("collector index_usage +cannot run: the login lacks VIEW SERVER STATE")))
        << r.output;
    {
        std::smatch m;
        ASSERT_TRUE(std::regex_search(r.output, m, std::regex(R"(affected: ([a-z_0-9, ]+))"))) << r.output;
        EXPECT_NE(m[1].str().find("requests_5s"), std::string::npos) << m[1];
        EXPECT_NE(m[1].str().find("index_usage"), std::string::npos) << m[1];
    }
    EXPECT_NE(r.output.find("sql/setup/least_privilege.sql"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("ALTER ANY EVENT SESSION: granted (needed only by `dmvlog xe setup --apply`)"),
              std::string::npos) << r.output;
    // And the agent disables the collectors with one clear message instead of failing forever.
    auto c = run_dmvlog({"collect", "--once", "--config", cfg});
    EXPECT_EQ(c.exit_code, 1);
    EXPECT_NE(c.output.find("disabled"), std::string::npos) << c.output;
    EXPECT_NE(c.output.find("permission"), std::string::npos) << c.output;
}

TEST(Check, NamesAnUnknownConfigKeyWithFileAndLine) {
    TempDir dir;
    auto cfg = agent_config(dir, 1433, dir.file("dmvlog.db"), "[collectors.requests_5s]\nintervall = \"10s\"\n");
    auto r = run_dmvlog({"check", "--config", cfg});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("dmvlog.toml:"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("intervall"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("did you mean 'interval'"), std::string::npos) << r.output;
}

TEST(Collectors, ListsIntervalsTablesAndLastRuns) {
    SimProcess sim(incident());
    TempDir dir;
    auto db = dir.file("dmvlog.db");
    auto cfg = agent_config(dir, sim.port(), db, "[collectors.requests_1m]\nenabled = false\n");
    auto before = run_dmvlog({"collectors", "--config", cfg});
    ASSERT_EQ(before.exit_code, 0) << before.output;
    EXPECT_NE(before.output.find("never run"), std::string::npos) << before.output;
    EXPECT_NE(before.output.find("disabled in configuration"), std::string::npos) << before.output;
    ASSERT_EQ(run_dmvlog({"collect", "--once", "--config", cfg}).exit_code, 0);
    auto json = run_dmvlog({"collectors", "--config", cfg, "--format", "json"});
    ASSERT_EQ(json.exit_code, 0) << json.output;
    EXPECT_NE(json.output.find(R"("collector": "requests_5s")"), std::string::npos) << json.output;
    EXPECT_NE(json.output.find(R"("interval": "5s")"), std::string::npos) << json.output;
    EXPECT_NE(json.output.find(R"("last_status": "ok")"), std::string::npos) << json.output;
    EXPECT_NE(json.output.find(R"("table": "requests_1m")"), std::string::npos) << json.output;
}

TEST(Cli, EveryCommandHasHelpAndExitCodesAreDocumented) {
    for (const char* cmd : {"run", "collect", "collectors", "check", "query", "digest", "xe", "schema", "version"}) {
        auto r = run_dmvlog({cmd, "--help"});
        EXPECT_EQ(r.exit_code, 0) << cmd << ": " << r.output;
        EXPECT_NE(r.output.find("dmvlog"), std::string::npos) << cmd;
    }
    auto top = run_dmvlog({"--help"});
    EXPECT_NE(top.output.find("2 usage or configuration error"), std::string::npos);
    EXPECT_EQ(run_dmvlog({"frobnicate"}).exit_code, 2);
    EXPECT_EQ(run_dmvlog({"collect", "--once", "--config", "/nonexistent/dmvlog.toml"}).exit_code, 2);
}

}  // namespace
}  // namespace dmvlog::test
