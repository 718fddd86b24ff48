// The plan-lifetime rules of docs/analysis.md, each on hand-built query_stats / query_stats_full snapshots.
#include "tests/unit/query/fixture.h"

#include "agent/query/delta.h"
#include "agent/query/open.h"
#include "agent/query/sql.h"

namespace dmvlog::query::testing {
namespace {

// A query_stats row: plan `p` (its handles and plan hash are bytes p), query hash q (default p).
Cols qs(std::uint8_t p, const std::string& creation, std::int64_t execs, std::int64_t cpu_us, std::uint8_t q = 0,
        const std::string& text = "") {
    Cols c = {{"sql_handle", b(p, 20)},
              {"plan_handle", b(p, 24)},
              {"statement_start_offset", i(0)},
              {"statement_end_offset", i(-1)},
              {"creation_time", ts(creation)},
              {"query_hash", b(q ? q : p)},
              {"query_plan_hash", b(p)},
              {"execution_count", i(execs)},
              {"total_worker_time", i(cpu_us)},
              {"total_elapsed_time", i(cpu_us * 2)},
              {"total_logical_reads", i(execs * 10)}};
    if (!text.empty()) c["statement_text"] = s(text);
    return c;
}

std::string qh(std::uint8_t q) { return hex(std::string(8, static_cast<char>(q))); }

class PlanDeltaTest : public StoreFixture {
protected:
    double cpu_ms(const Report& r, std::uint8_t q) {
        return cell<double>(table(r, "top_queries"), "query_hash", Cell{qh(q)}, "cpu_ms");
    }
    std::string quality(const Report& r, std::uint8_t q) {
        return cell<std::string>(table(r, "top_queries"), "query_hash", Cell{qh(q)}, "quality");
    }
    std::int64_t lifetimes(const Report& r, std::uint8_t q) {
        return cell<std::int64_t>(table(r, "top_queries"), "query_hash", Cell{qh(q)}, "lifetimes");
    }
    // Minute snapshots of the window so that coverage is complete, with the rows given at some minutes.
    void minutes(const std::string& hour, const std::map<int, std::vector<Cols>>& rows, int from = 0, int to = 60) {
        for (int m = from; m < to; ++m) {
            char at[32];
            std::snprintf(at, sizeof at, "%s:%02d:00", hour.c_str(), m);
            auto it = rows.find(m);
            write("query_stats", at, it == rows.end() ? std::vector<Cols>{} : it->second);
        }
    }
};

TEST_F(PlanDeltaTest, CreatedInsideTheWindowCountsItsLastValueWhole) {
    minutes("2026-03-10 10", {{6, {qs(1, "2026-03-10 10:05:00", 1, 100'000)}}, {10, {qs(1, "2026-03-10 10:05:00", 3, 300'000)}}});
    auto r = ask("top-queries", "2026-03-10 10:00:00", "2026-03-10 11:00:00");
    EXPECT_DOUBLE_EQ(cpu_ms(r, 1), 300.0);
    EXPECT_EQ(quality(r, 1), "exact");
    EXPECT_EQ(cell<std::int64_t>(table(r, "top_queries"), "query_hash", Cell{qh(1)}, "executions"), 3);
}

TEST_F(PlanDeltaTest, CreatedBeforeSubtractsTheLatestObservationAtOrBeforeTheStart) {
    // Sparse capture: the plan was seen at 09:10 and 09:50 (earlier snapshots did not list it), then at 10:20.
    minutes("2026-03-10 09", {{10, {qs(1, "2026-03-10 08:00:00", 5, 700'000)}}, {50, {qs(1, "2026-03-10 08:00:00", 9, 1'000'000)}}});
    minutes("2026-03-10 10", {{20, {qs(1, "2026-03-10 08:00:00", 12, 1'500'000)}}});
    auto r = ask("top-queries", "2026-03-10 10:00:00", "2026-03-10 11:00:00");
    EXPECT_DOUBLE_EQ(cpu_ms(r, 1), 500.0);
    EXPECT_EQ(quality(r, 1), "exact");
}

TEST_F(PlanDeltaTest, AnObservationExactlyAtTheStartIsTheBaseline) {
    minutes("2026-03-10 09", {{30, {qs(1, "2026-03-10 08:00:00", 1, 100'000)}}}, 30, 60);
    minutes("2026-03-10 10", {{0, {qs(1, "2026-03-10 08:00:00", 2, 400'000)}}, {5, {qs(1, "2026-03-10 08:00:00", 3, 600'000)}}});
    auto r = ask("top-queries", "2026-03-10 10:00:00", "2026-03-10 11:00:00");
    EXPECT_DOUBLE_EQ(cpu_ms(r, 1), 200.0);  // 600 - 400 (the value at 10:00), not 600 - 100
}

TEST_F(PlanDeltaTest, BaselineComesFromTheWholeCacheSnapshotWhenTheMinuteCollectorNeverListedIt) {
    write("query_stats_full", "2026-03-10 09:00:30", {qs(1, "2026-03-10 07:00:00", 8, 800'000)});
    minutes("2026-03-10 10", {{20, {qs(1, "2026-03-10 07:00:00", 15, 1'500'000)}}});
    auto r = ask("top-queries", "2026-03-10 10:00:00", "2026-03-10 11:00:00");
    EXPECT_DOUBLE_EQ(cpu_ms(r, 1), 700.0);
    EXPECT_EQ(quality(r, 1), "exact");
    EXPECT_TRUE(has_note(r, "query_stats_full snapshot"));
}

TEST_F(PlanDeltaTest, MinuteRowsAfterTheWholeCacheSnapshotAreLaterBaselines) {
    write("query_stats_full", "2026-03-10 09:00:30", {qs(1, "2026-03-10 07:00:00", 8, 800'000)});
    minutes("2026-03-10 09", {{30, {qs(1, "2026-03-10 07:00:00", 9, 900'000)}}}, 1, 60);
    minutes("2026-03-10 10", {{20, {qs(1, "2026-03-10 07:00:00", 15, 1'500'000)}}});
    auto r = ask("top-queries", "2026-03-10 10:00:00", "2026-03-10 11:00:00");
    EXPECT_DOUBLE_EQ(cpu_ms(r, 1), 600.0);
}

TEST_F(PlanDeltaTest, NeverObservedBeforeTheStartIsALowerBoundFromTheFirstObservation) {
    minutes("2026-03-10 10", {{10, {qs(1, "2026-03-10 08:00:00", 10, 1'000'000)}}, {40, {qs(1, "2026-03-10 08:00:00", 16, 1'600'000)}}});
    auto r = ask("top-queries", "2026-03-10 10:00:00", "2026-03-10 11:00:00");
    EXPECT_DOUBLE_EQ(cpu_ms(r, 1), 600.0);
    EXPECT_EQ(quality(r, 1), "lower-bound");
    EXPECT_TRUE(has_note(r, "lower-bound"));
}

TEST_F(PlanDeltaTest, EvictedLifetimesCountWhatWasSeenAndLifetimesOfAGroupAreSummed) {
    // Plan 1 lives 10:05-10:10 and is evicted; plan 2 (same query hash 9) is compiled at 10:30.
    minutes("2026-03-10 10", {{10, {qs(1, "2026-03-10 10:05:00", 2, 200'000, 9)}},
                              {35, {qs(2, "2026-03-10 10:30:00", 1, 50'000, 9)}}});
    auto r = ask("top-queries", "2026-03-10 10:00:00", "2026-03-10 11:00:00");
    EXPECT_DOUBLE_EQ(cpu_ms(r, 9), 250.0);
    EXPECT_EQ(lifetimes(r, 9), 2);
    EXPECT_EQ(cell<std::int64_t>(table(r, "top_queries"), "query_hash", Cell{qh(9)}, "plans"), 2);
}

TEST_F(PlanDeltaTest, ARecompiledPlanWithTheSameHandleIsANewLifetime) {
    minutes("2026-03-10 09", {{50, {qs(1, "2026-03-10 08:00:00", 10, 1'000'000)}}});
    // Same plan_handle, new creation_time: the old lifetime's totals must not be subtracted from the new one.
    minutes("2026-03-10 10", {{20, {qs(1, "2026-03-10 10:15:00", 2, 90'000)}}});
    auto r = ask("top-queries", "2026-03-10 10:00:00", "2026-03-10 11:00:00");
    EXPECT_DOUBLE_EQ(cpu_ms(r, 1), 90.0);
    EXPECT_EQ(quality(r, 1), "exact");
}

TEST_F(PlanDeltaTest, ALongWindowReadInTwoHalvesOnTwoConnectionsGivesTheSameAnswer) {
    // Three hours: plan 1 created before the window and seen in both halves; plan 2 lives across the middle
    // (10:30) and is evicted; plan 3 only in the later half; plan 4 only before the window and in the first
    // half (query hash 9 with plan 2: two lifetimes summed across the halves).
    minutes("2026-03-10 08", {{50, {qs(1, "2026-03-10 07:00:00", 10, 1'000'000), qs(4, "2026-03-10 08:10:00", 1, 10'000, 9)}}});
    minutes("2026-03-10 09", {{5, {qs(1, "2026-03-10 07:00:00", 12, 1'300'000)}},
                              {40, {qs(2, "2026-03-10 09:35:00", 3, 30'000, 9), qs(4, "2026-03-10 08:10:00", 4, 70'000, 9)}}});
    minutes("2026-03-10 10", {{20, {qs(2, "2026-03-10 09:35:00", 5, 60'000, 9)}},
                              {45, {qs(2, "2026-03-10 09:35:00", 8, 99'000, 9), qs(3, "2026-03-10 10:44:00", 1, 5'000)}}});
    minutes("2026-03-10 11", {{30, {qs(1, "2026-03-10 07:00:00", 20, 2'900'000), qs(3, "2026-03-10 10:44:00", 6, 35'000)}}});
    Options o;
    o.top = 0;
    o.window.from = ticks("2026-03-10 09:00:00");
    o.window.to = ticks("2026-03-10 12:00:00");
    auto one = run_question(store->handle(), "top-queries", o);   // one connection: one pass
    auto reader = open_reader("sqlite:" + (dir / "store.db").string());
    ASSERT_NE(reader->another(), nullptr);                         // a file store can be read on two connections
    auto two = run_question(reader.get(), "top-queries", o);
    const auto& a = table(one, "top_queries");
    const auto& b = table(two, "top_queries");
    ASSERT_EQ(a.rows.size(), 3u);
    EXPECT_EQ(a.rows, b.rows);
    EXPECT_DOUBLE_EQ(cpu_ms(two, 1), 1'900.0);     // 2.9 s at 11:30 minus 1.0 s at 08:50 (the baseline)
    EXPECT_DOUBLE_EQ(cpu_ms(two, 9), 99.0 + 60.0); // plan 2 whole (created inside), plan 4: 70 - 10
    EXPECT_DOUBLE_EQ(cpu_ms(two, 3), 35.0);
    EXPECT_EQ(lifetimes(two, 9), 2);
}

TEST_F(PlanDeltaTest, TheWindowIsHalfOpen) {
    minutes("2026-03-10 10", {{30, {qs(1, "2026-03-10 10:01:00", 1, 100'000)}}});
    write("query_stats", "2026-03-10 11:00:00", {qs(1, "2026-03-10 10:01:00", 5, 900'000)});  // at the end: excluded
    auto r = ask("top-queries", "2026-03-10 10:00:00", "2026-03-10 11:00:00");
    EXPECT_DOUBLE_EQ(cpu_ms(r, 1), 100.0);
}

TEST_F(PlanDeltaTest, CreationTimeShiftedByADaylightSavingChangeIsTheSameLifetime) {
    // Server local creation 10:00; stored UTC at offset +60 is 09:00, at offset +120 it is 08:00.
    write("query_stats", "2026-03-29 00:50:00", {qs(1, "2026-03-29 00:00:00", 1, 100'000)}, "2026-01-01 00:00:00", 60);
    for (int m = 0; m < 60; ++m) {
        char at[32];
        std::snprintf(at, sizeof at, "2026-03-29 01:%02d:00", m);
        write("query_stats", at, m == 30 ? std::vector<Cols>{qs(1, "2026-03-28 23:00:00", 4, 400'000)} : std::vector<Cols>{},
              "2026-01-01 00:00:00", 120);
    }
    auto r = ask("top-queries", "2026-03-29 01:00:00", "2026-03-29 02:00:00");
    EXPECT_DOUBLE_EQ(cpu_ms(r, 1), 300.0);
    EXPECT_EQ(quality(r, 1), "exact");
}

TEST_F(PlanDeltaTest, TwoPointMissesPlansThatCameAndWent) {
    minutes("2026-03-10 10", {{0, {qs(3, "2026-03-10 09:00:00", 1, 10'000)}},
                              {10, {qs(1, "2026-03-10 10:05:00", 2, 200'000, 9)}},
                              {59, {qs(3, "2026-03-10 09:00:00", 2, 30'000)}}});
    Options o;
    o.method = "two-point";
    auto two = ask("top-queries", "2026-03-10 10:00:00", "2026-03-10 11:00:00", o);
    const auto& t = table(two, "top_queries");
    EXPECT_EQ(t.rows.size(), 1u);
    EXPECT_DOUBLE_EQ(cpu_ms(two, 3), 20.0);
    auto all = ask("top-queries", "2026-03-10 10:00:00", "2026-03-10 11:00:00");
    EXPECT_DOUBLE_EQ(cpu_ms(all, 9), 200.0);
    EXPECT_DOUBLE_EQ(cpu_ms(all, 3), 20.0);
}

TEST_F(PlanDeltaTest, GroupsByStatementAndShowsTextAndShare) {
    minutes("2026-03-10 10", {{10, {qs(1, "2026-03-10 10:05:00", 1, 300'000, 1, "SELECT a FROM t")}},
                              {20, {qs(2, "2026-03-10 10:15:00", 1, 100'000, 2, "SELECT b FROM u")}}});
    Options o;
    o.group = "statement";
    auto r = ask("top-queries", "2026-03-10 10:00:00", "2026-03-10 11:00:00", o);
    const auto& t = table(r, "top_queries");
    ASSERT_EQ(t.rows.size(), 2u);
    EXPECT_EQ(std::get<std::string>(t.rows[0][static_cast<std::size_t>(t.col("statement"))]), "SELECT a FROM t");
    EXPECT_DOUBLE_EQ(std::get<double>(t.rows[0][static_cast<std::size_t>(t.col("share"))]), 75.0);
}

TEST_F(PlanDeltaTest, CoverageGapsMakeRowsPartial) {
    minutes("2026-03-10 10", {{10, {qs(1, "2026-03-10 10:05:00", 1, 100'000)}}}, 0, 20);  // nothing after 10:19
    auto r = ask("top-queries", "2026-03-10 10:00:00", "2026-03-10 11:00:00");
    EXPECT_EQ(quality(r, 1), "partial");
    EXPECT_TRUE(has_note(r, "cover"));
}

TEST_F(PlanDeltaTest, ByOtherMeasuresAndValidation) {
    minutes("2026-03-10 10", {{10, {qs(1, "2026-03-10 10:05:00", 1, 900'000), qs(2, "2026-03-10 10:05:00", 50, 1'000)}}});
    Options o;
    o.by = "executions";
    auto r = ask("top-queries", "2026-03-10 10:00:00", "2026-03-10 11:00:00", o);
    EXPECT_EQ(std::get<std::string>(table(r, "top_queries").rows[0][1]), qh(2));
    o.by = "nonsense";
    EXPECT_THROW(ask("top-queries", "2026-03-10 10:00:00", "2026-03-10 11:00:00", o), UsageError);
}

TEST_F(PlanDeltaTest, ProceduresUseTheSameLifetimeRules) {
    auto proc = [](std::int64_t execs, std::int64_t cpu) {
        return Cols{{"database_id", i(5)},  {"object_id", i(77)},           {"object_name", s("dbo.usp_orders")},
                    {"type", s("P")},       {"plan_handle", b(4, 24)},      {"cached_time", ts("2026-03-10 08:00:00")},
                    {"execution_count", i(execs)}, {"total_worker_time", i(cpu)}};
    };
    write("procedure_stats", "2026-03-10 09:58:00", {proc(10, 1'000'000)});
    write("procedure_stats", "2026-03-10 10:30:00", {proc(14, 1'800'000)});
    auto r = ask("procedures", "2026-03-10 10:00:00", "2026-03-10 11:00:00");
    const auto& t = table(r, "procedures");
    ASSERT_EQ(t.rows.size(), 1u);
    EXPECT_DOUBLE_EQ(std::get<double>(t.rows[0][static_cast<std::size_t>(t.col("cpu_ms"))]), 800.0);
    EXPECT_EQ(std::get<std::int64_t>(t.rows[0][static_cast<std::size_t>(t.col("executions"))]), 4);
}

// The engine alone.
TEST(LifetimeDeltasTest, RulesWithoutAStore) {
    const std::int64_t S = 1000, E = 2000;
    LifetimeDeltas d(S, E);
    Metrics v{};
    auto at = [&](std::int64_t x) {
        v[1] = x;
        return v;
    };
    d.observe(1, 1500, 1200, at(50), {"g", "", "", 0});   // created inside
    d.observe(2, 1500, 500, at(90), {"g", "", "", 0});    // created before, baseline below
    d.baseline(2, 900, at(60));
    d.baseline(2, 800, at(10));                           // older baseline: ignored
    d.baseline(2, 1001, at(80));                          // after the start: not a baseline
    d.observe(3, 1100, 500, at(20), {"h", "", "", 0});    // created before, no baseline
    d.observe(3, 1900, 500, at(45), {"h", "", "", 0});
    const auto& l = d.lifetimes();
    EXPECT_EQ(d.delta(l.at(1)).values[1], 50);
    EXPECT_EQ(d.delta(l.at(2)).values[1], 30);
    EXPECT_EQ(d.delta(l.at(3)).values[1], 25);
    EXPECT_EQ(d.delta(l.at(3)).quality, Quality::lower_bound);
    auto groups = group_totals(d);
    std::map<std::string, std::int64_t> by;
    for (const auto& g : groups) by[g.group] = g.values[1];
    EXPECT_EQ(by["g"], 80);
    EXPECT_EQ(by["h"], 25);
}

}  // namespace
}  // namespace dmvlog::query::testing
