// The agent: one source per instance, one job per (instance, collector), one store writer, one scheduler.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/collect/declaration.h"
#include "agent/collect/job.h"
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
    // was collected (within drain_timeout).
    void run(sched::Clock& clock, std::chrono::milliseconds drain_timeout = std::chrono::seconds(10));
    // Safe to call from another thread (the signal thread).
    void stop();

    // Told after each scheduled run; set before run(). May be null.
    void set_observer(RunObserver* observer) { observer_ = observer; }
    // The state of jobs, sources and writer now; safe from any thread, also before and after run().
    ServiceSample sample();

    const std::vector<CollectorDecl>& decls() const { return decls_; }
    store::Writer& writer() { return *writer_; }

private:
    const config::Config& cfg_;
    std::vector<CollectorDecl> decls_;
    store::Store& store_;
    std::vector<std::unique_ptr<InstanceSource>> sources_;
    std::vector<std::unique_ptr<CollectorJob>> jobs_;
    std::vector<std::unique_ptr<blocking::XeJob>> xe_jobs_;  // declarations of an XE kind (xe_file, xe_ring_buffer)
    std::unique_ptr<store::Writer> writer_;
    std::mutex mu_;
    sched::Scheduler* scheduler_ = nullptr;
    std::vector<std::pair<JobSample, sched::Scheduler::JobId>> scheduled_;  // under mu_ while scheduler_ is set
    bool stop_requested_ = false;
    RunObserver* observer_ = nullptr;
};

// How often retention runs: each pass deletes what is older than each collector's retention.
inline constexpr std::chrono::minutes kRetentionPeriod{10};

// Automatic splay: 10% of the interval, at most 30 s.
sched::Duration default_splay(std::chrono::milliseconds interval);

}  // namespace dmvlog::collect
