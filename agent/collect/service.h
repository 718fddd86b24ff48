// The agent: one source per instance, one job per (instance, collector), one store writer, one scheduler.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/collect/declaration.h"
#include "agent/collect/job.h"
#include "agent/collect/run_markers.h"
#include "agent/collect/observer.h"
#include "agent/collect/source.h"
#include "agent/config/config.h"
#include "agent/odbc/environment.h"
#include "agent/sched/scheduler.h"
#include "agent/store/store.h"
#include "agent/store/writer.h"

namespace dmvlog::blocking {
class XeJob;
}

namespace dmvlog::collect {

class Service {
public:
    // decls: every declared collector, overrides applied; disabled ones get no job.
    Service(const config::Config& cfg, std::vector<CollectorDecl> decls, odbc::Environment& env, store::Store& store);
    ~Service();

    // One pass of the named collectors (all enabled ones when `only` is empty), then waits for the writes.
    // Returns one result per job run.
    std::vector<std::pair<std::string, RunResult>> collect_once(const std::vector<std::string>& only);

    // Runs every job on its interval until stop() is called; then cancels running queries and writes what
    // was collected, all within drain_timeout counted from stop().
    void run(sched::Clock& clock, std::chrono::milliseconds drain_timeout = std::chrono::seconds(10));
    // Safe to call from another thread (the signal thread), before or during run().
    void stop();

    // Set before run(): fn runs on the scheduler's own loop thread when the schedule starts and then every
    // `every` of wall time (the systemd watchdog and status; a hung loop stops calling it).
    void set_heartbeat(std::chrono::milliseconds every, std::function<void()> fn);

    // Live figures for status lines. Runs and failures count scheduled runs since run() started.
    struct Counters {
        std::size_t instances = 0;
        std::size_t jobs = 0;              // (instance, collector) pairs scheduled
        std::uint64_t runs = 0;            // finished runs
        std::uint64_t failures = 0;        // finished runs whose status is not ok (a cancelled one at stop excepted)
        std::size_t queued = 0;            // items waiting for the store writer
    };
    Counters counters() const;
    // Told after each scheduled run; set before run(). May be null.
    void set_observer(RunObserver* observer) { observer_ = observer; }
    // The state of jobs, sources and writer now; safe from any thread, also before and after run().
    ServiceSample sample();

    const std::vector<CollectorDecl>& decls() const { return decls_; }
    store::Writer& writer() { return *writer_; }

    // Null when quarantine is off (agent.quarantine = 0s) or the state folder cannot be used.
    RunMarkers* markers() { return markers_.get(); }

private:
    void count(const RunResult& r);
    // Turns markers left by an agent that died into quarantines, and applies the quarantines still running
    // (once). scale: the schedule's speed (quarantines are schedule time).
    void apply_quarantine(double scale);

    const config::Config& cfg_;
    std::vector<CollectorDecl> decls_;
    store::Store& store_;
    std::vector<std::unique_ptr<InstanceSource>> sources_;
    std::vector<std::unique_ptr<CollectorJob>> jobs_;
    std::vector<std::unique_ptr<blocking::XeJob>> xe_jobs_;  // declarations of an XE kind (xe_file, xe_ring_buffer)
    std::unique_ptr<store::Writer> writer_;
    mutable std::mutex mu_;
    std::unique_ptr<RunMarkers> markers_;
    bool quarantine_applied_ = false;
    sched::Scheduler* scheduler_ = nullptr;
    std::vector<std::pair<JobSample, sched::Scheduler::JobId>> scheduled_;  // under mu_ while scheduler_ is set
    bool stop_requested_ = false;
    std::chrono::steady_clock::time_point stop_at_{};
    std::chrono::milliseconds heartbeat_every_{0};
    std::function<void()> heartbeat_;
    std::atomic<std::uint64_t> runs_{0};
    std::atomic<std::uint64_t> failures_{0};
    RunObserver* observer_ = nullptr;
};

// How often retention runs: each pass deletes what is older than each collector's retention.
inline constexpr std::chrono::minutes kRetentionPeriod{10};

// Automatic splay: 10% of the interval, at most 30 s.
sched::Duration default_splay(std::chrono::milliseconds interval);

}  // namespace dmvlog::collect
