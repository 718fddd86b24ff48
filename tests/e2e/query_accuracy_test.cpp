// Accuracy of `dmvlog query top-queries` against the simulator's ground truth, on the plan-cache-churn
// scenario (plans live minutes, single-use plans, recompiles): the agent runs ~30 simulated minutes, then the
// CPU per query_hash that dmvlog attributes to a window is compared with what the simulator says really ran.
// Both methods are measured; all-snapshots must meet the targets, two-point is reported for comparison.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "agent/collect/declaration.h"
#include "agent/core/time_format.h"
#include "support/agent_process.h"
#include "support/sim_process.h"

namespace dmvlog::test {
namespace {

using namespace std::chrono_literals;

struct Measure {
    double share = 0;          // attributed CPU of the true top 10 / their true CPU
    double share_all = 0;      // attributed CPU of every query / all true CPU
    double recall = 0;         // true top 10 found in dmvlog's top 10
    double share_long = 0;     // the same, of the CPU of plan lifetimes that lasted two intervals or more
    double recall_long = 0;    // their top 10 found in dmvlog's top 10
    double recall_long_fair = 0;  // the same, a displacement by a query that truly burned as much not a miss
};

// Top-10 recall where only a wrong order counts as a miss. A true top-10 query (by the CPU of its long-lived
// plans) that dmvlog leaves out is excused when every query dmvlog ranked in its place truly burned at least
// `tolerance` of its CPU, all plans counted: dmvlog ranks by all the CPU it saw, short-lived plans included,
// and the share target allows each query a loss of 1 - tolerance, so two queries closer than that cannot be
// ordered by any polling method.
double recall_up_to_ties(const std::vector<std::pair<std::int64_t, std::string>>& true_top,
                         const std::set<std::string>& ours, const std::map<std::string, std::int64_t>& true_all,
                         double tolerance) {
    std::set<std::string> top;
    for (std::size_t k = 0; k < 10 && k < true_top.size(); ++k) top.insert(true_top[k].second);
    double weakest_intruder = -1;
    for (const auto& q : ours)
        if (!top.count(q)) {
            auto it = true_all.find(q);
            double v = it == true_all.end() ? 0.0 : static_cast<double>(it->second);
            weakest_intruder = weakest_intruder < 0 ? v : std::min(weakest_intruder, v);
        }
    int found = 0;
    for (const auto& q : top) {
        if (ours.count(q)) {
            ++found;
            continue;
        }
        auto it = true_all.find(q);
        double v = it == true_all.end() ? 0.0 : static_cast<double>(it->second);
        if (weakest_intruder >= 0 && weakest_intruder >= tolerance * v) ++found;
    }
    return found / 10.0;
}

std::string iso(std::int64_t ticks) {
    auto s = format_timestamp(Timestamp{ticks, 0, false});
    s[10] = 'T';
    return s + "Z";
}

TEST(QueryAccuracy, TopQueriesAgainstGroundTruthOnPlanCacheChurn) {
    const int speed = 20;
    SimOptions so;
    so.args = {"--scenario", scenarios_dir() + "/plan-cache-churn.toml", "--seed", "11", "--speed", std::to_string(speed)};
    so.control = true;
    SimProcess sim(so);
    TempDir dir;
    auto db = dir.file("dmvlog.db");
    // Only the plan-cache collectors: the others would only load the simulator.
    std::string extra;
    for (const auto& d : collect::load_builtin())
        if (d.name != "query_stats" && d.name != "query_stats_full")
            extra += "[collectors." + d.name + "]\nenabled = false\n";
    auto cfg = agent_config(dir, sim.port(), db, extra);
    AgentProcess agent({"run", "--config", cfg, "--time-scale", std::to_string(speed)});
    std::this_thread::sleep_for(std::chrono::seconds(30 * 60 / speed + 3));  // ~30 simulated minutes
    ASSERT_EQ(agent.stop(), 0) << agent.output();

    StoreReader s(db);
    auto times = s.rows("SELECT collected_at FROM snapshots WHERE collector = 'query_stats' ORDER BY collected_at");
    ASSERT_GE(times.size(), 20u) << agent.output();
    // Truth is exact for windows on whole minutes. S: a whole minute after the 5th snapshot; E: a whole minute
    // at least 2 minutes before the last snapshot. dmvlog's window runs from the first snapshot at or after S to
    // just past the first snapshot at or after E (the snapshot that holds what ran until E).
    auto tick = [](const std::string& t) { return parse_timestamp(t)->utc_ticks; };
    const std::int64_t first = tick(times[4][0]);
    const std::int64_t last = tick(times.back()[0]);
    const std::int64_t S = (first / kTicksPerMinute + 1) * kTicksPerMinute;
    const std::int64_t E = (last / kTicksPerMinute - 2) * kTicksPerMinute;
    ASSERT_GT(E - S, 10 * kTicksPerMinute);
    std::int64_t qs_from = 0, qs_to = 0;
    for (const auto& t : times) {
        auto v = tick(t[0]);
        if (!qs_from && v >= S) qs_from = v;
        if (!qs_to && v >= E) qs_to = v + 1;
    }
    auto truth = nlohmann::json::parse(sim.control(R"({"cmd":"truth","from":")" + iso(S) + R"(","to":")" + iso(E) +
                                                    R"(","min_lifetime_s":120})"));   // two query_stats intervals
    ASSERT_TRUE(truth.contains("queries")) << truth.dump().substr(0, 500);
    std::vector<std::pair<std::int64_t, std::string>> true_cpu;
    double true_total = 0;
    for (const auto& [qh, v] : truth["queries"].items()) {
        true_cpu.push_back({v["cpu_us"].get<std::int64_t>(), qh});
        true_total += static_cast<double>(v["cpu_us"].get<std::int64_t>());
    }
    std::sort(true_cpu.rbegin(), true_cpu.rend());
    ASSERT_GE(true_cpu.size(), 10u);
    // The CPU of plan lifetimes that lasted two query_stats intervals or more: what polling can see twice.
    std::vector<std::pair<std::int64_t, std::string>> long_cpu;
    for (const auto& [qh, v] : truth["queries"].items()) {
        ASSERT_TRUE(v.contains("cpu_us_long_lived")) << v.dump();
        long_cpu.push_back({v["cpu_us_long_lived"].get<std::int64_t>(), qh});
    }
    std::sort(long_cpu.rbegin(), long_cpu.rend());
    std::map<std::string, std::int64_t> true_all;
    for (const auto& [us, qh] : true_cpu) true_all[qh] = us;

    auto measure = [&](const std::string& method) {
        auto r = run_dmvlog({"query", "top-queries", "--store", "sqlite:" + db, "--from", iso(qs_from), "--to",
                             iso(qs_to), "--method", method, "--top", "0", "--format", "json"});
        EXPECT_EQ(r.exit_code, 0) << r.output;
        auto j = nlohmann::json::parse(r.output.substr(r.output.find('{')));
        std::map<std::string, double> cpu;
        std::vector<std::pair<double, std::string>> ranked;
        for (const auto& row : j["tables"][0]["rows"]) {
            double us = row["cpu_ms"].get<double>() * 1000.0;
            cpu[row["query_hash"].get<std::string>()] = us;
            ranked.push_back({us, row["query_hash"].get<std::string>()});
        }
        std::sort(ranked.rbegin(), ranked.rend());
        Measure m;
        double top_true = 0, top_got = 0, all_got = 0;
        std::set<std::string> ours;
        for (std::size_t k = 0; k < ranked.size() && k < 10; ++k) ours.insert(ranked[k].second);
        int hits = 0;
        for (std::size_t k = 0; k < 10; ++k) {
            top_true += static_cast<double>(true_cpu[k].first);
            top_got += std::min(cpu[true_cpu[k].second], static_cast<double>(true_cpu[k].first));
            hits += ours.count(true_cpu[k].second) ? 1 : 0;
        }
        for (const auto& [us, qh] : true_cpu) all_got += std::min(cpu[qh], static_cast<double>(us));
        double long_true = 0, long_got = 0;
        int long_hits = 0;
        for (std::size_t k = 0; k < 10; ++k) {
            long_true += static_cast<double>(long_cpu[k].first);
            long_got += std::min(cpu[long_cpu[k].second], static_cast<double>(long_cpu[k].first));
            long_hits += ours.count(long_cpu[k].second) ? 1 : 0;
        }
        m.share_long = long_got / long_true;
        m.recall_long = long_hits / 10.0;
        m.recall_long_fair = recall_up_to_ties(long_cpu, ours, true_all, 0.98);
        m.share = top_got / top_true;
        m.share_all = all_got / true_total;
        m.recall = hits / 10.0;
        // The lists behind the figures, so that a miss can be told from a near tie at 10th place.
        std::printf("%-14s rank  true (long-lived plans)            true (all plans)                   dmvlog\n",
                    method.c_str());
        for (std::size_t k = 0; k < 12; ++k) {
            auto cell = [&](const auto& list) {
                char b[64];
                if (k < list.size())
                    std::snprintf(b, sizeof b, "%-18s %10.0f ms", list[k].second.c_str(),
                                  static_cast<double>(list[k].first) / 1000.0);
                else
                    b[0] = 0;
                return std::string(b);
            };
            std::printf("%-14s %4zu  %-34s %-34s %s\n", method.c_str(), k + 1, cell(long_cpu).c_str(),
                        cell(true_cpu).c_str(), cell(ranked).c_str());
        }
        std::printf("%-14s true top-10 CPU attributed %.2f%%, all CPU attributed %.2f%%, top-10 recall %.1f "
                    "(window %s .. %s, %zu query hashes true, %zu reported)\n",
                    method.c_str(), 100 * m.share, 100 * m.share_all, m.recall, iso(S).c_str(), iso(E).c_str(),
                    true_cpu.size(), ranked.size());
        std::printf("%-14s plans living two intervals or more: top-10 CPU attributed %.2f%%, top-10 recall %.1f "
                    "(%.1f up to ties within 2%%)\n",
                    method.c_str(), 100 * m.share_long, m.recall_long, m.recall_long_fair);
        return m;
    };
    if (const char* keep = std::getenv("DMVLOG_QUERY_ACCURACY_KEEP")) {  // for diagnosis: keep the store
        std::filesystem::copy_file(db, keep, std::filesystem::copy_options::overwrite_existing);
        std::printf("store kept at %s; truth: %s\n", keep, truth.dump().c_str());
    }
    auto all = measure("all-snapshots");
    auto two = measure("two-point");
    // The target is 98% of the CPU of queries whose plans live two intervals or more (the simulator's truth
    // with min_lifetime_s), and top-10 recall 1.0 (docs/analysis.md, "Accuracy against the simulator"). The
    // recall that counts is up to ties: dmvlog ranks by all the CPU it saw, so a query whose short-lived plans
    // burned more may rightly take the place of a long-lived one, and two queries within 2% of each other
    // cannot be ordered by a method allowed to miss 2% of each. What polling cannot see is the executions
    // between a lifetime's last snapshot and a recompile (its counters start over). The thresholds keep a
    // margin under the targets because CI runs this beside other tests on a loaded machine; the published
    // figures are in docs/benchmarks.md.
    EXPECT_GE(all.share_long, 0.97) << "all-snapshots: CPU of the top 10 of plans living two intervals or more";
    EXPECT_GE(all.recall_long_fair, 0.9) << "a true top-10 query displaced by one that burned less";
    EXPECT_GE(all.share, 0.75) << "all-snapshots: CPU of the true top 10";
    EXPECT_GE(all.recall, 0.8);
    EXPECT_GT(all.share, two.share + 0.1);
    EXPECT_GT(all.share_long, two.share_long + 0.1);
    EXPECT_GT(all.share_all, two.share_all);
    RecordProperty("all_snapshots_long_lived_top10_share", std::to_string(all.share_long));
    RecordProperty("all_snapshots_long_lived_top10_recall_up_to_ties", std::to_string(all.recall_long_fair));
    RecordProperty("all_snapshots_top10_share", std::to_string(all.share));
    RecordProperty("all_snapshots_all_share", std::to_string(all.share_all));
    RecordProperty("two_point_top10_share", std::to_string(two.share));
    RecordProperty("two_point_all_share", std::to_string(two.share_all));
}

}  // namespace
}  // namespace dmvlog::test
