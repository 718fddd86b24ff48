// The agent against every source fault the simulator can inject (docs/operations.md, "Source faults"):
// `dmvlog run --time-scale 20` with three collectors on the simulator at --speed 20 (one simulated minute is
// three wall seconds), a fault for about a simulated minute, then cleared. Each test asserts that the agent
// did not exit, that what was collected before the fault is all there, that the failed runs carry the
// right error class, that collection resumed after the clear, and (for a fault of one collector or one
// instance) that the rest kept running. Each prints one line of figures ("SOURCE-FAULT ...") that
// bench/source_faults.py gathers into the table of docs/benchmarks.md.
//
// Also: a query that hung when the agent was killed -9 is quarantined after the restart.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "agent/collect/declaration.h"
#include "agent/collect/run_markers.h"
#include "support/agent_process.h"
#include "support/sim_process.h"

namespace dmvlog::test {
namespace {

using namespace std::chrono_literals;

constexpr double kScale = 20;  // agent --time-scale and simulator --speed
const std::vector<std::string> kCollectors = {"requests_5s", "perf_counters", "wait_stats"};

SimOptions incident(const std::string& scenario = scenarios_dir() + "/incident.toml", std::vector<std::string> extra = {}) {
    SimOptions o;
    o.args = {"--scenario", scenario, "--seed", "5", "--speed", fmt::format("{}", kScale)};
    o.args.insert(o.args.end(), extra.begin(), extra.end());
    o.control = true;
    return o;
}

// Every built-in collector but kCollectors disabled; requests_5s every 5 s, the others every 10 s (schedule
// time); query timeouts (wall time) per collector.
std::string collectors_section(const std::map<std::string, std::string>& timeouts = {}) {
    std::ostringstream c;
    for (const auto& d : collect::load_builtin()) {
        c << "[collectors." << d.name << "]\n";
        if (std::find(kCollectors.begin(), kCollectors.end(), d.name) == kCollectors.end()) {
            c << "enabled = false\n\n";
            continue;
        }
        auto t = timeouts.find(d.name);
        c << "interval = \"" << (d.name == "requests_5s" ? "5s" : "10s") << "\"\n"
          << "timeout = \"" << (t != timeouts.end() ? t->second : "3s") << "\"\n\n";
    }
    return c.str();
}

std::string agent_section(const TempDir& dir, const std::string& quarantine = "1h") {
    return "[agent]\nstate_dir = \"" + dir.file("state") + "\"\nquarantine = \"" + quarantine + "\"\n\n";
}

// Wall clock UTC as the store writes collector_runs.started_at.
std::string wall_text(std::chrono::system_clock::time_point t = std::chrono::system_clock::now()) {
    const auto secs = std::chrono::system_clock::to_time_t(t);
    const auto frac = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() % 1000000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06lld0", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(frac));
    return buf;
}

std::string q(const std::string& s) { return "'" + s + "'"; }

// What the store held when the fault began.
struct Before {
    long long snapshots = 0;
    std::string last_collected;
};

Before before_fault(const std::string& db, const std::string& instance) {
    StoreReader s(db);
    auto r = s.rows("SELECT count(*), max(collected_at) FROM snapshots WHERE instance = " + q(instance));
    return Before{std::stoll(r.at(0).at(0)), r.at(0).at(1)};
}

struct Figures {
    std::string fault;
    int injected = 1;
    long long failed = 0;
    bool recovered = false;
    double resume_wall_s = -1;
};

// Runs, failures and the time from `clear` (wall text) to the end of the first ok run that started after it.
Figures measure(const StoreReader& s, const std::string& fault, const std::string& instance, const std::string& clear,
                int injected = 1) {
    Figures f;
    f.fault = fault;
    f.injected = injected;
    f.failed = s.scalar("SELECT count(*) FROM collector_runs WHERE status = 'failed' AND instance = " + q(instance));
    f.recovered = true;
    for (const auto& c : kCollectors)
        f.recovered = f.recovered && s.scalar("SELECT count(*) FROM collector_runs WHERE status = 'ok' AND instance = " +
                                              q(instance) + " AND collector = " + q(c) + " AND started_at > " + q(clear)) > 0;
    auto r = s.rows("SELECT min((julianday(started_at) - julianday(" + q(clear) + ")) * 86400 + duration_ms / 1000) "
                    "FROM collector_runs WHERE status = 'ok' AND instance = " + q(instance) + " AND started_at > " + q(clear));
    if (!r.empty() && r[0][0] != "<NULL>") f.resume_wall_s = std::stod(r[0][0]);
    std::printf("SOURCE-FAULT\t%s\tinjected=%d\tfailed_runs=%lld\trecovered=%s\tresume_sim_s=%.1f\tresume_wall_s=%.2f\n",
                fault.c_str(), f.injected, f.failed, f.recovered ? "yes" : "no", f.resume_wall_s * kScale, f.resume_wall_s);
    std::fflush(stdout);
    return f;
}

// The checks every fault shares; `classes`: the error classes its failed runs may have.
void expect_survived(const StoreReader& s, const std::string& instance, const Before& before, const Figures& f,
                     const std::set<std::string>& classes, const std::string& log) {
    EXPECT_TRUE(f.recovered) << "every collector has an ok run after the clear\n" << log;
    EXPECT_GE(f.resume_wall_s, 0) << log;
    EXPECT_GE(s.scalar("SELECT count(*) FROM snapshots WHERE instance = " + q(instance) + " AND collected_at <= " +
                       q(before.last_collected)),
              before.snapshots)
        << "every snapshot collected before the fault is still in the store";
    EXPECT_GT(before.snapshots, 0) << "the agent collected before the fault\n" << log;
    for (const auto& row : s.rows("SELECT DISTINCT error_class FROM collector_runs WHERE status = 'failed' AND instance = " + q(instance)))
        EXPECT_TRUE(classes.count(row[0])) << "unexpected error class " << row[0] << "\n" << log;
    EXPECT_EQ(s.scalar("SELECT count(*) FROM collector_runs WHERE status NOT IN ('ok', 'failed') AND instance = " + q(instance)), 0)
        << "no collector was disabled or quarantined by a fault that passes";
}

// One instance, three collectors: warm up for a simulated minute, `inject`, wait `fault_for`, `clear`,
// collect for another 80 simulated seconds; then the common checks.
struct FaultRun {
    std::unique_ptr<SimProcess> sim;
    TempDir dir;
    std::string db, cfg;
    Before before;
    std::string inject_text, clear_text;
    std::string before_clear_text;  // just before the clear was sent (clear_text: once it was answered)
    std::string log;
};

template <typename Inject, typename Clear>
void run_fault(FaultRun& run, Inject inject, std::chrono::milliseconds fault_for, Clear clear,
               const std::map<std::string, std::string>& timeouts = {}, std::chrono::milliseconds after_clear = 4s) {
    if (!run.sim) run.sim = std::make_unique<SimProcess>(incident());
    run.db = run.dir.file("dmvlog.db");
    run.cfg = agent_config(run.dir, run.sim->port(), run.db, agent_section(run.dir) + collectors_section(timeouts));
    AgentProcess agent({"run", "--config", run.cfg, "--time-scale", fmt::format("{}", kScale)});
    std::this_thread::sleep_for(3s);
    run.before = before_fault(run.db, "sim");
    run.inject_text = wall_text();
    inject(*run.sim);
    std::this_thread::sleep_for(fault_for);
    run.before_clear_text = wall_text();
    clear(*run.sim);
    run.clear_text = wall_text();
    std::this_thread::sleep_for(after_clear);
    EXPECT_TRUE(agent.running()) << "the agent must not exit on a source fault\n" << agent.output();
    EXPECT_EQ(agent.stop(), 0) << agent.output();
    run.log = agent.output();
}

void control_ok(const SimProcess& sim, const std::string& cmd) {
    auto answer = sim.control(cmd);
    ASSERT_NE(answer.find("\"ok\": true"), std::string::npos) << cmd << " -> " << answer;
}

void clear_faults(SimProcess& sim) { control_ok(sim, R"({"cmd":"clear_faults"})"); }

TEST(SourceFaults, RefusedConnections) {
    FaultRun run;
    run_fault(
        run,
        [](SimProcess& sim) {
            control_ok(sim, R"({"cmd":"fault","kind":"refuse"})");
            control_ok(sim, R"({"cmd":"kill_connections"})");  // refuse only stops new connections
        },
        3s, clear_faults);
    StoreReader s(run.db);
    auto f = measure(s, "refuse", "sim", run.clear_text);
    EXPECT_GT(f.failed, 0) << run.log;
    expect_survived(s, "sim", run.before, f, {"transient"}, run.log);
    EXPECT_NE(run.log.find("cannot connect"), std::string::npos) << run.log;
    EXPECT_NE(run.log.find("connected again"), std::string::npos) << run.log;
}

TEST(SourceFaults, ServerThatNeverAnswersAtConnect) {
    FaultRun run;
    run_fault(
        run,
        [](SimProcess& sim) {
            control_ok(sim, R"({"cmd":"fault","kind":"never_answer"})");
            control_ok(sim, R"({"cmd":"kill_connections"})");
        },
        4s, clear_faults);
    StoreReader s(run.db);
    auto f = measure(s, "never_answer (hang at connect)", "sim", run.clear_text);
    EXPECT_GT(f.failed, 0) << run.log;
    expect_survived(s, "sim", run.before, f, {"transient"}, run.log);
}

TEST(SourceFaults, OneHungCollectorTimesOutWhileTheOthersRun) {
    FaultRun run;
    run_fault(
        run, [](SimProcess& sim) { control_ok(sim, R"({"cmd":"fault","kind":"hang","tag":"wait_stats"})"); }, 3s,
        clear_faults, {{"wait_stats", "1s"}});
    StoreReader s(run.db);
    auto f = measure(s, "hang of one collector's query", "sim", run.clear_text);
    expect_survived(s, "sim", run.before, f, {"transient"}, run.log);
    EXPECT_GT(s.scalar("SELECT count(*) FROM collector_runs WHERE status = 'failed' AND collector = 'wait_stats' "
                       "AND (error LIKE '%HYT00%' OR error LIKE '%timeout%')"),
              0)
        << "the hung query timed out\n" << run.log;
    EXPECT_EQ(s.scalar("SELECT count(*) FROM collector_runs WHERE status = 'failed' AND collector <> 'wait_stats'"), 0)
        << run.log;
    // requests_5s kept its 5 s rhythm during the simulated minute of the fault (12 runs; allow for timing).
    EXPECT_GE(s.scalar("SELECT count(*) FROM collector_runs WHERE status = 'ok' AND collector = 'requests_5s' AND started_at > " +
                       q(run.inject_text) + " AND started_at < " + q(run.clear_text)),
              7)
        << run.log;
    EXPECT_GE(s.scalar("SELECT count(*) FROM collector_runs WHERE status = 'ok' AND collector = 'perf_counters' AND started_at > " +
                       q(run.inject_text) + " AND started_at < " + q(run.clear_text)),
              3)
        << run.log;
}

TEST(SourceFaults, SlowAnswersWithinTheTimeoutStillArrive) {
    FaultRun run;
    run_fault(
        run, [](SimProcess& sim) { control_ok(sim, R"({"cmd":"fault","kind":"delay","seconds":1})"); }, 3s, clear_faults);
    StoreReader s(run.db);
    auto f = measure(s, "delay 1 s (within the timeout)", "sim", run.clear_text, 1);
    expect_survived(s, "sim", run.before, f, {}, run.log);
    EXPECT_EQ(f.failed, 0) << run.log;
    for (const auto& c : kCollectors)
        EXPECT_GT(s.scalar("SELECT count(*) FROM collector_runs WHERE status = 'ok' AND collector = " + q(c) +
                           " AND duration_ms >= 950 AND started_at > " + q(run.inject_text) + " AND started_at < " +
                           q(run.clear_text)),
                  0)
            << c << ": slow runs during the fault delivered their snapshots\n" << run.log;
}

TEST(SourceFaults, ConnectionDroppedMidResult) {
    FaultRun run;
    run_fault(
        run, [](SimProcess& sim) { control_ok(sim, R"({"cmd":"fault","kind":"drop","after_rows":1})"); }, 3s, clear_faults);
    StoreReader s(run.db);
    auto f = measure(s, "drop mid-result", "sim", run.clear_text);
    EXPECT_GT(f.failed, 0) << run.log;
    expect_survived(s, "sim", run.before, f, {"transient"}, run.log);
    // While every answer is cut, no run succeeds (a result cut short is never stored in part). The window
    // ends before the clear is sent: a run that starts while the simulator takes the clear may succeed.
    const auto during = "FROM collector_runs WHERE status = 'ok' AND julianday(started_at) > julianday(" + q(run.inject_text) +
                        ") + 0.5 / 86400 AND started_at < " + q(run.before_clear_text);
    EXPECT_EQ(s.scalar("SELECT count(*) " + during), 0)
        << "ok runs during the fault (collector, started_at, rows): "
        << [&] {
               std::string out;
               for (const auto& r : s.rows("SELECT collector, started_at, row_count " + during)) out += r[0] + " " + r[1] + " " + r[2] + "; ";
               return out;
           }()
        << "\n" << run.log;
}

// The login is refused for 40 simulated seconds (2 s wall). A refused login backs off at least 30 simulated
// seconds (collect/source.h), so there are at most three login attempts, each a failed run of class
// permission, 1.5 s of wall time apart or more; the ordinary backoff ([0, 1 s x 2^n]) would try at nearly
// every 5 s tick. The attempt after the clear logs in (30-60 simulated seconds after the second one).
TEST(SourceFaults, RejectedLogin) {
    FaultRun run;
    run_fault(
        run,
        [](SimProcess& sim) {
            control_ok(sim, R"({"cmd":"fault","kind":"login_fail","login":"dmvlog"})");
            control_ok(sim, R"({"cmd":"kill_connections"})");
        },
        2s, clear_faults, {}, 6s);
    StoreReader s(run.db);
    auto f = measure(s, "login rejected (18456)", "sim", run.clear_text);
    EXPECT_GT(f.failed, 0) << run.log;
    // A refused login is a permission problem an administrator fixes: failed (retried), never disabled.
    expect_survived(s, "sim", run.before, f, {"permission", "transient"}, run.log);
    auto attempts = s.rows("SELECT (julianday(started_at) - julianday(" + q(run.inject_text) + ")) * 86400 FROM collector_runs "
                           "WHERE status = 'failed' AND error_class = 'permission' AND error LIKE '%18456%' ORDER BY started_at");
    ASSERT_GE(attempts.size(), 1u) << "the refused login is recorded with its error number\n" << run.log;
    EXPECT_LE(attempts.size(), 3u) << "a refused login is retried at most every 30 simulated seconds\n" << run.log;
    for (std::size_t i = 1; i < attempts.size(); ++i)
        EXPECT_GE(std::stod(attempts[i][0]) - std::stod(attempts[i - 1][0]), 1.4)
            << "login attempts " << i << " and " << i + 1 << " are 30 simulated seconds apart or more\n" << run.log;
}

TEST(SourceFaults, RestartWithAnOutage) {
    FaultRun run;
    run_fault(
        run, [](SimProcess& sim) { control_ok(sim, R"({"cmd":"restart","outage_seconds":60})"); },
        3s, [](SimProcess&) {});  // the outage ends by itself after 60 simulated seconds
    StoreReader s(run.db);
    auto f = measure(s, "restart, 60 s outage", "sim", run.clear_text);
    EXPECT_GT(f.failed, 0) << run.log;
    expect_survived(s, "sim", run.before, f, {"transient"}, run.log);
    EXPECT_GE(s.scalar("SELECT count(DISTINCT sqlserver_start_time) FROM snapshots WHERE collector = 'wait_stats'"), 2)
        << "snapshots after the restart carry the new sqlserver_start_time";
}

// "Fails over" for the agent: the name in the connection string (here 127.0.0.1:port, in production an
// availability group listener or a DNS name) is answered by another server. FreeTDS has no failover partner
// option, so the agent does not pick a partner itself: it loses its connections, reconnects with backoff
// to the same address and goes on with whatever server answers there (a new sqlserver_start_time, its own
// counters). Here: the primary simulator stops, a second one (another server name, another start time)
// starts on the same port.
TEST(SourceFaults, FailoverToAnotherServerOnTheSameAddress) {
    TempDir scen;
    std::string partner_scenario;
    {
        std::ifstream in(scenarios_dir() + "/incident.toml");
        std::stringstream ss;
        ss << in.rdbuf();
        std::string text = ss.str();
        const std::string name = "server_name = \"SQLPROD02\"";
        auto pos = text.find(name);
        ASSERT_NE(pos, std::string::npos);
        text.replace(pos, name.size(), "server_name = \"SQLPROD02B\"\nuptime = \"2h\"");
        partner_scenario = scen.write("partner.toml", text);
    }
    FaultRun run;
    const int port = [&] {
        run.sim = std::make_unique<SimProcess>(incident());
        return run.sim->port();
    }();
    run_fault(
        run,
        [&](SimProcess& sim) {
            sim.stop();  // the primary goes away; its port refuses until the partner takes it
        },
        2s,
        [&](SimProcess&) {
            run.sim = std::make_unique<SimProcess>(incident(partner_scenario, {"--port", std::to_string(port)}));
            ASSERT_EQ(run.sim->port(), port);
        });
    StoreReader s(run.db);
    auto f = measure(s, "failover (partner on the same address)", "sim", run.clear_text);
    EXPECT_GT(f.failed, 0) << run.log;
    expect_survived(s, "sim", run.before, f, {"transient"}, run.log);
    auto starts = s.rows("SELECT DISTINCT sqlserver_start_time FROM snapshots WHERE collector = 'wait_stats' ORDER BY 1");
    EXPECT_GE(starts.size(), 2u) << "snapshots after the failover carry the partner's sqlserver_start_time";
}

// Two instances, one faulty: the other one's collectors run on, with no failure and at their rhythm.
TEST(SourceFaults, AFaultyInstanceDoesNotHoldUpTheOther) {
    SimProcess a(incident()), b(incident());
    TempDir dir;
    auto db = dir.file("dmvlog.db");
    auto pw = dir.write("password", "dmvlog\n");
    std::ostringstream c;
    for (auto [name, port] : {std::pair{"a", a.port()}, std::pair{"b", b.port()}})
        c << "[[instance]]\nname = \"" << name << "\"\nconnection = \"Driver=FreeTDS;Server=127.0.0.1;Port=" << port
          << ";TDS_Version=7.4;ClientCharset=UTF-8\"\nuser = \"dmvlog\"\npassword_file = \"" << pw
          << "\"\nlogin_timeout = \"3s\"\nca_file = \"" << test_ca_file() << "\"\n\n";
    c << "[store]\nkind = \"sqlite\"\npath = \"" << db << "\"\n\n" << agent_section(dir) << collectors_section();
    auto cfg = dir.write("dmvlog.toml", c.str());
    AgentProcess agent({"run", "--config", cfg, "--time-scale", fmt::format("{}", kScale)});
    std::this_thread::sleep_for(3s);
    auto before = before_fault(db, "a");
    auto inject = wall_text();
    control_ok(a, R"({"cmd":"fault","kind":"never_answer"})");
    control_ok(a, R"({"cmd":"kill_connections"})");
    std::this_thread::sleep_for(3s);
    clear_faults(a);
    auto clear = wall_text();
    std::this_thread::sleep_for(4s);
    EXPECT_TRUE(agent.running()) << agent.output();
    EXPECT_EQ(agent.stop(), 0) << agent.output();
    const auto log = agent.output();
    StoreReader s(db);
    auto f = measure(s, "one of two instances never answers", "a", clear);
    EXPECT_GT(f.failed, 0) << log;
    expect_survived(s, "a", before, f, {"transient"}, log);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM collector_runs WHERE instance = 'b' AND status <> 'ok'"), 0) << log;
    EXPECT_GE(s.scalar("SELECT count(*) FROM collector_runs WHERE instance = 'b' AND status = 'ok' AND collector = 'requests_5s' "
                       "AND started_at > " + q(inject) + " AND started_at < " + q(clear)),
              8)
        << "b's 5 s collector ran through a's simulated minute of fault\n" << log;
}

// kill -9 while a collector's query hangs; the restarted agent skips that collector (quarantined, with the
// reason, in the log, collector_runs and `dmvlog collectors`) while the others run, and runs it again once
// the quarantine (2 simulated minutes here) is over.
TEST(SourceFaults, AQueryThatHungWhenTheAgentDiedIsQuarantined) {
    SimProcess sim(incident());
    TempDir dir;
    auto db = dir.file("dmvlog.db");
    auto cfg = agent_config(dir, sim.port(), db, agent_section(dir, "2m") + collectors_section({{"wait_stats", "10s"}}));
    const auto marker = std::filesystem::path(dir.file("state")) / "running" / "sim@wait_stats";
    {
        AgentProcess agent({"run", "--config", cfg, "--time-scale", fmt::format("{}", kScale)});
        std::this_thread::sleep_for(2s);
        control_ok(sim, R"({"cmd":"fault","kind":"hang","tag":"wait_stats"})");
        std::this_thread::sleep_for(1500ms);
        ASSERT_TRUE(std::filesystem::exists(marker)) << "the hung query's marker\n" << agent.output();
        agent.kill_hard();
    }
    clear_faults(sim);
    const auto restart = wall_text();
    AgentProcess agent({"run", "--config", cfg, "--time-scale", fmt::format("{}", kScale)});
    std::this_thread::sleep_for(3s);  // one simulated minute: inside the quarantine
    auto list = run_dmvlog({"collectors", "--config", cfg});
    {
        StoreReader s(db);
        EXPECT_EQ(s.scalar("SELECT count(*) FROM collector_runs WHERE status = 'quarantined' AND collector = 'wait_stats' "
                           "AND error_class = 'quarantine' AND error LIKE 'the agent stopped while this query ran%skipped for 2m'"),
                  1)
            << agent.output();
        EXPECT_EQ(s.scalar("SELECT count(*) FROM collector_runs WHERE collector = 'wait_stats' AND status = 'ok' AND started_at > " +
                           q(restart)),
                  0)
            << "skipped while quarantined";
        EXPECT_GE(s.scalar("SELECT count(*) FROM collector_runs WHERE collector = 'requests_5s' AND status = 'ok' AND started_at > " +
                           q(restart)),
                  5)
            << "the other collectors run";
    }
    EXPECT_NE(list.output.find("quarantined: the agent stopped while this query ran"), std::string::npos) << list.output;
    EXPECT_NE(agent.output().find("collector wait_stats quarantined: the agent stopped while this query ran"), std::string::npos)
        << agent.output();
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(dir.file("state")) / "quarantine" / "sim@wait_stats"));
    std::this_thread::sleep_for(5s);  // past the two simulated minutes
    EXPECT_TRUE(agent.running());
    EXPECT_EQ(agent.stop(), 0) << agent.output();
    StoreReader s(db);
    auto first_ok = s.rows("SELECT min((julianday(started_at) - julianday(" + q(restart) + ")) * 86400) FROM collector_runs "
                           "WHERE collector = 'wait_stats' AND status = 'ok' AND started_at > " + q(restart));
    ASSERT_NE(first_ok.at(0).at(0), "<NULL>") << "wait_stats runs again after its quarantine\n" << agent.output();
    EXPECT_GE(std::stod(first_ok[0][0]), 5.0) << "not before the 2 simulated minutes (6 s of wall time)";
    EXPECT_NE(agent.output().find("quarantine over, runs again"), std::string::npos) << agent.output();
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(dir.file("state")) / "quarantine" / "sim@wait_stats"))
        << "a normal run forgets the quarantine";
    EXPECT_FALSE(std::filesystem::exists(marker));
}

}  // namespace
}  // namespace dmvlog::test

namespace dmvlog::test {
namespace {

// The extended-event collectors are quarantined like the others: a marker left by an agent that died while
// blocking_events read its session has it skipped after the restart (here `collect --once`), recorded once.
TEST(SourceFaults, AnEventReadThatWasRunningWhenTheAgentDiedIsQuarantined) {
    SimProcess sim(incident());
    TempDir dir;
    auto db = dir.file("dmvlog.db");
    auto cfg = agent_config(dir, sim.port(), db, agent_section(dir, "30m"));
    {
        collect::RunMarkers markers(dir.file("state"));
        markers.begin("sim", "blocking_events", "2026-12-02 10:00:00.0000000");   // as a dead agent left it
    }
    auto r = run_dmvlog({"collect", "--once", "--only", "blocking_events", "--config", cfg});
    StoreReader s(db);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM collector_runs WHERE collector = 'blocking_events' AND status = 'quarantined' "
                       "AND error LIKE 'the agent stopped while this query ran%skipped for 30m'"),
              1)
        << r.output;
    EXPECT_EQ(s.scalar("SELECT count(*) FROM collector_runs WHERE collector = 'blocking_events' AND status = 'ok'"), 0) << r.output;
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(dir.file("state")) / "quarantine" / "sim@blocking_events"));
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(dir.file("state")) / "running" / "sim@blocking_events"));
}

}  // namespace
}  // namespace dmvlog::test
