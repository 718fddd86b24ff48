// The blocking_events collector end to end: `dmvlog xe setup --apply` creates the session on the simulator,
// `dmvlog run` reads the incident's blocked-process reports and deadlock from the session's files, and the
// store's episodes match the simulator's ground truth; a restart of the agent neither loses nor repeats an
// event; `dmvlog check` shows the threshold and the session.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "agent/collect/declaration.h"
#include "agent/core/time_format.h"
#include "agent/odbc/connection.h"
#include "agent/store/store.h"
#include "support/agent_process.h"
#include "support/sim_clock.h"
#include "support/sim_process.h"

namespace dmvlog::test {
namespace {

using namespace std::chrono_literals;

constexpr int kThreshold = 5;         // seconds
constexpr int kInterval = 10;         // blocking_events' declared interval (seconds)
constexpr int kChainStart = 60;       // the incident's chain starts 1:00 after the scenario start

// Only the collectors this test needs (the others would only load two shared cores).
std::string config_extra() {
    std::string out;
    for (const auto& d : collect::load_builtin())
        if (d.name != "blocking_events" && d.name != "requests_5s" && d.name != "requests_1m")
            out += "[collectors." + d.name + "]\nenabled = false\n\n";
    return out;
}

std::int64_t seconds_between(const std::string& from_store_text, const std::string& to_store_text) {
    auto a = parse_timestamp(from_store_text), b = parse_timestamp(to_store_text);
    if (!a || !b) return 1'000'000;
    return (b->utc_ticks - a->utc_ticks) / kTicksPerSecond;
}

TEST(BlockingEvents, SetupRunRestartAndGroundTruth) {
    SimOptions o;
    o.args = {"--scenario", scenarios_dir() + "/incident.toml", "--seed", "11", "--speed", "10"};
    o.control = true;
    SimProcess sim(o);
    const auto scenario = nlohmann::json::parse(sim.control(R"({"cmd":"scenario"})"));
    const std::string start_iso = scenario.at("start").get<std::string>();
    const auto start = parse_timestamp(start_iso);
    ASSERT_TRUE(start) << start_iso;
    const std::string start_text = format_timestamp(*start);

    TempDir dir;
    auto db = dir.file("dmvlog.db");
    auto cfg = agent_config(dir, sim.port(), db, config_extra());

    // xe setup: prints the DDL, creates and starts the session, sets the threshold only when asked.
    auto setup = run_dmvlog({"xe", "setup", "--apply", "--set-threshold", std::to_string(kThreshold), "--config", cfg});
    ASSERT_EQ(setup.exit_code, 0) << setup.output << "\n" << sim.log_text().substr(0, 3000);
    EXPECT_NE(setup.output.find("CREATE EVENT SESSION [dmvlog_blocking] ON SERVER"), std::string::npos) << setup.output;
    EXPECT_NE(setup.output.find("'blocked process threshold (s)', 5"), std::string::npos) << setup.output;
    auto again = run_dmvlog({"xe", "setup", "--apply", "--config", cfg});   // idempotent
    EXPECT_EQ(again.exit_code, 0) << again.output;
    EXPECT_NE(again.output.find("left as it is"), std::string::npos) << again.output;

    auto check = run_dmvlog({"check", "--config", cfg});
    EXPECT_NE(check.output.find("blocked process threshold (s): 5"), std::string::npos) << check.output;
    EXPECT_NE(check.output.find("event session dmvlog_blocking: exists, running"), std::string::npos) << check.output;

    // First agent: until the chain has been seen, then stopped mid-stream.
    {
        AgentProcess agent({"run", "--config", cfg, "--time-scale", "10"});
        wait_for_offset(sim, 110, 60s);
        ASSERT_EQ(agent.stop(), 0) << agent.output();
    }
    {
        StoreReader s(db);
        ASSERT_GT(s.scalar("SELECT count(*) FROM blocked_process_reports"), 0);
        ASSERT_GT(s.scalar("SELECT count(*) FROM blocking_episodes"), 0);
        // Seen within threshold + poll interval + 5 s of the chain's start (simulated time: the server's clock
        // at collection, written in the same transaction as the reports and the episode).
        const std::string first = s.text("SELECT min(collected_at) FROM xe_events WHERE event_name = 'blocked_process_report'");
        const auto latency = seconds_between(start_text, first) - kChainStart;
        EXPECT_LE(latency, kThreshold + kInterval + 5) << "first report collected at " << first;
        std::printf("[ blocking ] chain start + %lld s: first report and episode in the store\n",
                    static_cast<long long>(latency));
    }
    std::this_thread::sleep_for(3s);   // ~30 simulated seconds of reports while no agent runs
    // Second agent: until every event of the incident's blocking and deadlock was written and read.
    {
        AgentProcess agent({"run", "--config", cfg, "--time-scale", "10"});
        wait_for_offset(sim, 270, 60s);
        sim.control(R"({"cmd":"pause"})");
        std::this_thread::sleep_for(3s);   // a few more runs read whatever is left
        ASSERT_EQ(agent.stop(), 0) << agent.output();
    }

    // What the session's files hold, straight from the simulator.
    std::set<std::int64_t> in_files;
    std::size_t file_events = 0;
    {
        odbc::Environment env;
        odbc::Connection conn(env, "test");
        conn.connect(sim.connection_string(), SimProcess::kUser, SimProcess::kPassword, 5s);
        auto sets = conn.query(
            "SELECT f.event_data FROM sys.fn_xe_file_target_read_file(N'/var/opt/mssql/log/dmvlog_blocking*.xel', NULL, NULL, NULL) AS f");
        ASSERT_EQ(sets.size(), 1u);
        for (const auto& row : sets[0].rows) {
            in_files.insert(store::text_hash(std::get<std::string>(row[0])));
            ++file_events;
        }
    }
    StoreReader s(db);
    ASSERT_GT(file_events, 100u);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM xe_events"), static_cast<long long>(file_events));
    EXPECT_EQ(s.scalar("SELECT count(*) FROM (SELECT content_hash FROM xe_events GROUP BY instance, content_hash HAVING count(*) > 1)"), 0);
    std::set<std::int64_t> stored;
    for (const auto& r : s.rows("SELECT content_hash FROM xe_events")) stored.insert(std::stoll(r[0]));
    EXPECT_EQ(stored, in_files) << "every event of the files once, none other";
    EXPECT_EQ(s.scalar("SELECT count(*) FROM xe_events WHERE parse_error IS NOT NULL"), 0);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM blocked_process_reports") + s.scalar("SELECT count(*) FROM deadlocks"),
              static_cast<long long>(file_events));
    EXPECT_EQ(s.scalar("SELECT count(*) FROM collector_runs WHERE collector = 'blocking_events' AND status <> 'ok'"), 0);

    // Ground truth of the whole incident.
    auto end_iso = format_timestamp(Timestamp{start->utc_ticks + 600 * kTicksPerSecond, 0, false});
    end_iso[10] = 'T';
    end_iso = end_iso.substr(0, 19) + "Z";
    auto truth = nlohmann::json::parse(sim.control(R"({"cmd":"truth","from":")" + start_iso + R"(","to":")" + end_iso + "\"}"));
    ASSERT_TRUE(truth.at("ok").get<bool>()) << truth.dump();
    const nlohmann::json* chain = nullptr;
    for (const auto& e : truth.at("blocking"))
        if (e.at("head_blocker").at("login") == "etl_loader") chain = &e;
    ASSERT_NE(chain, nullptr) << truth.dump().substr(0, 2000);
    const auto& head = chain->at("head_blocker");
    EXPECT_EQ(head.at("host"), "BATCH01");
    EXPECT_EQ(head.at("app"), "Nightly Loader");
    const auto spid = head.at("spid").get<long long>();
    auto eps = s.rows("SELECT head_spid, head_login, head_host, head_app, sessions_blocked, max_sessions_blocked, start_time, "
                      "end_time, live_snapshots FROM blocking_episodes WHERE head_login = 'etl_loader'");
    ASSERT_EQ(eps.size(), 1u) << "one episode, not split by the agent's restart";
    EXPECT_EQ(std::stoll(eps[0][0]), spid);
    EXPECT_EQ(eps[0][2], "BATCH01");
    EXPECT_EQ(eps[0][3], "Nightly Loader");
    EXPECT_EQ(std::stoll(eps[0][5]), chain->at("sessions_blocked_max").get<long long>());
    EXPECT_EQ(std::stoll(eps[0][4]), static_cast<long long>(chain->at("blocked_spids").size()));
    auto truth_start = parse_timestamp(chain->at("start").get<std::string>());
    ASSERT_TRUE(truth_start);
    EXPECT_LE(std::llabs(seconds_between(format_timestamp(*truth_start), eps[0][6])), 2) << eps[0][6];
    EXPECT_GT(std::stoll(eps[0][8]), 0) << "requests_5s saw the blocking live";

    // The deadlock, with its victim.
    ASSERT_EQ(truth.at("deadlocks").size(), 1u) << truth.dump().substr(0, 2000);
    const auto& dl = truth.at("deadlocks")[0];
    ASSERT_EQ(s.scalar("SELECT count(*) FROM deadlocks"), 1);
    std::string victims;
    for (const auto& v : dl.at("victims")) victims += (victims.empty() ? "" : ",") + std::to_string(v.get<long long>());
    EXPECT_EQ(s.text("SELECT victim_spids FROM deadlocks"), victims);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM deadlock_processes WHERE victim = 1"), static_cast<long long>(dl.at("victims").size()));
    EXPECT_EQ(s.scalar("SELECT count(*) FROM deadlock_processes"), static_cast<long long>(dl.at("processes").size()));
    EXPECT_GT(s.scalar("SELECT count(*) FROM deadlock_resources"), 0);
}

}  // namespace
}  // namespace dmvlog::test
