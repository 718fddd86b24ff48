// digest::build (agent/digest/build.cpp) over a real store: blocked time from report waits, clipping at window
// boundaries (an episode crossing one counts once per window for its part inside it), the previous window,
// head blockers, statements, resources, deadlocks, the timeline, a quiet window.
#include "fixture.h"

namespace dmvlog::digest::testing {
namespace {

// 60 waits 10:00:00-10:02:00 and 61 waits 10:00:30-10:01:30, both behind 55.
class TwoWaits : public DigestFixture {
protected:
    void SetUp() override {
        DigestFixture::SetUp();
        threshold(5);
        std::vector<std::string> ev;
        Bpr a;
        a.blocked = 60;
        wait_reports(ev, a, "2026-11-23 10:00:00", "2026-11-23 10:02:00");
        Bpr b;
        b.blocked = 61;
        b.resource = "KEY: 7:72057594045595648 (aaaaaaaaaaaa)";
        b.blocked_sql = "DELETE FROM dbo.Orders WHERE OrderId = @id";
        wait_reports(ev, b, "2026-11-23 10:00:30", "2026-11-23 10:01:30");
        write_events(ev);
    }
};

TEST_F(TwoWaits, HeadlineFromWaitIntervals) {
    auto d = digest("2026-11-23 10:00:00", "2026-11-23 11:00:00");
    ASSERT_EQ(d.instances.size(), 1u);
    const auto& x = d.instances[0];
    EXPECT_EQ(x.instance, "prod1");
    EXPECT_EQ(x.source, "blocked_process_report");
    ASSERT_TRUE(x.threshold_s);
    EXPECT_EQ(*x.threshold_s, 5);
    EXPECT_FALSE(x.quiet());
    EXPECT_EQ(x.headline.episodes, 1);
    EXPECT_DOUBLE_EQ(x.headline.blocked_session_seconds, 180.0);   // 120 + 60
    EXPECT_DOUBLE_EQ(x.headline.longest_episode_s, 120.0);
    EXPECT_EQ(x.headline.max_sessions_blocked, 2);
    ASSERT_TRUE(x.headline.worst_at);
    EXPECT_EQ(*x.headline.worst_at, ticks("2026-11-23 10:00:30"));
    EXPECT_DOUBLE_EQ(x.headline.max_wait_s, 120.0);
    EXPECT_EQ(x.headline.deadlocks, 0);

    ASSERT_EQ(x.head_blockers.size(), 1u);
    const auto& h = x.head_blockers[0];
    EXPECT_EQ(h.login, "etl_loader");
    EXPECT_EQ(h.host, "BATCH01");
    EXPECT_EQ(h.app, "Nightly Loader");
    EXPECT_EQ(h.spid, 55);
    EXPECT_EQ(h.status, "sleeping");
    EXPECT_EQ(h.statement, "BEGIN TRAN; UPDATE dbo.Orders SET Status = 1");
    EXPECT_EQ(h.episodes, 1);
    EXPECT_EQ(h.sessions_blocked, 2);
    EXPECT_DOUBLE_EQ(h.blocked_session_seconds, 180.0);
    ASSERT_TRUE(h.open_transaction_s);
    EXPECT_DOUBLE_EQ(*h.open_transaction_s, 180.0);   // began 09:59:00, episode's last report 10:02:00
    EXPECT_FALSE(h.open_transaction_at_least);

    ASSERT_EQ(x.blocked_statements.size(), 2u);
    EXPECT_EQ(x.blocked_statements[0].statement, "UPDATE dbo.Orders SET Status = 2 WHERE OrderId = @id");
    EXPECT_DOUBLE_EQ(x.blocked_statements[0].blocked_session_seconds, 120.0);
    EXPECT_EQ(x.blocked_statements[0].login, "app_oltp");
    EXPECT_DOUBLE_EQ(x.blocked_statements[1].blocked_session_seconds, 60.0);

    ASSERT_EQ(x.resources.size(), 2u);
    EXPECT_EQ(x.resources[0].resource, "KEY: 7:72057594045595648 (8194443284a0)");
    EXPECT_EQ(x.resources[0].type, "key");
    EXPECT_EQ(x.resources[0].lock_mode, "U");
    ASSERT_EQ(x.objects.size(), 1u);
    EXPECT_EQ(x.objects[0].resources, 2);
    EXPECT_EQ(x.objects[0].sessions, 2);
    EXPECT_DOUBLE_EQ(x.objects[0].blocked_session_seconds, 180.0);

    ASSERT_EQ(x.episodes.size(), 1u);
    EXPECT_EQ(x.episodes[0].start, ticks("2026-11-23 10:00:00"));
    EXPECT_EQ(x.episodes[0].end, ticks("2026-11-23 10:02:00"));
    EXPECT_FALSE(x.episodes[0].began_before);
    EXPECT_FALSE(x.episodes[0].continues_after);
}

TEST_F(TwoWaits, TimelineHasTheMostSessionsPerBucket) {
    auto d = digest("2026-11-23 10:00:00", "2026-11-23 11:00:00");
    const auto& x = d.instances[0];
    ASSERT_EQ(x.timeline.size(), 60u);
    EXPECT_EQ(x.bucket_ticks, kTicksPerMinute);
    EXPECT_EQ(x.timeline[0], 2);   // 10:00-10:01: both from 10:00:30
    EXPECT_EQ(x.timeline[1], 2);   // 10:01-10:02: both until 10:01:30
    EXPECT_EQ(x.timeline[2], 0);   // 60's last report is 10:02:00, the end of its wait
    EXPECT_EQ(x.timeline[30], 0);
}

TEST_F(TwoWaits, AnEpisodeAcrossABoundaryCountsOncePerWindowForItsPart) {
    auto first = digest("2026-11-23 09:00:00", "2026-11-23 10:01:00");
    auto second = digest("2026-11-23 10:01:00", "2026-11-23 11:00:00");
    const auto& a = first.instances[0].headline;
    const auto& b = second.instances[0].headline;
    EXPECT_EQ(a.episodes, 1);
    EXPECT_EQ(b.episodes, 1);
    EXPECT_DOUBLE_EQ(a.blocked_session_seconds, 60.0 + 30.0);   // 60: 10:00-10:01; 61: 10:00:30-10:01
    EXPECT_DOUBLE_EQ(b.blocked_session_seconds, 60.0 + 30.0);   // 60: 10:01-10:02; 61: 10:01-10:01:30
    EXPECT_DOUBLE_EQ(a.blocked_session_seconds + b.blocked_session_seconds, 180.0);
    EXPECT_DOUBLE_EQ(a.longest_episode_s, 60.0);
    EXPECT_DOUBLE_EQ(b.longest_episode_s, 60.0);
    EXPECT_TRUE(first.instances[0].episodes[0].continues_after);
    EXPECT_TRUE(second.instances[0].episodes[0].began_before);
    EXPECT_DOUBLE_EQ(b.max_wait_s, 120.0);
    EXPECT_DOUBLE_EQ(a.max_wait_s, 60.0);   // 60's wait had lasted 60 s at the first window's end
}

TEST_F(TwoWaits, ThePreviousWindowIsComparedWhenTheStoreReachesBack) {
    auto d = digest("2026-11-23 10:30:00", "2026-11-23 11:30:00");
    const auto& x = d.instances[0];
    EXPECT_TRUE(x.quiet());
    EXPECT_TRUE(x.previous_covered);   // server_info at 08:00 is the first run
    EXPECT_EQ(x.previous.episodes, 1);
    EXPECT_DOUBLE_EQ(x.previous.blocked_session_seconds, 180.0);

    auto early = digest("2026-11-23 08:30:00", "2026-11-23 09:30:00");
    EXPECT_FALSE(early.instances[0].previous_covered);
}

TEST_F(TwoWaits, AQuietWindowIsOneLineNamingTheWindowAndTheThreshold) {
    auto d = digest("2026-11-23 11:00:00", "2026-11-23 12:00:00");
    const auto& x = d.instances[0];
    EXPECT_TRUE(x.quiet());
    query::Zone utc;
    auto line = quiet_line(x, d.window, utc);
    EXPECT_EQ(line, "prod1: no blocking and no deadlocks in 2026-11-23 11:00–12:00 UTC (blocked process threshold 5 s)");
    auto text = render_text(d, utc, false);
    EXPECT_EQ(text, line + "\n");
}

TEST_F(DigestFixture, TwoEpisodesOfOneHeadAndADeadlock) {
    threshold(10);
    std::vector<std::string> ev;
    Bpr a;
    wait_reports(ev, a, "2026-11-23 10:10:00", "2026-11-23 10:10:30");
    wait_reports(ev, a, "2026-11-23 10:20:00", "2026-11-23 10:21:00");   // minutes later: another episode
    Bpr other;
    other.blocking = 77;
    other.blocked = 80;
    other.head_login = "reporting";
    other.head_host = "BI01";
    other.head_app = "Excel";
    other.head_sql = "SELECT * FROM dbo.Orders WITH (HOLDLOCK)";
    wait_reports(ev, other, "2026-11-23 10:40:00", "2026-11-23 10:40:20");
    ev.push_back(deadlock_xml("2026-11-23 10:30:00"));
    write_events(ev);

    auto d = digest("2026-11-23 10:00:00", "2026-11-23 11:00:00");
    const auto& x = d.instances[0];
    EXPECT_EQ(x.headline.episodes, 3);
    EXPECT_DOUBLE_EQ(x.headline.blocked_session_seconds, 30.0 + 60.0 + 20.0);
    EXPECT_EQ(x.headline.max_sessions_blocked, 1);
    EXPECT_EQ(x.headline.deadlocks, 1);
    ASSERT_EQ(x.head_blockers.size(), 2u);
    EXPECT_EQ(x.head_blockers[0].login, "etl_loader");
    EXPECT_EQ(x.head_blockers[0].episodes, 2);
    EXPECT_DOUBLE_EQ(x.head_blockers[0].blocked_session_seconds, 90.0);
    EXPECT_DOUBLE_EQ(x.head_blockers[0].longest_episode_s, 60.0);
    EXPECT_EQ(x.head_blockers[1].login, "reporting");
    EXPECT_EQ(x.head_blockers[1].episodes, 1);

    ASSERT_EQ(x.deadlocks.size(), 1u);
    const auto& dl = x.deadlocks[0];
    EXPECT_EQ(dl.at, ticks("2026-11-23 10:30:00"));
    ASSERT_EQ(dl.victim_spids.size(), 1u);
    EXPECT_EQ(dl.victim_spids[0], 58);
    EXPECT_GE(dl.processes.size(), 2u);
    bool victim_has_statement = false;
    for (const auto& p : dl.processes)
        if (p.victim && !p.statement.empty()) victim_has_statement = true;
    EXPECT_TRUE(victim_has_statement);
    EXPECT_FALSE(dl.objects.empty());
}

TEST_F(DigestFixture, ASleepingHeadWithoutLastTranStartedGetsALowerBound) {
    threshold(5);
    std::vector<std::string> ev;
    Bpr a;
    a.head_tran_started = "";   // as SQL Server writes a sleeping blocker: lastbatchcompleted 09:58:30, no lasttranstarted
    wait_reports(ev, a, "2026-11-23 10:00:00", "2026-11-23 10:01:00");
    write_events(ev);
    auto d = digest("2026-11-23 10:00:00", "2026-11-23 11:00:00");
    const auto& h = d.instances[0].head_blockers.at(0);
    ASSERT_TRUE(h.open_transaction_s);
    EXPECT_TRUE(h.open_transaction_at_least);
    EXPECT_DOUBLE_EQ(*h.open_transaction_s, 150.0);   // 09:58:30 to the episode's end at 10:01:00
    EXPECT_NE(render_text(d, query::Zone(), false).find("≥ 2m 30s"), std::string::npos);
}

TEST_F(DigestFixture, WithoutBlockedProcessReportsTheDigestSaysSo) {
    write("server_info", "2026-11-23 09:00:00", {{{"blocked_process_threshold_s", i(0)}}});
    auto d = digest("2026-11-23 10:00:00", "2026-11-23 11:00:00");
    ASSERT_EQ(d.instances.size(), 1u);
    const auto& x = d.instances[0];
    EXPECT_TRUE(x.quiet());
    EXPECT_EQ(x.source, "");
    ASSERT_FALSE(x.notes.empty());
    EXPECT_NE(x.notes[0].find("no blocked-process reports were collected"), std::string::npos) << x.notes[0];
    query::Zone utc;
    EXPECT_NE(quiet_line(x, d.window, utc).find("no blocked-process reports are collected"), std::string::npos);
}

TEST_F(DigestFixture, InstancesAreSeparate) {
    threshold(5, "2026-11-23 08:00:00", "prod1");
    threshold(5, "2026-11-23 08:00:00", "prod2");
    std::vector<std::string> ev;
    wait_reports(ev, Bpr{}, "2026-11-23 10:00:00", "2026-11-23 10:00:30");
    write_events(ev, "prod2");
    auto d = digest("2026-11-23 10:00:00", "2026-11-23 11:00:00");
    ASSERT_EQ(d.instances.size(), 2u);
    EXPECT_EQ(d.instances[0].instance, "prod1");
    EXPECT_TRUE(d.instances[0].quiet());
    EXPECT_EQ(d.instances[1].instance, "prod2");
    EXPECT_EQ(d.instances[1].headline.episodes, 1);
    EXPECT_DOUBLE_EQ(d.instances[1].headline.blocked_session_seconds, 30.0);
}

}  // namespace
}  // namespace dmvlog::digest::testing

namespace dmvlog::digest::testing {
namespace {

// The night the clocks go back in Berlin (2026-10-25 03:00 CEST -> 02:00 CET, at 01:00 UTC) has two clock
// hours 02:00-03:00; a wait across the change counts 30 s in each, and each window says which hour it is.
TEST_F(DigestFixture, AWaitAcrossTheDaylightSavingChangeCountsOnceInEachHour) {
    threshold(5, "2026-10-24 20:00:00");
    std::vector<std::string> ev;
    Bpr a;
    a.head_tran_started = "2026-10-25T00:59:00.000";
    wait_reports(ev, a, "2026-10-25 00:59:30", "2026-10-25 01:00:30");
    write_events(ev);
    query::Zone berlin("Europe/Berlin");
    auto w1 = last_complete_hour(berlin, ticks("2026-10-25 01:10:00"));
    auto w2 = last_complete_hour(berlin, ticks("2026-10-25 02:10:00"));
    Options o;
    o.zone = &berlin;
    o.window = w1;
    auto d1 = build(store->handle(), o);
    o.window = w2;
    auto d2 = build(store->handle(), o);
    EXPECT_DOUBLE_EQ(d1.instances[0].headline.blocked_session_seconds, 30.0);
    EXPECT_DOUBLE_EQ(d2.instances[0].headline.blocked_session_seconds, 30.0);
    EXPECT_EQ(d1.instances[0].headline.episodes, 1);
    EXPECT_EQ(d2.instances[0].headline.episodes, 1);
    EXPECT_DOUBLE_EQ(d2.instances[0].previous.blocked_session_seconds, 30.0);   // the previous window is w1
    EXPECT_NE(render_text(d1, berlin, false).find("2026-10-25 02:00 CEST–02:00 CET"), std::string::npos);
    EXPECT_NE(render_text(d2, berlin, false).find("2026-10-25 02:00–03:00 CET"), std::string::npos);
}

}  // namespace
}  // namespace dmvlog::digest::testing
