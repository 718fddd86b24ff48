// running-at, requests and blocking on hand-built requests snapshots.
#include "tests/unit/query/fixture.h"

#include "agent/query/blocking.h"

namespace dmvlog::query::testing {
namespace {

Cols req(int session, const std::string& start, std::int64_t elapsed_ms, int blocked_by = 0,
         const std::string& wait = "", const std::string& text = "SELECT 1", std::int64_t cpu = 10) {
    Cols c = {{"session_id", i(session)},       {"request_id", i(0)},
              {"start_time", ts(start)},        {"status", s(blocked_by ? "suspended" : "running")},
              {"command", s("SELECT")},         {"database_name", s("Sales")},
              {"blocking_session_id", i(blocked_by)}, {"wait_time", i(blocked_by ? elapsed_ms : 0)},
              {"cpu_time", i(cpu)},             {"total_elapsed_time", i(elapsed_ms)},
              {"logical_reads", i(elapsed_ms)}, {"login_name", s("app")},
              {"host_name", s("web1")},         {"program_name", s("shop")},
              {"statement_text", s(text)}};
    if (!wait.empty()) c["wait_type"] = s(wait);
    return c;
}

using RequestsTest = StoreFixture;

TEST_F(RequestsTest, RunningAtShowsTheNearestSnapshotsOnEachSideAndTheChains) {
    write("requests_5s", "2026-03-10 10:00:00", {req(60, "2026-03-10 09:59:58", 2000)});
    write("requests_5s", "2026-03-10 10:00:05",
          {req(51, "2026-03-10 10:00:01", 4000, 50, "LCK_M_X", "UPDATE t SET a = 1"),
           req(52, "2026-03-10 10:00:02", 3000, 51, "LCK_M_S", "SELECT * FROM t")});
    write("requests_5s", "2026-03-10 10:00:10", {req(51, "2026-03-10 10:00:01", 9000, 50, "LCK_M_X")});
    write("requests_1m", "2026-03-10 10:00:00", {req(70, "2026-03-10 09:30:00", 1'800'000)});
    auto r = ask_at("running-at", "2026-03-10 10:00:06");
    const auto& running = table(r, "running");
    // 5s: 10:00:05 (before) and 10:00:10 (after); 1m: 10:00:00 (before), nothing after
    EXPECT_EQ(running.rows.size(), 2u + 1u + 1u);
    EXPECT_TRUE(has_note(r, "requests_5s: snapshots at"));
    EXPECT_TRUE(has_note(r, "no requests_1m snapshot") == false);
    const auto& chains = table(r, "blocking_chains");
    ASSERT_EQ(chains.rows.size(), 3u);  // head 50 (no request), 51, 52
    EXPECT_EQ(std::get<std::string>(chains.rows[0][1]), "50");
    EXPECT_EQ(std::get<std::string>(chains.rows[0][3]), "(no request: idle, open transaction?)");
    EXPECT_EQ(std::get<std::int64_t>(chains.rows[1][0]), 1);
    EXPECT_EQ(std::get<std::int64_t>(chains.rows[2][0]), 2);
    EXPECT_EQ(std::get<std::string>(chains.rows[2][10]), "SELECT * FROM t");
}

TEST_F(RequestsTest, RequestLifetimesMergeSnapshotsOfBothCollectors) {
    write("requests_5s", "2026-03-10 10:00:05", {req(51, "2026-03-10 10:00:01", 4000, 50, "LCK_M_X"), req(50, "2026-03-10 10:00:00", 5000)});
    write("requests_5s", "2026-03-10 10:00:10", {req(51, "2026-03-10 10:00:01", 9000, 50, "LCK_M_X"), req(50, "2026-03-10 10:00:00", 10000)});
    write("requests_1m", "2026-03-10 10:01:00", {req(51, "2026-03-10 10:00:01", 59000, 0, "PAGEIOLATCH_SH")});
    // same session, a new request (another start_time)
    write("requests_1m", "2026-03-10 10:02:00", {req(51, "2026-03-10 10:01:30", 30000)});
    auto r = ask("requests", "2026-03-10 10:00:00", "2026-03-10 10:05:00");
    const auto& t = table(r, "requests");
    ASSERT_EQ(t.rows.size(), 3u);
    const auto& top = t.rows[0];  // longest first
    EXPECT_EQ(std::get<std::int64_t>(top[static_cast<std::size_t>(t.col("session_id"))]), 51);
    EXPECT_DOUBLE_EQ(std::get<double>(top[static_cast<std::size_t>(t.col("elapsed_s"))]), 59.0);
    EXPECT_EQ(std::get<std::int64_t>(top[static_cast<std::size_t>(t.col("snapshots"))]), 3);
    EXPECT_EQ(std::get<std::string>(top[static_cast<std::size_t>(t.col("waits"))]), "LCK_M_X x2, PAGEIOLATCH_SH x1");
    EXPECT_EQ(std::get<std::string>(top[static_cast<std::size_t>(t.col("blocked_by"))]), "50");
    EXPECT_EQ(std::get<std::string>(top[static_cast<std::size_t>(t.col("source"))]), "5s+1m");
    EXPECT_EQ(std::get<TimeCell>(top[static_cast<std::size_t>(t.col("first_seen"))]).utc_ticks, ticks("2026-03-10 10:00:05"));
    EXPECT_EQ(std::get<TimeCell>(top[static_cast<std::size_t>(t.col("last_seen"))]).utc_ticks, ticks("2026-03-10 10:01:00"));
    EXPECT_EQ(cell<std::string>(t, "session_id", Cell{std::int64_t{50}}, "blocking"), "51");
}

TEST_F(RequestsTest, BlockingEpisodesFollowConsecutiveSnapshots) {
    const char* times[] = {"10:00:00", "10:00:05", "10:00:10", "10:00:15", "10:00:20", "10:00:25", "10:00:30"};
    for (int k = 0; k < 7; ++k) {
        std::vector<Cols> rows;
        if (k >= 1 && k <= 3) rows = {req(51, "2026-03-10 10:00:00", 3000 + k * 5000, 50, "LCK_M_X"),
                                      req(52, "2026-03-10 10:00:00", 2000 + k * 5000, 51, "LCK_M_S")};
        else if (k == 5) rows = {req(53, "2026-03-10 10:00:24", 1000, 50, "LCK_M_U")};
        else rows = {req(60, "2026-03-10 09:59:59", 1500)};
        write("requests_5s", std::string("2026-03-10 ") + times[k], rows);
    }
    auto r = ask("blocking", "2026-03-10 10:00:00", "2026-03-10 10:01:00");
    const auto& t = table(r, "blocking");
    ASSERT_EQ(t.rows.size(), 2u);
    const auto& first = t.rows[0];  // longest first
    EXPECT_EQ(std::get<std::int64_t>(first[0]), 50);
    EXPECT_EQ(std::get<std::int64_t>(first[static_cast<std::size_t>(t.col("snapshots"))]), 3);
    EXPECT_EQ(std::get<std::int64_t>(first[static_cast<std::size_t>(t.col("blocked"))]), 2);
    EXPECT_EQ(std::get<std::string>(first[static_cast<std::size_t>(t.col("sessions"))]), "51,52");
    // began by: first seen 10:00:05 minus the longest wait then (8 s)
    EXPECT_EQ(std::get<TimeCell>(first[static_cast<std::size_t>(t.col("began_by"))]).utc_ticks, ticks("2026-03-10 09:59:57"));
}

TEST(BlockingEngineTest, EpisodesOfTwoSourcesMergeWhenTheyOverlap) {
    auto sample = [](const std::string& src, std::int64_t at, std::int64_t res, int seq) {
        BlockingSample s;
        s.source = src;
        s.at = at;
        s.resolution = res;
        s.sequence = seq;
        s.head = 50;
        s.blocked = {{51, 50, 40000, "LCK_M_X", "KEY: 5:1"}};
        return s;
    };
    const std::int64_t sec = 10'000'000;
    std::vector<BlockingSample> v = {sample("requests_5s", 100 * sec, 5 * sec, 1), sample("requests_5s", 105 * sec, 5 * sec, 2),
                                     sample("requests_1m", 150 * sec, 60 * sec, 7), sample("requests_1m", 210 * sec, 60 * sec, 8),
                                     sample("requests_5s", 900 * sec, 5 * sec, 50)};
    auto e = build_episodes(v);
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(e[0].first_seen, 100 * sec);
    EXPECT_EQ(e[0].last_seen, 210 * sec);
    EXPECT_EQ(e[0].samples, 4);
    EXPECT_EQ(e[0].sources.size(), 2u);
    EXPECT_EQ(e[1].first_seen, 900 * sec);
}

TEST(BlockingEngineTest, TreeOrderAndCycles) {
    std::vector<RequestRow> rows = {{51, 50, 10, "LCK_M_X", "", "", "", "", 0}, {52, 51, 5, "LCK_M_S", "", "", "", "", 0},
                                    {53, 50, 5, "LCK_M_S", "", "", "", "", 0},  {60, 61, 1, "", "", "", "", "", 0},
                                    {61, 60, 1, "", "", "", "", "", 0}};
    auto tree = blocking_tree(rows);
    ASSERT_EQ(tree.size(), 6u);
    EXPECT_EQ(tree[0].second.session, 50);
    EXPECT_EQ(tree[1].second.session, 51);
    EXPECT_EQ(tree[2].second.session, 52);
    EXPECT_EQ(tree[2].first, 2);
    EXPECT_EQ(tree[3].second.session, 53);
    EXPECT_EQ(tree[4].first, 0);  // the cycle 60 <-> 61 shows one of them as its head
}

}  // namespace
}  // namespace dmvlog::query::testing
