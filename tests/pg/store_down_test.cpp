// PostgreSQL down mid-run: the agent writes to a PostgreSQL store of its own (a private server this test
// starts, so that stopping it disturbs no other test), the server is shut down (connections cut) for two
// simulated minutes and started again. Snapshots go to the spool meanwhile and are written in order once the
// server is back: every snapshot the simulator answered is stored once, with its run record and its rows.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "agent/collect/declaration.h"
#include "support/agent_process.h"
#include "support/sim_clock.h"
#include "support/fault_counts.h"
#include "support/sim_process.h"

namespace dmvlog::test {
namespace {

using namespace std::chrono_literals;

constexpr int kScale = 20;
const std::vector<std::string> kCollectors = {"requests_5s", "perf_counters"};

// A PostgreSQL server of this test's own.
class PrivateServer {
public:
    PrivateServer() : dir_("/tmp/dmvlog-pg-down-" + std::to_string(::getpid())) {
        ok_ = run("start");
        std::ifstream in(dir_ + "/conninfo");
        std::getline(in, conninfo_);
    }
    ~PrivateServer() { run("stop"); }
    bool ok() const { return ok_ && !conninfo_.empty(); }
    const std::string& conninfo() const { return conninfo_; }
    bool pause() { return run("pause"); }
    bool resume() { return run("resume"); }
    long long scalar(const std::string& sql) const {
        PGconn* c = PQconnectdb(conninfo_.c_str());
        long long v = -1;
        if (PQstatus(c) == CONNECTION_OK) {
            PGresult* r = PQexec(c, sql.c_str());
            if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) && !PQgetisnull(r, 0, 0)) v = std::atoll(PQgetvalue(r, 0, 0));
            PQclear(r);
        }
        PQfinish(c);
        return v;
    }

private:
    bool run(const std::string& cmd) const {
        const std::string line = std::string("\"") + DMVLOG_PG_TEST_SERVER + "\" " + cmd + " " + dir_ + " >/dev/null 2>&1";
        return std::system(line.c_str()) == 0;
    }
    std::string dir_;
    std::string conninfo_;
    bool ok_ = false;
};



TEST(PgStoreFaults, PostgresDownForTwoMinutesLosesAndDuplicatesNothing) {
    PrivateServer pg;
    if (!pg.ok()) {
        std::printf("[ SKIPPED  ] no PostgreSQL server binaries: tests/pg/pg-test-server could not start one\n");
        GTEST_SKIP();
    }
    SimOptions so;
    so.args = {"--scenario", scenarios_dir() + "/incident.toml", "--seed", "11", "--speed", std::to_string(kScale)};
    so.control = true;
    SimProcess sim(so);
    TempDir dir;
    std::string extra;
    for (const auto& d : collect::load_builtin())
        if (std::find(kCollectors.begin(), kCollectors.end(), d.name) == kCollectors.end())
            extra += "[collectors." + d.name + "]\nenabled = false\n\n";
    std::string text;
    {
        std::ifstream in(agent_config(dir, sim.port(), dir.file("unused.db"), extra));
        std::stringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    }
    const std::string sqlite_store = "[store]\nkind = \"sqlite\"\npath = \"" + dir.file("unused.db") + "\"\n";
    ASSERT_NE(text.find(sqlite_store), std::string::npos);
    text.replace(text.find(sqlite_store), sqlite_store.size(),
                 "[store]\nkind = \"postgres\"\nconninfo = \"" + pg.conninfo() + " connect_timeout=2\"\n\n[agent]\nstate_dir = \"" +
                     dir.file("state") + "\"\n");
    const auto cfg = dir.write("pg.toml", text);

    AgentProcess agent({"run", "--config", cfg, "--time-scale", std::to_string(kScale), "--stop-timeout", "5"});
    wait_for_offset(sim, 30, 60s);
    ASSERT_GT(pg.scalar("SELECT count(*) FROM snapshots"), 0) << agent.output();
    ASSERT_TRUE(pg.pause());
    const double down_at = offset_now(sim);
    ASSERT_TRUE(wait_for_output(agent, "snapshots go to the spool", 30s)) << agent.output();
    wait_for_offset(sim, down_at + 120, 60s);
    ASSERT_TRUE(pg.resume());
    const double up_at = offset_now(sim);
    ASSERT_TRUE(wait_for_output(agent, "written to the store from the spool", 60s)) << agent.output();
    wait_for_offset(sim, up_at + 20, 60s);
    ASSERT_EQ(agent.stop(), 0) << agent.output();
    const auto out = agent.output();
    EXPECT_NE(out.find("spool: 0 record(s) (0 bytes) waiting, 0 evicted, 0 corrupt"), std::string::npos) << out;

    const auto sim_counts = answered(sim, kCollectors);
    for (const auto& c : kCollectors) {
        SCOPED_TRACE(c);
        const long long stored = pg.scalar("SELECT count(*) FROM snapshots WHERE collector = '" + c + "'");
        const long long distinct = pg.scalar("SELECT count(DISTINCT collected_at) FROM snapshots WHERE collector = '" + c + "'");
        const long long ok_runs = pg.scalar("SELECT count(*) FROM collector_runs WHERE collector = '" + c + "' AND status = 'ok'");
        const long long rows = pg.scalar("SELECT count(*) FROM " + c);
        const long long run_rows = pg.scalar("SELECT coalesce(sum(row_count), 0) FROM collector_runs WHERE collector = '" + c +
                                             "' AND status = 'ok'");
        const long long lost = (sim_counts.count(c) ? sim_counts.at(c) : 0) - cancelled_at_stop(out, c) - stored;
        EXPECT_EQ(stored, distinct) << "a snapshot stored twice";
        EXPECT_EQ(ok_runs, stored) << "each snapshot has its run record, once";
        EXPECT_EQ(rows, run_rows) << "each snapshot's rows are stored once";
        EXPECT_EQ(lost, 0) << stored << " stored; agent output:\n" << out;
        EXPECT_GT(stored, 0);
        std::printf("[ figures  ] %s: answered %lld, stored %lld, lost %lld, duplicated %lld\n", c.c_str(),
                    sim_counts.count(c) ? sim_counts.at(c) : 0, stored, lost, (stored - distinct) + (rows - run_rows));
    }
    EXPECT_GE(pg.scalar("SELECT count(*) FROM snapshots WHERE collector = 'requests_5s'"), 30)
        << "about 34 runs of 5 s in 170 simulated seconds";
}

}  // namespace
}  // namespace dmvlog::test
