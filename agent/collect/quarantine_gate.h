// The quarantine of one collector job (docs/operations.md, "Source faults"): before its query runs, a marker
// is written (RunMarkers); a marker left by an agent that died has the job skipped for a while after the
// restart. Shared by the collector jobs (job.h) and the extended-event jobs (blocking/xe_job.h).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "agent/collect/run_markers.h"
#include "agent/collect/run_state.h"
#include "agent/core/value.h"
#include "agent/sched/clock.h"

namespace dmvlog::collect {

class QuarantineGate {
public:
    // Held while the job's query runs: its marker is removed (and a kept quarantine record forgotten after a
    // normal run) when it goes, whatever the way the run ends.
    class Pass {
    public:
        Pass(RunMarkers* markers, bool written, std::string instance, std::string collector, bool forget_quarantine);
        ~Pass();
        Pass(const Pass&) = delete;
        Pass& operator=(const Pass&) = delete;

    private:
        RunMarkers* markers_;
        bool written_;
        std::string instance_, collector_;
        bool forget_;
    };

    // Where the marker of a running query is kept (null: no markers).
    void set_markers(RunMarkers* markers) { markers_ = markers; }
    // Skip the runs for this long from the next run on, for this reason.
    void quarantine(std::chrono::milliseconds length, std::string reason);
    // A quarantine kept from before is over: its record is forgotten after the next run that ends normally.
    void quarantine_over();
    bool quarantined() const;

    // Before a run at now: nullptr when the job is quarantined (result says so; the first quarantined run is
    // recorded through state), else the pass that keeps the run's marker until the run ends.
    std::unique_ptr<Pass> enter(const std::string& instance, const std::string& collector, const Timestamp& started_at,
                                sched::TimePoint now, RunState& state, RunResult& result);

private:
    mutable std::mutex mu_;
    RunMarkers* markers_ = nullptr;
    bool marker_failed_ = false;                      // said once
    std::optional<std::chrono::milliseconds> pending_;
    std::optional<sched::TimePoint> until_;
    std::string reason_;
    bool record_ = false;                             // a quarantine record to forget after a normal run
};

}  // namespace dmvlog::collect
