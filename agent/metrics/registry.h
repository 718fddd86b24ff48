// The agent's own metrics (all named dmvlog_*), kept in a prometheus-cpp registry and served as Prometheus
// text by agent/metrics/server.h. Runs are pushed as they end (RunObserver); the state of jobs, sources, the
// store writer, its spool and retention is pulled from the service just before each scrape (update()).
// docs/operations.md, "Metrics and alerts", lists every metric and what to do when it alerts.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "agent/collect/observer.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace dmvlog::metrics {

// Readiness (/readyz): the schedule runs, every instance is reachable, the store takes writes.
struct Readiness {
    bool ready = false;
    std::string detail;   // one line per check: "instance sql1: reachable", "store: write failing: ..."
};

class Metrics final : public collect::RunObserver {
public:
    Metrics();
    ~Metrics() override;
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    void run_finished(const std::string& instance, const std::string& collector, const collect::RunResult& result) override;
    // Store write latency (store::Writer::set_write_observer).
    void store_write(double seconds, bool ok);
    // Sets gauges and advances counters from the service's state (counters in the sample are totals since start).
    // now: for the XE bookmark lag.
    void update(const collect::ServiceSample& sample,
                std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

    // Where update() gets its sample before each scrape (the running service); none: scrape what was pushed.
    void set_sampler(std::function<collect::ServiceSample()> sampler);
    // Samples (when a sampler is set) and returns the Prometheus text exposition of every metric.
    std::string scrape();
    // From the latest sample (taken now when a sampler is set).
    Readiness readiness();

    prometheus::Registry& registry() { return *registry_; }

private:
    // Adds to a counter what a running total grew by since the last sample.
    void advance(prometheus::Counter& counter, const std::string& key, std::uint64_t total);

    std::shared_ptr<prometheus::Registry> registry_;
    prometheus::Family<prometheus::Counter>* runs_;
    prometheus::Family<prometheus::Counter>* failures_;
    prometheus::Family<prometheus::Histogram>* run_duration_;
    prometheus::Family<prometheus::Counter>* rows_;
    prometheus::Family<prometheus::Counter>* skipped_;
    prometheus::Family<prometheus::Gauge>* disabled_;
    prometheus::Family<prometheus::Gauge>* source_connected_;
    prometheus::Family<prometheus::Counter>* reconnects_;
    prometheus::Histogram* write_duration_;
    prometheus::Counter* written_;
    prometheus::Counter* duplicates_;
    prometheus::Counter* write_failures_;
    prometheus::Counter* dropped_;
    prometheus::Gauge* queued_;
    prometheus::Gauge* spool_records_;
    prometheus::Gauge* spool_bytes_;
    prometheus::Counter* spool_evicted_;
    prometheus::Counter* spool_corrupt_;
    prometheus::Family<prometheus::Counter>* purged_rows_;
    prometheus::Family<prometheus::Counter>* purged_snapshots_;
    prometheus::Family<prometheus::Gauge>* retention_behind_;
    prometheus::Family<prometheus::Gauge>* xe_lag_;
    prometheus::Gauge* ready_;

    std::mutex mu_;
    std::map<std::string, std::uint64_t> last_totals_;         // advance(): key -> total at the last sample
    std::map<std::pair<std::string, std::string>, std::int64_t> newest_event_ticks_;  // (instance, collector) -> newest XE event read
    std::function<collect::ServiceSample()> sampler_;
    Readiness readiness_;
};

// The histogram buckets of run and write durations, in seconds.
const std::vector<double>& duration_buckets();

}  // namespace dmvlog::metrics
