// dmvlog run as a systemd service (Type=notify) against the simulator: the notifications systemd gets on a
// socket the test binds (READY, STATUS, WATCHDOG, RELOADING, STOPPING), SIGHUP with a broken and with a
// valid new configuration, and SIGTERM within agent.stop_timeout while every query hangs.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "agent/collect/declaration.h"
#include "support/agent_process.h"
#include "support/notify_socket.h"
#include "support/sim_process.h"

namespace dmvlog::test {
namespace {

using namespace std::chrono_literals;

// 20x: a 5 s collector runs every 250 ms of wall time.
SimOptions fast_incident(bool control = false) {
    SimOptions o;
    o.args = {"--scenario", scenarios_dir() + "/incident.toml", "--seed", "11", "--speed", "20"};
    o.control = control;
    return o;
}

std::vector<std::string> notify_env(const NotifySocket& sock, const std::string& watchdog_usec = "") {
    std::vector<std::string> env = {"NOTIFY_SOCKET=" + sock.path()};
    if (!watchdog_usec.empty()) env.push_back("WATCHDOG_USEC=" + watchdog_usec);
    return env;
}

long long snapshots(const std::string& db, const std::string& collector = "") {
    if (!std::filesystem::exists(db)) return 0;
    StoreReader s(db);
    return s.scalar("SELECT count(*) FROM snapshots" + (collector.empty() ? "" : " WHERE collector = '" + collector + "'"));
}

// Waits until the store has more than `above` snapshots (of collector); returns the count seen last.
long long wait_for_snapshots(const std::string& db, long long above, std::chrono::seconds timeout,
                             const std::string& collector = "") {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    long long n = 0;
    do {
        try {
            n = snapshots(db, collector);
        } catch (const std::exception&) {
            n = 0;  // the store is being created
        }
        if (n > above) return n;
        std::this_thread::sleep_for(200ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return n;
}

int lines_of(const std::string& text) {
    int n = 0;
    for (char c : text) n += c == '\n';
    return n;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(Service, NotifiesReadyStatusWatchdogAndStopping) {
    SimProcess sim(fast_incident());
    TempDir dir;
    NotifySocket sock(dir.file("notify"));
    auto db = dir.file("dmvlog.db");
    auto cfg = agent_config(dir, sim.port(), db);
    AgentProcess agent({"run", "--config", cfg, "--time-scale", "20"}, notify_env(sock, "1000000"));
    int ready = sock.wait_for("READY=1", 0, 30s);
    ASSERT_GE(ready, 0) << agent.output() << sock.dump();
    const auto msgs = sock.messages();
    EXPECT_TRUE(has_line(msgs[ready], "STATUS=")) << "READY=1 comes with the first status: " << msgs[ready];
    EXPECT_NE(msgs[ready].find(" collectors, 1 instance, "), std::string::npos) << msgs[ready];
    // WATCHDOG=1 at half of WATCHDOG_USEC (500 ms): several within 3 s of READY.
    std::this_thread::sleep_for(3s);
    int watchdogs = 0;
    for (std::size_t i = static_cast<std::size_t>(ready); i < sock.messages().size(); ++i)
        watchdogs += has_line(sock.messages()[i], "WATCHDOG=1");
    EXPECT_GE(watchdogs, 4) << sock.dump();
    EXPECT_LE(watchdogs, 8) << "at half the interval, not in a busy loop: " << sock.dump();
    // The status is refreshed with live counters: runs have happened by now, and none failed.
    std::string last_status;
    for (const auto& m : sock.messages())
        if (has_line(m, "STATUS=")) last_status = m;
    std::smatch match;
    ASSERT_TRUE(std::regex_search(last_status, match, std::regex(R"(, (\d+) runs, (\d+) failed, (\d+) queued)"))) << last_status;
    EXPECT_GT(std::stoll(match[1]), 5) << last_status;
    EXPECT_EQ(match[2], "0") << last_status;
    const std::size_t before_stop = sock.messages().size();
    agent.signal(SIGTERM);
    EXPECT_GE(sock.wait_for("STOPPING=1", before_stop, 10s), 0) << sock.dump();
    EXPECT_EQ(agent.wait(30s), 0) << agent.output();
    EXPECT_GT(snapshots(db), 0);
}

TEST(Service, NoWatchdogMessagesWithoutWatchdogUsec) {
    SimProcess sim(fast_incident());
    TempDir dir;
    NotifySocket sock(dir.file("notify"));
    auto cfg = agent_config(dir, sim.port(), dir.file("dmvlog.db"));
    AgentProcess agent({"run", "--config", cfg, "--time-scale", "20"}, notify_env(sock));
    ASSERT_GE(sock.wait_for("READY=1", 0, 30s), 0) << agent.output() << sock.dump();
    std::this_thread::sleep_for(2s);
    EXPECT_EQ(sock.find("WATCHDOG=1"), -1) << sock.dump();
    EXPECT_EQ(agent.stop(), 0) << agent.output();
}

TEST(Service, SighupWithABrokenConfigurationKeepsCollectingAndNamesTheLine) {
    SimProcess sim(fast_incident());
    TempDir dir;
    NotifySocket sock(dir.file("notify"));
    auto db = dir.file("dmvlog.db");
    auto cfg = agent_config(dir, sim.port(), db);
    const std::string good = slurp(cfg);
    AgentProcess agent({"run", "--config", cfg, "--time-scale", "20"}, notify_env(sock));
    ASSERT_GE(sock.wait_for("READY=1", 0, 30s), 0) << agent.output() << sock.dump();
    ASSERT_GT(wait_for_snapshots(db, 0, 20s), 0) << agent.output();

    // A duration given as a number, two lines below the end of the good file.
    dir.write("dmvlog.toml", good + "\n[agent]\nsplay = 5\n");
    const int bad_line = lines_of(good) + 3;
    const std::size_t before = sock.messages().size();
    agent.signal(SIGHUP);
    int reloading = sock.wait_for("RELOADING=1", before, 10s);
    ASSERT_GE(reloading, 0) << sock.dump();
    EXPECT_TRUE(has_line(sock.messages()[reloading], "MONOTONIC_USEC=")) << sock.messages()[reloading];
    EXPECT_GE(sock.wait_for("READY=1", static_cast<std::size_t>(reloading) + 1, 10s), 0) << sock.dump();
    // The error names the file and line, and the old configuration goes on collecting.
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (agent.output().find("keeping the running configuration") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(100ms);
    const auto out = agent.output();
    EXPECT_NE(out.find("dmvlog.toml:" + std::to_string(bad_line) + ":"), std::string::npos) << out;
    EXPECT_NE(out.find("agent.splay"), std::string::npos) << out;
    EXPECT_NE(out.find("keeping the running configuration"), std::string::npos) << out;
    const long long after_reload = snapshots(db);
    EXPECT_GT(wait_for_snapshots(db, after_reload + 3, 15s), after_reload + 3) << "rows keep arriving: " << agent.output();
    EXPECT_EQ(out.find("stopping: cancelling"), std::string::npos) << "the running collectors were not stopped: " << out;
    EXPECT_EQ(agent.stop(), 0) << agent.output();
}

TEST(Service, SighupWithAValidConfigurationAppliesIt) {
    SimProcess sim(fast_incident());
    TempDir dir;
    NotifySocket sock(dir.file("notify"));
    auto db = dir.file("dmvlog.db");
    auto cfg = agent_config(dir, sim.port(), db, "[collectors.requests_5s]\nenabled = false\n");
    const std::string with_disabled = slurp(cfg);
    AgentProcess agent({"run", "--config", cfg, "--time-scale", "20"}, notify_env(sock));
    ASSERT_GE(sock.wait_for("READY=1", 0, 30s), 0) << agent.output() << sock.dump();
    ASSERT_GT(wait_for_snapshots(db, 0, 20s), 0) << agent.output();
    std::this_thread::sleep_for(1s);   // four intervals of requests_5s at 20x
    EXPECT_EQ(snapshots(db, "requests_5s"), 0);

    auto enabled = with_disabled;
    enabled.replace(enabled.find("enabled = false"), 15, "enabled = true");
    dir.write("dmvlog.toml", enabled);
    const std::size_t before = sock.messages().size();
    agent.signal(SIGHUP);
    int reloading = sock.wait_for("RELOADING=1", before, 10s);
    ASSERT_GE(reloading, 0) << sock.dump();
    EXPECT_GE(sock.wait_for("READY=1", static_cast<std::size_t>(reloading) + 1, 30s), 0) << agent.output() << sock.dump();
    EXPECT_GT(wait_for_snapshots(db, 0, 20s, "requests_5s"), 0) << agent.output();
    const auto out = agent.output();
    EXPECT_NE(out.find("reload: collector requests_5s: enabled"), std::string::npos) << out;
    // The old generation was flushed before the new one started: its runs are all recorded, none failed.
    StoreReader s(db);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM collector_runs WHERE status NOT IN ('ok', 'cancelled')"), 0) << out;
    EXPECT_EQ(agent.stop(), 0) << agent.output();
}

TEST(Service, SigtermWhileEveryQueryHangsExitsWithinStopTimeout) {
    SimProcess sim(fast_incident(true));
    sim.control(R"({"cmd":"fault","kind":"hang"})");
    TempDir dir;
    NotifySocket sock(dir.file("notify"));
    auto cfg = agent_config(dir, sim.port(), dir.file("dmvlog.db"), "[agent]\nstop_timeout = \"3s\"\n");
    AgentProcess agent({"run", "--config", cfg, "--time-scale", "20"}, notify_env(sock));
    ASSERT_GE(sock.wait_for("READY=1", 0, 30s), 0) << agent.output() << sock.dump();
    std::this_thread::sleep_for(2s);   // queries are started and hang
    const auto started = std::chrono::steady_clock::now();
    agent.signal(SIGTERM);
    const int rc = agent.wait(30s);
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_NE(rc, -1) << "the agent exited by itself: " << agent.output();
    EXPECT_LT(took, 3s + 1s) << agent.output();
    EXPECT_GE(sock.find("STOPPING=1"), 0) << sock.dump();
    EXPECT_NE(agent.output().find("stopping (at most 3s)"), std::string::npos) << agent.output();
}

TEST(Service, SigtermWhileALoginHangsExitsAtTheBoundWithStatusOne) {
    // A login that is never answered is not a query the shutdown can cancel: the bound itself ends the agent.
    SimProcess sim(fast_incident(true));
    sim.control(R"({"cmd":"fault","kind":"never_answer"})");
    TempDir dir;
    NotifySocket sock(dir.file("notify"));
    auto cfg = agent_config(dir, sim.port(), dir.file("dmvlog.db"), "[agent]\nstop_timeout = \"1s\"\n");
    auto text = slurp(cfg);
    const std::string short_login = "login_timeout = \"3s\"";
    text.replace(text.find(short_login), short_login.size(), "login_timeout = \"60s\"");
    dir.write("dmvlog.toml", text);
    AgentProcess agent({"run", "--config", cfg, "--time-scale", "20"}, notify_env(sock));
    ASSERT_GE(sock.wait_for("READY=1", 0, 30s), 0) << agent.output() << sock.dump();
    std::this_thread::sleep_for(1500ms);   // connects are under way and hang
    const auto started = std::chrono::steady_clock::now();
    agent.signal(SIGTERM);
    const int rc = agent.wait(30s);
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(rc, 1) << agent.output();
    EXPECT_GE(took, 900ms) << agent.output();
    EXPECT_LT(took, 1s + 700ms) << agent.output();
    EXPECT_NE(agent.output().find("did not stop within 1s; exiting now"), std::string::npos) << agent.output();
}

TEST(Service, StopTimeoutOnTheCommandLineOverridesTheConfiguration) {
    TempDir dir;
    auto cfg = agent_config(dir, 1, dir.file("dmvlog.db"));
    auto bad = run_dmvlog({"run", "--config", cfg, "--stop-timeout", "soon"});
    EXPECT_EQ(bad.exit_code, 2) << bad.output;
    EXPECT_NE(bad.output.find("--stop-timeout must be a positive duration"), std::string::npos) << bad.output;
    SimProcess sim(fast_incident());
    // requests_5s alone: the two shared cores are not the subject here.
    std::string others;
    for (const auto& d : collect::load_builtin())
        if (d.name != "requests_5s") others += "[collectors." + d.name + "]\nenabled = false\n\n";
    cfg = agent_config(dir, sim.port(), dir.file("dmvlog.db"), "[agent]\nstop_timeout = \"3s\"\n\n" + others);
    AgentProcess agent({"run", "--config", cfg, "--time-scale", "20", "--stop-timeout", "7s"});
    ASSERT_GT(wait_for_snapshots(dir.file("dmvlog.db"), 0, 30s), 0) << agent.output();
    EXPECT_EQ(agent.stop(), 0) << agent.output();
    EXPECT_NE(agent.output().find("stopping (at most 7s)"), std::string::npos) << agent.output();
}

}  // namespace
}  // namespace dmvlog::test
