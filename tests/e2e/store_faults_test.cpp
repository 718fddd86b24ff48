// Store faults end to end: `dmvlog run` against the simulator while its SQLite store is locked by another
// process, while the agent is killed with SIGKILL, with a damaged spool, and with the store's disk full.
// Every snapshot the agent took must be in the store exactly once afterwards: the simulator's query log
// says which collector queries it answered (what the agent took), the store says what landed.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "agent/collect/declaration.h"
#include "agent/core/time_format.h"
#include "support/agent_process.h"
#include "support/sim_clock.h"
#include "support/fault_counts.h"
#include "support/sim_process.h"

namespace dmvlog::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kScale = 20;
const std::vector<std::string> kCollectors = {"requests_5s", "perf_counters"};

SimOptions incident() {
    SimOptions o;
    o.args = {"--scenario", scenarios_dir() + "/incident.toml", "--seed", "11", "--speed", std::to_string(kScale)};
    o.control = true;
    return o;
}

// A short busy timeout (it lands in [store]), the spool settings, and only two collectors.
std::string config_extra(const std::string& spool = "") {
    std::string out = "busy_timeout = \"200ms\"\n\n";
    if (!spool.empty()) out += "[spool]\n" + spool + "\n";
    for (const auto& d : collect::load_builtin())
        if (std::find(kCollectors.begin(), kCollectors.end(), d.name) == kCollectors.end())
            out += "[collectors." + d.name + "]\nenabled = false\n\n";
    return out;
}

std::vector<std::string> run_args(const std::string& cfg) {
    return {"run", "--config", cfg, "--time-scale", std::to_string(kScale), "--stop-timeout", "5"};
}

// Another process's exclusive lock on the store: every write of the agent fails with "database is locked".
class StoreLock {
public:
    explicit StoreLock(const std::string& db) {
        if (sqlite3_open(db.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("cannot open " + db);
        sqlite3_busy_timeout(db_, 10000);
        if (sqlite3_exec(db_, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string("BEGIN EXCLUSIVE: ") + sqlite3_errmsg(db_));
    }
    ~StoreLock() { release(); }
    void release() {
        if (!db_) return;
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        sqlite3_close(db_);
        db_ = nullptr;
    }

private:
    sqlite3* db_ = nullptr;
};


struct Tally {
    long long answered = 0, stored = 0, lost = 0, duplicated = 0;
};


// Compares the store with what the simulator answered; returns per collector what was lost and duplicated.
// allowance: snapshots that may be missing because a SIGKILL hit them before they reached the writer.
// outputs: the output of every agent that was stopped (not killed), for the runs the shutdown cancelled.
// restarts: agents started after the first (the simulated clock runs on while none runs: a gap per restart).
std::map<std::string, Tally> check_exactly_once(const std::string& db, const SimProcess& sim, long long allowance,
                                                const std::string& outputs, int restarts = 0) {
    std::map<std::string, Tally> out;
    const auto sim_counts = answered(sim, kCollectors);
    StoreReader s(db);
    for (const auto& c : kCollectors) {
        SCOPED_TRACE(c);
        Tally t;
        t.answered = sim_counts.count(c) ? sim_counts.at(c) : 0;
        t.stored = s.scalar("SELECT count(*) FROM snapshots WHERE collector = '" + c + "'");
        // Duplicates: a snapshot twice, or a run or data rows written twice for one snapshot.
        const long long distinct = s.scalar("SELECT count(DISTINCT collected_at) FROM snapshots WHERE collector = '" + c + "'");
        const long long ok_runs = s.scalar("SELECT count(*) FROM collector_runs WHERE collector = '" + c + "' AND status = 'ok'");
        const long long data_rows = s.scalar("SELECT count(*) FROM \"" + c + "\"");
        const long long run_rows = s.scalar("SELECT coalesce(sum(row_count), 0) FROM collector_runs WHERE collector = '" + c +
                                            "' AND status = 'ok'");
        t.duplicated = (t.stored - distinct) + (ok_runs - t.stored) + (data_rows - run_rows);
        t.lost = t.answered - cancelled_at_stop(outputs, c) - t.stored;
        EXPECT_EQ(t.stored, distinct);
        EXPECT_EQ(ok_runs, t.stored) << "each snapshot has its run record, once";
        EXPECT_EQ(data_rows, run_rows) << "each snapshot's rows are stored once";
        EXPECT_GT(t.stored, 0);
        EXPECT_GE(t.lost, 0) << "more snapshots stored than the simulator answered queries";
        EXPECT_LE(t.lost, allowance) << t.answered << " answered, " << t.stored << " stored";
        // No hole: requests_5s runs every 5 s, so consecutive snapshots are at most a few intervals apart (while
        // an agent runs; a restart takes a few wall seconds, a minute or more of simulated time).
        if (c == "requests_5s") {
            auto times = s.rows("SELECT collected_at FROM snapshots WHERE collector = 'requests_5s' ORDER BY collected_at");
            std::int64_t worst = 0;
            for (std::size_t i = 1; i < times.size(); ++i) {
                auto a = parse_timestamp(times[i - 1][0]), b = parse_timestamp(times[i][0]);
                if (a && b) worst = std::max(worst, (b->utc_ticks - a->utc_ticks) / kTicksPerSecond);
            }
            EXPECT_LE(worst, 15 + 5 * allowance + 90 * restarts) << "a gap of " << worst << " s between requests_5s snapshots";
        }
        std::printf("[ figures  ] %s: answered %lld, stored %lld, lost %lld, duplicated %lld\n", c.c_str(), t.answered,
                    t.stored, t.lost, t.duplicated);
        out[c] = t;
    }
    return out;
}

std::vector<fs::path> segments(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".seg") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

TEST(StoreFaults, StoreLockedForTwoMinutesLosesAndDuplicatesNothing) {
    SimProcess sim(incident());
    TempDir dir;
    const auto db = dir.file("dmvlog.db");
    const auto cfg = agent_config(dir, sim.port(), db, config_extra());
    AgentProcess agent(run_args(cfg));
    wait_for_offset(sim, 30, 60s);
    {
        StoreLock lock(db);
        const double locked_at = offset_now(sim);
        ASSERT_TRUE(wait_for_output(agent, "snapshots go to the spool", 30s)) << agent.output();
        wait_for_offset(sim, locked_at + 120, 60s);
    }
    const double unlocked_at = offset_now(sim);
    ASSERT_TRUE(wait_for_output(agent, "written to the store from the spool", 30s)) << agent.output();
    wait_for_offset(sim, unlocked_at + 20, 60s);
    ASSERT_EQ(agent.stop(), 0) << agent.output();
    const auto out = agent.output();
    EXPECT_NE(out.find("spool: 0 record(s) (0 bytes) waiting, 0 evicted, 0 corrupt"), std::string::npos) << out;
    auto t = check_exactly_once(db, sim, 0, out);
    EXPECT_GE(t["requests_5s"].stored, 30) << "about 34 runs of 5 s in 170 simulated seconds";
}

TEST(StoreFaults, KillDuringAnOutageAndDuringTheReplayLosesAndDuplicatesNothing) {
    SimProcess sim(incident());
    TempDir dir;
    const auto db = dir.file("dmvlog.db");
    const auto cfg = agent_config(dir, sim.port(), db, config_extra());
    {
        AgentProcess agent(run_args(cfg));
        wait_for_offset(sim, 20, 60s);
        StoreLock lock(db);
        ASSERT_TRUE(wait_for_output(agent, "snapshots go to the spool", 30s)) << agent.output();
        wait_for_offset(sim, offset_now(sim) + 90, 60s);
        agent.kill_hard();   // while it spools
    }
    {
        // The store is back; the next start replays the spool, and is killed while it does.
        AgentProcess agent(run_args(cfg));
        ASSERT_TRUE(wait_for_output(agent, "waiting to be written to the store", 30s)) << agent.output();
        std::this_thread::sleep_for(20ms);
        agent.kill_hard();
    }
    AgentProcess agent(run_args(cfg));
    wait_for_offset(sim, offset_now(sim) + 20, 60s);
    ASSERT_EQ(agent.stop(), 0) << agent.output();
    EXPECT_NE(agent.output().find("spool: 0 record(s) (0 bytes) waiting"), std::string::npos) << agent.output();
    // A SIGKILL can hit a query whose answer the agent has not handed to the writer yet: at most one per
    // collector per kill (two kills).
    check_exactly_once(db, sim, 2, agent.output(), 2);
}

TEST(StoreFaults, ACorruptedSpoolTailIsCutOffAndTheGoodRecordsWritten) {
    SimProcess sim(incident());
    TempDir dir;
    const auto db = dir.file("dmvlog.db");
    const auto cfg = agent_config(dir, sim.port(), db, config_extra());
    std::string first_output;
    {
        AgentProcess agent(run_args(cfg));
        wait_for_offset(sim, 20, 60s);
        StoreLock lock(db);
        ASSERT_TRUE(wait_for_output(agent, "snapshots go to the spool", 30s)) << agent.output();
        wait_for_offset(sim, offset_now(sim) + 60, 60s);
        ASSERT_EQ(agent.stop(), 0) << agent.output();
        ASSERT_NE(agent.output().find("kept in the spool"), std::string::npos) << agent.output();
        first_output = agent.output();
    }
    const fs::path spool = dir.path() / "spool";
    auto segs = segments(spool);
    ASSERT_FALSE(segs.empty());
    const auto good_size = fs::file_size(segs.back());
    {
        std::ofstream out(segs.back(), std::ios::binary | std::ios::app);
        out.write("DMVS\x01\x00\x00\x00\xff\x00\x00\x00garbage from a torn write", 37);
    }
    AgentProcess agent(run_args(cfg));
    ASSERT_TRUE(wait_for_output(agent, "written to the store from the spool", 30s)) << agent.output();
    wait_for_offset(sim, offset_now(sim) + 15, 60s);
    ASSERT_EQ(agent.stop(), 0) << agent.output();
    const auto out = agent.output();
    EXPECT_NE(out.find("a bad tail of 37 byte(s)"), std::string::npos) << out;
    EXPECT_NE(out.find("0 evicted, 1 corrupt"), std::string::npos) << out;
    EXPECT_TRUE(fs::exists(segs.back().string() + ".bad"));
    EXPECT_FALSE(fs::exists(segs.back())) << "written and acknowledged, the segment is gone (it had " << good_size << " bytes)";
    check_exactly_once(db, sim, 0, first_output + out, 1);
}

TEST(StoreFaults, TheStoresDiskFullLosesNothing) {
    TempDir dir;
    const fs::path mnt = dir.path() / "store";
    fs::create_directories(mnt);
    if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=16m") != 0)
        GTEST_SKIP() << "cannot mount a tmpfs for the store (" << std::strerror(errno) << "); needs root or CAP_SYS_ADMIN";
    struct Unmount {
        fs::path p;
        ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
    } unmount{mnt};
    SimProcess sim(incident());
    const auto db = (mnt / "dmvlog.db").string();
    // The spool beside the configuration, not on the full disk.
    const auto cfg = agent_config(dir, sim.port(), db, config_extra("dir = \"" + (dir.path() / "spool").string() + "\"\n"));
    AgentProcess agent(run_args(cfg));
    wait_for_offset(sim, 20, 60s);
    // Shrink the disk to what the store uses now plus a little: it is full within a few snapshots.
    struct statvfs vfs {};
    ASSERT_EQ(::statvfs(mnt.c_str(), &vfs), 0);
    const auto used = (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
    const auto tight = "size=" + std::to_string(used + (64 << 10));
    ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", MS_REMOUNT, tight.c_str()), 0) << std::strerror(errno);
    ASSERT_TRUE(wait_for_output(agent, "snapshots go to the spool", 40s)) << agent.output();
    EXPECT_NE(agent.output().find("full"), std::string::npos) << "the store's error names the full disk";
    wait_for_offset(sim, offset_now(sim) + 30, 60s);
    ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", MS_REMOUNT, "size=64m"), 0) << std::strerror(errno);
    ASSERT_TRUE(wait_for_output(agent, "written to the store from the spool", 30s)) << agent.output();
    wait_for_offset(sim, offset_now(sim) + 15, 60s);
    ASSERT_EQ(agent.stop(), 0) << agent.output();
    EXPECT_NE(agent.output().find("spool: 0 record(s) (0 bytes) waiting, 0 evicted, 0 corrupt"), std::string::npos)
        << agent.output();
    check_exactly_once(db, sim, 0, agent.output());
}

}  // namespace
}  // namespace dmvlog::test
