// Server-level cumulative counters: consecutive differences within an epoch, resets, restarts, perf counter
// types; each rule on hand-built snapshots in a real store.
#include "tests/unit/query/fixture.h"

#include "agent/query/delta.h"

namespace dmvlog::query::testing {
namespace {

Cols wait(const std::string& type, std::int64_t ms, std::int64_t signal = 0, std::int64_t count = 1) {
    return {{"wait_type", s(type)}, {"wait_time_ms", i(ms)}, {"signal_wait_time_ms", i(signal)}, {"waiting_tasks_count", i(count)}};
}

class CounterTest : public StoreFixture {
protected:
    std::int64_t wait_ms(const Report& r, const std::string& type) {
        return cell<std::int64_t>(table(r, "waits"), "wait_type", Cell{type}, "wait_ms");
    }
};

TEST_F(CounterTest, SumsConsecutiveDifferencesFromTheBaselineSnapshot) {
    write("wait_stats", "2026-03-10 09:59:00", {wait("LCK_M_X", 100)});
    write("wait_stats", "2026-03-10 10:01:00", {wait("LCK_M_X", 150)});
    write("wait_stats", "2026-03-10 10:02:00", {wait("LCK_M_X", 170), wait("PAGEIOLATCH_SH", 40)});
    write("wait_stats", "2026-03-10 10:03:00", {wait("LCK_M_X", 170), wait("PAGEIOLATCH_SH", 45)});
    write("wait_stats", "2026-03-10 10:05:00", {wait("LCK_M_X", 999)});  // after the window
    auto r = ask("waits", "2026-03-10 10:00:00", "2026-03-10 10:04:00");
    EXPECT_EQ(wait_ms(r, "LCK_M_X"), 70);
    EXPECT_EQ(wait_ms(r, "PAGEIOLATCH_SH"), 45);  // not listed before: it was zero
}

TEST_F(CounterTest, ADecreaseIsAResetThatCountsTheNewValueAndIsReported) {
    write("wait_stats", "2026-03-10 10:00:00", {wait("LCK_M_X", 1000), wait("CXPACKET", 500)});
    write("wait_stats", "2026-03-10 10:01:00", {wait("LCK_M_X", 1100), wait("CXPACKET", 600)});
    write("wait_stats", "2026-03-10 10:02:00", {wait("LCK_M_X", 30)});  // DBCC SQLPERF CLEAR
    write("wait_stats", "2026-03-10 10:03:00", {wait("LCK_M_X", 50), wait("CXPACKET", 5)});
    auto r = ask("waits", "2026-03-10 10:00:00", "2026-03-10 10:04:00");
    EXPECT_EQ(wait_ms(r, "LCK_M_X"), 100 + 30 + 20);
    EXPECT_EQ(wait_ms(r, "CXPACKET"), 100 + 5);
    EXPECT_TRUE(has_note(r, "cleared"));
}

TEST_F(CounterTest, ARestartStartsANewEpoch) {
    write("wait_stats", "2026-03-10 10:00:00", {wait("LCK_M_X", 1000)}, "2026-03-01 00:00:00");
    write("wait_stats", "2026-03-10 10:01:00", {wait("LCK_M_X", 1200)}, "2026-03-01 00:00:00");
    write("wait_stats", "2026-03-10 10:02:00", {wait("LCK_M_X", 5000)}, "2026-03-10 10:01:30");  // restarted, grew fast
    write("wait_stats", "2026-03-10 10:03:00", {wait("LCK_M_X", 5100)}, "2026-03-10 10:01:30");
    auto r = ask("waits", "2026-03-10 10:00:00", "2026-03-10 10:04:00");
    EXPECT_EQ(wait_ms(r, "LCK_M_X"), 200 + 5000 + 100);
    EXPECT_TRUE(has_note(r, "restart"));
}

TEST_F(CounterTest, BenignWaitsAreLeftOutUnlessAll) {
    write("wait_stats", "2026-03-10 10:00:00", {wait("SLEEP_TASK", 10), wait("LCK_M_S", 1)});
    write("wait_stats", "2026-03-10 10:01:00", {wait("SLEEP_TASK", 900), wait("LCK_M_S", 2)});
    auto r = ask("waits", "2026-03-10 10:00:00", "2026-03-10 10:02:00");
    EXPECT_EQ(table(r, "waits").rows.size(), 1u);
    Options o;
    o.all = true;
    auto all = ask("waits", "2026-03-10 10:00:00", "2026-03-10 10:02:00", o);
    EXPECT_EQ(wait_ms(all, "SLEEP_TASK"), 890);
}

TEST_F(CounterTest, FileIoResetOfOneFileIsPerFile) {
    auto f = [](int db, std::int64_t reads, std::int64_t stall) {
        return Cols{{"database_id", i(db)}, {"file_id", i(1)}, {"database_name", s(db == 5 ? "Sales" : "Hr")},
                    {"name", s("data")},   {"type_desc", s("ROWS")}, {"num_of_reads", i(reads)},
                    {"io_stall_read_ms", i(stall)}, {"num_of_writes", i(0)}, {"io_stall", i(stall)}};
    };
    write("file_io", "2026-03-10 10:00:00", {f(5, 100, 1000), f(6, 100, 1000)});
    write("file_io", "2026-03-10 10:01:00", {f(5, 150, 1500), f(6, 10, 20)});  // Hr detached and attached again
    auto r = ask("file-io", "2026-03-10 10:00:00", "2026-03-10 10:02:00");
    const auto& t = table(r, "file_io");
    EXPECT_EQ(cell<std::int64_t>(t, "database", Cell{std::string("Sales")}, "reads"), 50);
    EXPECT_EQ(cell<std::int64_t>(t, "database", Cell{std::string("Hr")}, "reads"), 10);
    EXPECT_DOUBLE_EQ(cell<double>(t, "database", Cell{std::string("Sales")}, "read_latency_ms"), 10.0);
    EXPECT_TRUE(has_note(r, "reset"));
}

TEST_F(CounterTest, PerfCounterTypes) {
    auto pc = [](const std::string& obj, const std::string& name, std::int64_t v, std::int64_t type,
                 const std::string& inst = "") {
        return Cols{{"object_name", s(obj)}, {"counter_name", s(name)}, {"instance_name", s(inst)},
                    {"cntr_value", i(v)},   {"cntr_type", i(type)}};
    };
    auto snap = [&](const std::string& at, std::int64_t batches, std::int64_t wait, std::int64_t wait_base,
                    std::int64_t hit, std::int64_t hit_base, std::int64_t ple) {
        write("perf_counters", at,
              {pc("SQLServer:SQL Statistics", "Batch Requests/sec", batches, 272696576),
               pc("SQLServer:Locks", "Average Wait Time (ms)", wait, 1073874176, "_Total"),
               pc("SQLServer:Locks", "Average Wait Time Base", wait_base, 1073939712, "_Total"),
               pc("SQLServer:Buffer Manager", "Buffer cache hit ratio", hit, 537003264),
               pc("SQLServer:Buffer Manager", "Buffer cache hit ratio base", hit_base, 1073939712),
               pc("SQLServer:Buffer Manager", "Page life expectancy", ple, 65792)});
    };
    snap("2026-03-10 10:00:00", 1000, 100, 10, 90, 100, 300);
    snap("2026-03-10 10:01:00", 1600, 400, 30, 45, 50, 500);
    snap("2026-03-10 10:02:00", 2800, 400, 30, 99, 100, 400);
    auto r = ask("perf-counters", "2026-03-10 10:00:00", "2026-03-10 10:03:00");
    const auto& t = table(r, "perf_counters");
    EXPECT_DOUBLE_EQ(cell<double>(t, "counter", Cell{std::string("Batch Requests/sec")}, "value"), 1800.0 / 120.0);
    EXPECT_DOUBLE_EQ(cell<double>(t, "counter", Cell{std::string("Batch Requests/sec")}, "max"), 20.0);
    EXPECT_DOUBLE_EQ(cell<double>(t, "counter", Cell{std::string("Average Wait Time (ms)")}, "value"), 300.0 / 20.0);
    EXPECT_DOUBLE_EQ(cell<double>(t, "counter", Cell{std::string("Buffer cache hit ratio")}, "min"), 90.0);
    EXPECT_DOUBLE_EQ(cell<double>(t, "counter", Cell{std::string("Buffer cache hit ratio")}, "max"), 99.0);
    EXPECT_DOUBLE_EQ(cell<double>(t, "counter", Cell{std::string("Page life expectancy")}, "value"), 400.0);
    EXPECT_DOUBLE_EQ(cell<double>(t, "counter", Cell{std::string("Page life expectancy")}, "min"), 300.0);
    for (const auto& row : t.rows) EXPECT_NE(std::get<std::string>(row[1]), "Average Wait Time Base");
}

TEST_F(CounterTest, IndexUsageIsSparseWithTheDailyListingAsBaseline) {
    auto ix = [](int index, std::int64_t seeks, std::int64_t scans, std::int64_t updates, const std::string& type) {
        return Cols{{"database_id", i(5)},  {"database_name", s("Sales")}, {"schema_name", s("dbo")},
                    {"object_id", i(10)},   {"object_name", s("Orders")},  {"index_id", i(index)},
                    {"index_name", s("IX_" + std::to_string(index))},      {"type_desc", s(type)},
                    {"is_unique", i(0)},    {"is_primary_key", i(0)},      {"user_seeks", i(seeks)},
                    {"user_scans", i(scans)}, {"user_lookups", i(0)},      {"user_updates", i(updates)},
                    {"row_count", i(50000)}, {"used_page_count", i(128)}};
    };
    write("index_usage_full", "2026-03-10 00:00:00",
          {ix(1, 100, 0, 10, "CLUSTERED"), ix(2, 5, 0, 10, "NONCLUSTERED"), ix(3, 0, 0, 10, "NONCLUSTERED")});
    write("index_usage", "2026-03-10 10:10:00", {ix(1, 160, 0, 12, "CLUSTERED")});
    write("index_usage", "2026-03-10 10:20:00", {ix(3, 0, 0, 30, "NONCLUSTERED"), ix(1, 170, 50, 12, "CLUSTERED")});
    auto r = ask("index-usage", "2026-03-10 10:00:00", "2026-03-10 11:00:00");
    const auto& t = table(r, "indexes");
    EXPECT_EQ(cell<std::int64_t>(t, "index", Cell{std::string("IX_1")}, "seeks"), 70);
    EXPECT_EQ(cell<std::int64_t>(t, "index", Cell{std::string("IX_1")}, "scans"), 50);
    EXPECT_EQ(cell<std::int64_t>(t, "index", Cell{std::string("IX_3")}, "updates"), 20);
    EXPECT_EQ(cell<std::string>(t, "index", Cell{std::string("IX_3")}, "flag"), "write-only");
    const auto& u = table(r, "unused");
    EXPECT_EQ(u.rows.size(), 2u);  // IX_2 and IX_3: no reads in the window
}

// The engine alone: sparse keys without a baseline are lower bounds; full listings treat a missing key as zero.
TEST(CounterDeltasTest, SparseAndFullListing) {
    Metrics v{};
    auto m = [&](std::int64_t x) {
        v[0] = x;
        return v;
    };
    CounterDeltas sparse(1, false, 100, 1000);
    sparse.snapshot(50, "e");
    sparse.row("a", m(10));
    sparse.snapshot(200, "e");
    sparse.row("a", m(15));
    sparse.row("b", m(7));
    sparse.snapshot(300, "e");
    sparse.row("b", m(9));
    sparse.finish();
    EXPECT_EQ(sparse.totals().at("a").delta[0], 5);
    EXPECT_FALSE(sparse.totals().at("a").lower_bound);
    EXPECT_EQ(sparse.totals().at("b").delta[0], 2);
    EXPECT_TRUE(sparse.totals().at("b").lower_bound);

    CounterDeltas full(1, true, 100, 1000);
    full.snapshot(50, "e");
    full.row("a", m(10));
    full.row("c", m(10));
    full.row("d", m(10));
    full.snapshot(200, "e");
    full.row("a", m(15));
    full.row("c", m(11));
    full.row("d", m(12));
    full.row("b", m(7));
    full.finish();
    EXPECT_EQ(full.totals().at("b").delta[0], 7);
    EXPECT_EQ(full.totals().at("a").delta[0], 5);
    EXPECT_TRUE(full.resets().empty());
}

}  // namespace
}  // namespace dmvlog::query::testing
