// The XE fallbacks end to end (docs/xe.md, "Fallbacks"): dmvlog's own event session is never created, a DBA's
// ring_buffer session (blocked_process) runs on the simulator, and `dmvlog run`, stopped and started again,
// still stores the incident's blocking chain (its episode as the simulator's ground truth has it) and the
// deadlock once each, from the ring buffer and system_health's event files; `dmvlog check` and
// `dmvlog collectors` say which source is in use. Without the ring buffer, the deadlock comes from system_health.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "agent/collect/declaration.h"
#include "agent/core/time_format.h"
#include "agent/odbc/connection.h"
#include "support/agent_process.h"
#include "support/sim_clock.h"
#include "support/sim_process.h"

namespace dmvlog::test {
namespace {

using namespace std::chrono_literals;

// Only the XE collectors and requests_5s (the others would only load two shared cores); extra disables more.
std::string config_extra(const std::string& also_disabled = "") {
    std::string out;
    for (const auto& d : collect::load_builtin())
        if ((!d.is_xe() && d.name != "requests_5s") || d.name == also_disabled)
            out += "[collectors." + d.name + "]\nenabled = false\n\n";
    return out;
}

nlohmann::json truth_of(const SimProcess& sim) {
    const auto scenario = nlohmann::json::parse(sim.control(R"({"cmd":"scenario"})"));
    const std::string start_iso = scenario.at("start").get<std::string>();
    auto start = parse_timestamp(start_iso);
    auto end_iso = format_timestamp(Timestamp{start->utc_ticks + 600 * kTicksPerSecond, 0, false});
    end_iso[10] = 'T';
    end_iso = end_iso.substr(0, 19) + "Z";
    return nlohmann::json::parse(sim.control(R"({"cmd":"truth","from":")" + start_iso + R"(","to":")" + end_iso + "\"}"));
}

std::string victims_of(const nlohmann::json& deadlock) {
    std::string victims;
    for (const auto& v : deadlock.at("victims")) victims += (victims.empty() ? "" : ",") + std::to_string(v.get<long long>());
    return victims;
}

TEST(BlockingFallbacks, RingBufferAndSystemHealthWithoutTheDmvlogSession) {
    SimOptions o;
    o.args = {"--scenario", scenarios_dir() + "/incident.toml", "--seed", "11", "--speed", "10"};
    o.control = true;
    SimProcess sim(o);
    auto created = nlohmann::json::parse(
        sim.control(R"({"cmd":"xe_session","action":"create_ring_buffer","name":"blocked_process","max_events":5000})"));
    ASSERT_TRUE(created.at("ok").get<bool>()) << created.dump();

    TempDir dir;
    auto db = dir.file("dmvlog.db");
    auto cfg = agent_config(dir, sim.port(), db, config_extra());

    auto check = run_dmvlog({"check", "--config", cfg});
    EXPECT_NE(check.output.find("event session dmvlog_blocking: does not exist"), std::string::npos) << check.output;
    EXPECT_NE(check.output.find("idle: session dmvlog_blocking does not exist"), std::string::npos) << check.output;
    EXPECT_NE(check.output.find("source: ring_buffer of session blocked_process (session dmvlog_blocking does not exist)"),
              std::string::npos) << check.output;
    EXPECT_NE(check.output.find("source: event files of session system_health"), std::string::npos) << check.output;

    // Two agent runs, the first stopped in the middle of the chain.
    {
        AgentProcess agent({"run", "--config", cfg, "--time-scale", "10"});
        wait_for_offset(sim, 150, 60s);
        ASSERT_EQ(agent.stop(), 0) << agent.output();
    }
    std::this_thread::sleep_for(2s);
    {
        AgentProcess agent({"run", "--config", cfg, "--time-scale", "10"});
        wait_for_offset(sim, 340, 60s);   // the deadlock (3:20) is in system_health's files 120 s later
        sim.control(R"({"cmd":"pause"})");
        std::this_thread::sleep_for(5s);   // a few more runs read whatever is left
        ASSERT_EQ(agent.stop(), 0) << agent.output();
    }

    // What the ring buffer holds, straight from the simulator.
    long long in_ring = 0;
    {
        odbc::Environment env;
        odbc::Connection conn(env, "test");
        conn.connect(sim.connection_string(), SimProcess::kUser, SimProcess::kPassword, 5s);
        auto sets = conn.query(
            "SELECT CAST(t.target_data AS nvarchar(max)) AS target_data FROM sys.dm_xe_session_targets AS t "
            "JOIN sys.dm_xe_sessions AS s ON s.address = t.event_session_address "
            "WHERE s.name = N'blocked_process' AND t.target_name = N'ring_buffer'");
        ASSERT_EQ(sets.size(), 1u);
        ASSERT_EQ(sets[0].rows.size(), 1u);
        const auto& xml = std::get<std::string>(sets[0].rows[0][0]);
        for (auto pos = xml.find("<event name=\"blocked_process_report\""); pos != std::string::npos;
             pos = xml.find("<event name=\"blocked_process_report\"", pos + 1))
            ++in_ring;
    }
    StoreReader s(db);
    ASSERT_GT(in_ring, 300);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM blocked_process_reports"), in_ring) << "every report of the ring buffer once";
    EXPECT_EQ(s.scalar("SELECT count(*) FROM (SELECT 1 FROM blocked_process_reports "
                       "GROUP BY instance, event_time, monitor_loop, blocked_spid, blocked_ecid HAVING count(*) > 1)"), 0);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM (SELECT content_hash FROM xe_events GROUP BY instance, content_hash HAVING count(*) > 1)"), 0);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM xe_events WHERE parse_error IS NOT NULL"), 0);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM collector_runs WHERE status <> 'ok'"), 0)
        << s.text("SELECT collector || ': ' || error FROM collector_runs WHERE status <> 'ok'");
    // reports sharing a timestamp (one monitor pass) all arrived
    EXPECT_GT(s.scalar("SELECT max(n) FROM (SELECT count(*) AS n FROM blocked_process_reports GROUP BY event_time)"), 10);
    EXPECT_EQ(s.scalar("SELECT possible_losses FROM xe_bookmarks WHERE source = 'blocked_process'"), 0);
    EXPECT_NE(s.text("SELECT event_time FROM xe_bookmarks WHERE source = 'blocked_process'"), "");
    EXPECT_NE(s.text("SELECT file_name FROM xe_bookmarks WHERE source = 'system_health'"), "") << "system_health was read";
    EXPECT_GT(s.scalar("SELECT count(*) FROM collector_runs WHERE collector = 'blocking_events' AND "
                       "error LIKE 'idle: session dmvlog_blocking does not exist%'"), 0);

    auto truth = truth_of(sim);
    ASSERT_TRUE(truth.at("ok").get<bool>()) << truth.dump();
    const nlohmann::json* chain = nullptr;
    for (const auto& e : truth.at("blocking"))
        if (e.at("head_blocker").at("login") == "etl_loader") chain = &e;
    ASSERT_NE(chain, nullptr);
    auto eps = s.rows("SELECT head_spid, head_host, sessions_blocked, max_sessions_blocked "
                      "FROM blocking_episodes WHERE head_login = 'etl_loader'");
    ASSERT_EQ(eps.size(), 1u) << "one episode across the agent's restart";
    EXPECT_EQ(std::stoll(eps[0][0]), chain->at("head_blocker").at("spid").get<long long>());
    EXPECT_EQ(eps[0][1], "BATCH01");
    EXPECT_EQ(std::stoll(eps[0][3]), chain->at("sessions_blocked_max").get<long long>());
    EXPECT_EQ(std::stoll(eps[0][2]), static_cast<long long>(chain->at("blocked_spids").size()));
    // lasttranstarted (the server's local time in the report) is stored as UTC in the store's time format
    const auto started = s.text("SELECT blocked_last_tran_started FROM blocked_process_reports "
                                "WHERE blocked_last_tran_started IS NOT NULL LIMIT 1");
    EXPECT_EQ(started.size(), 27u) << started;
    EXPECT_TRUE(parse_timestamp(started)) << started;

    // The deadlock: in the ring buffer and in system_health's files, stored once.
    ASSERT_EQ(truth.at("deadlocks").size(), 1u);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM deadlocks"), 1);
    EXPECT_EQ(s.text("SELECT victim_spids FROM deadlocks"), victims_of(truth.at("deadlocks")[0]));

    auto listed = run_dmvlog({"collectors", "--config", cfg});
    EXPECT_NE(listed.output.find("source: ring_buffer of session blocked_process"), std::string::npos) << listed.output;
}

TEST(BlockingFallbacks, DeadlockFromSystemHealthAlone) {
    SimOptions o;
    o.args = {"--scenario", scenarios_dir() + "/incident.toml", "--seed", "11", "--speed", "20"};
    o.control = true;
    SimProcess sim(o);
    TempDir dir;
    auto db = dir.file("dmvlog.db");
    auto cfg = agent_config(dir, sim.port(), db, config_extra("requests_5s"));
    {
        AgentProcess agent({"run", "--config", cfg, "--time-scale", "20"});
        wait_for_offset(sim, 340, 60s);
        sim.control(R"({"cmd":"pause"})");
        std::this_thread::sleep_for(3s);
        ASSERT_EQ(agent.stop(), 0) << agent.output();
    }
    StoreReader s(db);
    auto truth = truth_of(sim);
    ASSERT_EQ(truth.at("deadlocks").size(), 1u);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM deadlocks"), 1);
    EXPECT_EQ(s.text("SELECT victim_spids FROM deadlocks"), victims_of(truth.at("deadlocks")[0]));
    EXPECT_EQ(s.scalar("SELECT count(*) FROM xe_events WHERE source = 'system_health'"), 1) << "the other events passed over";
    EXPECT_EQ(s.scalar("SELECT count(*) FROM blocked_process_reports"), 0);
    EXPECT_GT(s.scalar("SELECT count(*) FROM collector_runs WHERE collector = 'blocking_events_ring_buffer' AND "
                       "error LIKE 'idle: session dmvlog_blocking does not exist, and session blocked_process%'"), 0);
    EXPECT_EQ(s.scalar("SELECT count(*) FROM collector_runs WHERE status <> 'ok'"), 0)
        << s.text("SELECT collector || ': ' || error FROM collector_runs WHERE status <> 'ok'");
}

}  // namespace
}  // namespace dmvlog::test
