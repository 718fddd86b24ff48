#include "agent/blocking/episodes.h"

#include <gtest/gtest.h>

#include "agent/core/time_format.h"

namespace dmvlog::blocking {
namespace {

Timestamp at(int seconds) {
    Timestamp t = *parse_timestamp("2026-11-23 10:00:00");
    t.utc_ticks += static_cast<std::int64_t>(seconds) * kTicksPerSecond;
    return t;
}

ReportRow report(int t, std::int64_t loop, std::int64_t blocked, std::int64_t wait_ms, std::int64_t blocking,
                 const std::string& tran = "2026-11-23T09:59:00.000") {
    ReportRow r;
    r.event_time = at(t);
    r.monitor_loop = loop;
    r.blocked_spid = blocked;
    r.blocked_wait_ms = wait_ms;
    r.wait_resource = "KEY: 7:72057594045333504 (8194443284a0)";
    r.blocking_spid = blocking;
    r.blocking_last_tran_started = tran;
    r.blocking_status = "sleeping";
    r.blocking_login = "etl_loader";
    return r;
}

TEST(Episodes, AChainIsOneEpisodeUnderItsHeadBlocker) {
    // 60 is the head (sleeping); 61 waits on 60; 62 and 63 wait on 61. Three passes 5 s apart.
    std::vector<ReportRow> rows;
    for (int pass = 0; pass < 3; ++pass) {
        int t = 10 + pass * 5;
        rows.push_back(report(t, 100 + pass, 61, 6000 + pass * 5000, 60));
        rows.push_back(report(t, 100 + pass, 62, 5500 + pass * 5000, 61, "2026-11-23T09:59:50.000"));
        rows.push_back(report(t, 100 + pass, 63, 5200 + pass * 5000, 61, "2026-11-23T09:59:50.000"));
    }
    auto eps = build_episodes(rows);
    ASSERT_EQ(eps.size(), 1u);
    const auto& e = eps[0];
    EXPECT_EQ(e.head_spid, 60);
    EXPECT_EQ(e.head_login, "etl_loader");
    EXPECT_EQ(e.passes, 3);
    EXPECT_EQ(e.reports, 9);
    EXPECT_EQ(e.sessions_blocked, 3);
    EXPECT_EQ(e.max_sessions_blocked, 3);
    EXPECT_EQ(e.max_wait_ms, 16000);
    EXPECT_EQ(format_timestamp(e.start), format_timestamp(at(4)));   // 10 s - 6 s
    EXPECT_EQ(format_timestamp(e.end), format_timestamp(at(20)));
    EXPECT_DOUBLE_EQ(e.duration_s(), 16.0);
    EXPECT_DOUBLE_EQ(e.blocked_session_seconds, 16.0 + 15.5 + 15.2);
    EXPECT_EQ(e.resources, "KEY: 7:72057594045333504 (8194443284a0)");
}

TEST(Episodes, AGapOrANewTransactionStartsANewEpisode) {
    std::vector<ReportRow> rows = {report(10, 1, 61, 6000, 60), report(15, 2, 61, 11000, 60),
                                   // 10 minutes later the same session blocks again, in a new transaction
                                   report(615, 3, 70, 6000, 60, "2026-11-23T10:10:00.000"),
                                   report(620, 4, 70, 11000, 60, "2026-11-23T10:10:00.000")};
    auto eps = build_episodes(rows);
    ASSERT_EQ(eps.size(), 2u);
    EXPECT_EQ(eps[0].passes, 2);
    EXPECT_EQ(eps[1].passes, 2);
    EXPECT_EQ(eps[1].head_last_tran_started, "2026-11-23T10:10:00.000");
}

TEST(Episodes, TwoHeadsAtOnceAreTwoEpisodes) {
    std::vector<ReportRow> rows = {report(10, 1, 61, 6000, 60), report(10, 1, 81, 7000, 80, "2026-11-23T09:58:00.000"),
                                   report(15, 2, 61, 11000, 60), report(15, 2, 81, 12000, 80, "2026-11-23T09:58:00.000")};
    auto eps = build_episodes(rows);
    ASSERT_EQ(eps.size(), 2u);
    EXPECT_NE(eps[0].head_spid, eps[1].head_spid);
    for (const auto& e : eps) EXPECT_EQ(e.sessions_blocked, 1);
}

TEST(Episodes, ACycleDoesNotLoopForever) {
    // Deadlocked tasks can report each other before the deadlock monitor resolves them.
    std::vector<ReportRow> rows = {report(10, 1, 61, 6000, 62), report(10, 1, 62, 6000, 61)};
    auto eps = build_episodes(rows);
    EXPECT_FALSE(eps.empty());
}

TEST(Episodes, ReportsWithoutMonitorLoopGroupBySecond) {
    auto a = report(10, 0, 61, 6000, 60);
    auto b = report(10, 0, 62, 6000, 60);
    a.monitor_loop.reset();
    b.monitor_loop.reset();
    auto eps = build_episodes({a, b});
    ASSERT_EQ(eps.size(), 1u);
    EXPECT_EQ(eps[0].passes, 1);
    EXPECT_EQ(eps[0].max_sessions_blocked, 2);
}

}  // namespace
}  // namespace dmvlog::blocking
