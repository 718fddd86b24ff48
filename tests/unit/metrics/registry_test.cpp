// The agent's metrics: what a run, a sample of the service and a store write turn into on /metrics.
#include "agent/metrics/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "agent/core/time_format.h"

namespace dmvlog::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The value of the one sample line that starts with `series` ("name{labels}" exactly as exposed), or -1.
double value_of(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    return -1;
}

collect::RunResult ok_run(std::int64_t rows, double ms) {
    collect::RunResult r;
    r.status = "ok";
    r.rows = rows;
    r.duration_ms = ms;
    return r;
}

collect::ServiceSample sample(bool reachable, std::uint64_t skipped, std::uint64_t written) {
    collect::ServiceSample s;
    s.running = true;
    s.jobs.push_back({"sql1", "requests_5s", false, skipped});
    s.jobs.push_back({"sql1", "wait_stats", true, 0});
    s.sources.push_back({"sql1", reachable, 2});
    s.writer.written = written;
    s.writer.failures = 1;
    s.writer.spool_records = 3;
    s.writer.spool_evicted = 4;
    s.writer.retention["requests_5s"] = {120, 6, 2, false};
    s.writer.retention["query_stats"] = {0, 0, 0, true};
    return s;
}

TEST(Metrics, RunsFailuresRowsAndDurationsByInstanceAndCollector) {
    Metrics m;
    m.run_finished("sql1", "requests_5s", ok_run(10, 20));
    m.run_finished("sql1", "requests_5s", ok_run(5, 3000));
    collect::RunResult failed;
    failed.status = "failed";
    failed.error_class = "transient";
    failed.duration_ms = 50;
    m.run_finished("sql1", "requests_5s", failed);
    collect::RunResult denied;
    denied.status = "disabled";
    denied.error_class = "permission";
    m.run_finished("sql1", "wait_stats", denied);

    const std::string text = m.scrape();
    EXPECT_EQ(value_of(text, R"(dmvlog_collector_runs_total{collector="requests_5s",instance="sql1",status="ok"})"), 2);
    EXPECT_EQ(value_of(text, R"(dmvlog_collector_runs_total{collector="requests_5s",instance="sql1",status="failed"})"), 1);
    EXPECT_EQ(value_of(text, R"(dmvlog_collector_failures_total{class="transient",collector="requests_5s",instance="sql1"})"), 1);
    EXPECT_EQ(value_of(text, R"(dmvlog_collector_failures_total{class="permission",collector="wait_stats",instance="sql1"})"), 1);
    EXPECT_EQ(value_of(text, R"(dmvlog_collector_rows_total{collector="requests_5s",instance="sql1"})"), 15);
    EXPECT_EQ(value_of(text, R"(dmvlog_collector_disabled{collector="wait_stats",instance="sql1"})"), 1);
    EXPECT_EQ(value_of(text, R"(dmvlog_collector_disabled{collector="requests_5s",instance="sql1"})"), 0);
    // Durations in seconds: 0.02 and 0.05 fall in le=0.05, 3.0 only from le=5 on.
    EXPECT_EQ(value_of(text, R"(dmvlog_collector_run_duration_seconds_bucket{collector="requests_5s",instance="sql1",le="0.05"})"), 2);
    EXPECT_EQ(value_of(text, R"(dmvlog_collector_run_duration_seconds_bucket{collector="requests_5s",instance="sql1",le="2.5"})"), 2);
    EXPECT_EQ(value_of(text, R"(dmvlog_collector_run_duration_seconds_bucket{collector="requests_5s",instance="sql1",le="5"})"), 3);
    EXPECT_DOUBLE_EQ(value_of(text, R"(dmvlog_collector_run_duration_seconds_sum{collector="requests_5s",instance="sql1"})"), 3.07);
    EXPECT_THAT(text, HasSubstr("dmvlog_build_info{version=\"" DMVLOG_VERSION "\"} 1"));
    EXPECT_THAT(text, HasSubstr("# TYPE dmvlog_collector_runs_total counter"));
}

TEST(Metrics, SampleSetsGaugesAndAdvancesCountersByWhatTheTotalsGrew) {
    Metrics m;
    m.update(sample(true, 3, 10));
    m.update(sample(true, 5, 25));
    m.store_write(0.002, true);
    const std::string text = m.scrape();
    EXPECT_EQ(value_of(text, R"(dmvlog_collector_skipped_ticks_total{collector="requests_5s",instance="sql1"})"), 5);
    EXPECT_EQ(value_of(text, R"(dmvlog_collector_disabled{collector="wait_stats",instance="sql1"})"), 1);
    EXPECT_EQ(value_of(text, R"(dmvlog_collector_runs_total{collector="wait_stats",instance="sql1",status="ok"})"), 0)
        << "the runs counters exist from the first sample on";
    EXPECT_EQ(value_of(text, R"(dmvlog_source_connected{instance="sql1"})"), 1);
    EXPECT_EQ(value_of(text, R"(dmvlog_source_reconnects_total{instance="sql1"})"), 2);
    EXPECT_EQ(value_of(text, "dmvlog_store_snapshots_written_total"), 25);
    EXPECT_EQ(value_of(text, "dmvlog_store_write_failures_total"), 1);
    EXPECT_EQ(value_of(text, "dmvlog_spool_records"), 3);
    EXPECT_EQ(value_of(text, "dmvlog_spool_evicted_total"), 4);
    EXPECT_EQ(value_of(text, R"(dmvlog_retention_purged_rows_total{collector="requests_5s"})"), 120);
    EXPECT_EQ(value_of(text, R"(dmvlog_retention_purged_snapshots_total{collector="requests_5s"})"), 6);
    EXPECT_EQ(value_of(text, R"(dmvlog_retention_behind{collector="query_stats"})"), 1);
    EXPECT_EQ(value_of(text, R"(dmvlog_retention_behind{collector="requests_5s"})"), 0);
    EXPECT_EQ(value_of(text, "dmvlog_store_write_duration_seconds_count"), 1);
    EXPECT_EQ(value_of(text, R"(dmvlog_store_write_duration_seconds_bucket{le="0.005"})"), 1);
    EXPECT_EQ(value_of(text, "dmvlog_ready"), 1);
}

TEST(Metrics, ReadinessNeedsEverySourceAndTheStore) {
    Metrics m;
    EXPECT_FALSE(m.readiness().ready) << "nothing sampled yet";
    bool reachable = true;
    std::string store_error;
    m.set_sampler([&] {
        auto s = sample(reachable, 0, 0);
        s.writer.last_error = store_error;
        return s;
    });
    auto r = m.readiness();
    EXPECT_TRUE(r.ready) << r.detail;
    EXPECT_THAT(r.detail, HasSubstr("instance sql1: reachable"));
    reachable = false;
    r = m.readiness();
    EXPECT_FALSE(r.ready);
    EXPECT_THAT(r.detail, HasSubstr("instance sql1: NOT reachable"));
    reachable = true;
    store_error = "database is locked";
    r = m.readiness();
    EXPECT_FALSE(r.ready);
    EXPECT_THAT(r.detail, HasSubstr("store: write failing: database is locked"));
    EXPECT_EQ(value_of(m.scrape(), "dmvlog_ready"), 0);
}

TEST(Metrics, XeBookmarkLagIsNowMinusTheNewestEventRead) {
    Metrics m;
    const auto now = std::chrono::system_clock::now();
    const std::int64_t now_ticks = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() / 100;
    auto run = ok_run(2, 10);
    run.newest_event_ticks = now_ticks - 90 * kTicksPerSecond;
    m.run_finished("sql1", "blocking_events", run);
    run.newest_event_ticks = now_ticks - 300 * kTicksPerSecond;  // an older event read later does not move it back
    m.run_finished("sql1", "blocking_events", run);
    m.update(collect::ServiceSample{}, now);
    const std::string text = m.scrape();  // without a sampler: what update() set
    EXPECT_NEAR(value_of(text, R"(dmvlog_xe_bookmark_lag_seconds{collector="blocking_events",instance="sql1"})"), 90, 0.01);
    EXPECT_THAT(text, Not(HasSubstr("dmvlog_xe_bookmark_lag_seconds{collector=\"requests_5s\"")));
}

TEST(Metrics, EveryNameIsPrefixedAndValid) {
    Metrics m;
    m.update(sample(true, 1, 1));
    m.run_finished("sql1", "requests_5s", ok_run(1, 1));
    const std::string text = m.scrape();
    std::istringstream in(text);
    const std::regex name("^[a-zA-Z_:][a-zA-Z0-9_:]*");
    int samples = 0;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        ++samples;
        EXPECT_EQ(line.rfind("dmvlog_", 0), 0u) << line;
        EXPECT_TRUE(std::regex_search(line, name)) << line;
    }
    EXPECT_GT(samples, 20);
}

}  // namespace
}  // namespace dmvlog::metrics
