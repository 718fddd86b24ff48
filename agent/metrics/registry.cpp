#include "agent/metrics/registry.h"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

#include "agent/core/time_format.h"

namespace dmvlog::metrics {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

std::string key_of(const std::string& a, const std::string& b = {}, const std::string& c = {}) {
    return a + '\n' + b + '\n' + c;
}

}  // namespace

const std::vector<double>& duration_buckets() {
    static const std::vector<double> buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
    return buckets;
}

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
    auto& r = *registry_;
    runs_ = &BuildCounter().Name("dmvlog_collector_runs_total")
                 .Help("Runs of a collector on an instance, by how they ended (ok, failed, disabled, cancelled)")
                 .Register(r);
    failures_ = &BuildCounter().Name("dmvlog_collector_failures_total")
                     .Help("Failed or disabling runs by error class (transient, permission, incompatible, fatal)")
                     .Register(r);
    run_duration_ = &BuildHistogram().Name("dmvlog_collector_run_duration_seconds")
                         .Help("How long a collector's run took (query, fetch and handing over to the writer)")
                         .Register(r);
    rows_ = &BuildCounter().Name("dmvlog_collector_rows_total").Help("Rows (XE collectors: events) collected").Register(r);
    skipped_ = &BuildCounter().Name("dmvlog_collector_skipped_ticks_total")
                    .Help("Ticks skipped because the collector's previous run was still going")
                    .Register(r);
    disabled_ = &BuildGauge().Name("dmvlog_collector_disabled")
                     .Help("1 when the collector is disabled on the instance (missing permission, incompatible server)")
                     .Register(r);
    source_connected_ = &BuildGauge().Name("dmvlog_source_connected")
                             .Help("1 when the last connect to the instance succeeded and no connection was lost since")
                             .Register(r);
    reconnects_ = &BuildCounter().Name("dmvlog_source_reconnects_total")
                       .Help("Connects to the instance that followed a failed connect or a lost connection")
                       .Register(r);
    write_duration_ = &BuildHistogram().Name("dmvlog_store_write_duration_seconds")
                           .Help("How long the store took to write one snapshot or run record (failed attempts too)")
                           .Register(r)
                           .Add({}, duration_buckets());
    written_ = &BuildCounter()
                    .Name("dmvlog_store_snapshots_written_total")
                    .Help("Snapshots committed to the store (each part of a large one counts)")
                    .Register(r)
                    .Add({});
    duplicates_ = &BuildCounter().Name("dmvlog_store_snapshots_duplicate_total")
                       .Help("Snapshots already in the store (not written again)")
                       .Register(r)
                       .Add({});
    write_failures_ = &BuildCounter().Name("dmvlog_store_write_failures_total")
                           .Help("Failed store write attempts (each is retried with backoff)")
                           .Register(r)
                           .Add({});
    dropped_ = &BuildCounter().Name("dmvlog_store_dropped_total")
                    .Help("Snapshots or run records dropped because the writer's queue was full")
                    .Register(r)
                    .Add({});
    queued_ = &BuildGauge().Name("dmvlog_store_queue_items").Help("Items waiting for the store writer").Register(r).Add({});
    spool_records_ = &BuildGauge().Name("dmvlog_spool_records").Help("Snapshots kept in the disk spool").Register(r).Add({});
    spool_bytes_ = &BuildGauge().Name("dmvlog_spool_bytes").Help("Size of the disk spool in bytes").Register(r).Add({});
    spool_evicted_ = &BuildCounter().Name("dmvlog_spool_evicted_total")
                          .Help("Spooled snapshots evicted (oldest first) because the spool was full")
                          .Register(r)
                          .Add({});
    spool_corrupt_ = &BuildCounter().Name("dmvlog_spool_corrupt_total")
                          .Help("Spool records found corrupt and skipped")
                          .Register(r)
                          .Add({});
    purged_rows_ = &BuildCounter().Name("dmvlog_retention_purged_rows_total")
                        .Help("Data rows deleted by retention")
                        .Register(r);
    purged_snapshots_ = &BuildCounter().Name("dmvlog_retention_purged_snapshots_total")
                             .Help("Snapshots (XE collectors: events) deleted by retention")
                             .Register(r);
    retention_behind_ = &BuildGauge().Name("dmvlog_retention_behind")
                             .Help("1 when the collector's retention pass had not finished when the next was due: the "
                                   "store holds data older than its retention plus one purge period")
                             .Register(r);
    xe_lag_ = &BuildGauge().Name("dmvlog_xe_bookmark_lag_seconds")
                   .Help("Seconds between now and the time of the newest extended event the XE collector has read")
                   .Register(r);
    ready_ = &BuildGauge().Name("dmvlog_ready").Help("1 when /readyz answers 200").Register(r).Add({});
    BuildGauge().Name("dmvlog_build_info").Help("The agent's version (value 1)").Register(r).Add({{"version", DMVLOG_VERSION}}).Set(1);
}

Metrics::~Metrics() = default;

void Metrics::run_finished(const std::string& instance, const std::string& collector, const collect::RunResult& result) {
    const prometheus::Labels labels = {{"instance", instance}, {"collector", collector}};
    auto with = [&](const char* name, const std::string& value) {
        auto l = labels;
        l[name] = value;
        return l;
    };
    runs_->Add(with("status", result.status.empty() ? "unknown" : result.status)).Increment();
    if (!result.error_class.empty()) failures_->Add(with("class", result.error_class)).Increment();
    if (result.status == "ok" || result.status == "failed")
        run_duration_->Add(labels, duration_buckets()).Observe(result.duration_ms / 1000.0);
    if (result.rows > 0) rows_->Add(labels).Increment(static_cast<double>(result.rows));
    disabled_->Add(labels).Set(result.status == "disabled" ? 1 : 0);
    if (result.newest_event_ticks) {
        std::lock_guard lock(mu_);
        auto [it, added] = newest_event_ticks_.try_emplace({instance, collector}, *result.newest_event_ticks);
        if (!added) it->second = std::max(it->second, *result.newest_event_ticks);
    }
}

void Metrics::store_write(double seconds, bool ok) {
    write_duration_->Observe(seconds);
    (void)ok;  // failures are counted from the writer's totals (dmvlog_store_write_failures_total)
}

void Metrics::advance(prometheus::Counter& counter, const std::string& key, std::uint64_t total) {
    auto& last = last_totals_[key];
    // A total below the last one: a new service generation (a reload) counts from zero again.
    if (total >= last) counter.Increment(static_cast<double>(total - last));
    else counter.Increment(static_cast<double>(total));
    last = total;
}

void Metrics::update(const collect::ServiceSample& sample, std::chrono::system_clock::time_point now) {
    std::lock_guard lock(mu_);
    Readiness ready;
    ready.ready = sample.running;
    if (!sample.running) ready.detail += "schedule: not running\n";
    for (const auto& j : sample.jobs) {
        const prometheus::Labels labels = {{"instance", j.instance}, {"collector", j.collector}};
        disabled_->Add(labels).Set(j.disabled ? 1 : 0);
        for (const char* status : {"ok", "failed"}) {
            auto l = labels;
            l["status"] = status;
            runs_->Add(l);  // present from the start, so that rate() and increase() see the first run
        }
        rows_->Add(labels);
        advance(skipped_->Add(labels), key_of("skipped", j.instance, j.collector), j.skipped_busy);
    }
    for (const auto& s : sample.sources) {
        const prometheus::Labels labels = {{"instance", s.instance}};
        source_connected_->Add(labels).Set(s.reachable ? 1 : 0);
        advance(reconnects_->Add(labels), key_of("reconnects", s.instance), s.reconnects);
        ready.ready = ready.ready && s.reachable;
        ready.detail += fmt::format("instance {}: {}\n", s.instance, s.reachable ? "reachable" : "NOT reachable");
    }
    const auto& w = sample.writer;
    advance(*written_, "written", w.written);
    advance(*duplicates_, "duplicates", w.duplicates);
    advance(*write_failures_, "write_failures", w.failures);
    advance(*dropped_, "dropped", w.dropped);
    queued_->Set(static_cast<double>(w.queued));
    spool_records_->Set(static_cast<double>(w.spool_records));
    spool_bytes_->Set(static_cast<double>(w.spool_bytes));
    advance(*spool_evicted_, "spool_evicted", w.spool_evicted);
    advance(*spool_corrupt_, "spool_corrupt", w.spool_corrupt);
    for (const auto& [collector, r] : w.retention) {
        const prometheus::Labels labels = {{"collector", collector}};
        advance(purged_rows_->Add(labels), key_of("purged_rows", collector), r.rows);
        advance(purged_snapshots_->Add(labels), key_of("purged_snapshots", collector), r.snapshots);
        retention_behind_->Add(labels).Set(r.behind ? 1 : 0);
    }
    const bool store_ok = w.last_error.empty();
    ready.ready = ready.ready && store_ok;
    ready.detail += store_ok ? std::string("store: writing\n") : "store: write failing: " + w.last_error + "\n";

    const std::int64_t now_ticks =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() / 100;
    for (const auto& [key, ticks] : newest_event_ticks_) {
        const auto& [instance, collector] = key;
        const double lag = static_cast<double>(now_ticks - ticks) / static_cast<double>(kTicksPerSecond);
        xe_lag_->Add({{"instance", instance}, {"collector", collector}}).Set(std::max(0.0, lag));
    }
    ready_->Set(ready.ready ? 1 : 0);
    readiness_ = std::move(ready);
}

void Metrics::set_sampler(std::function<collect::ServiceSample()> sampler) {
    std::lock_guard lock(mu_);
    sampler_ = std::move(sampler);
}

std::string Metrics::scrape() {
    std::function<collect::ServiceSample()> sampler;
    {
        std::lock_guard lock(mu_);
        sampler = sampler_;
    }
    if (sampler) update(sampler());
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, registry_->Collect());
    return out.str();
}

Readiness Metrics::readiness() {
    std::function<collect::ServiceSample()> sampler;
    {
        std::lock_guard lock(mu_);
        sampler = sampler_;
    }
    if (sampler) update(sampler());
    std::lock_guard lock(mu_);
    return readiness_;
}

}  // namespace dmvlog::metrics
