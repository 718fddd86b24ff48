// What the service tells the outside about itself while it runs (agent/metrics reads it): each finished run
// as it ends (pushed), and the state of its jobs, sources and store writer when asked (pulled, e.g. per scrape).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/collect/run_state.h"
#include "agent/store/writer.h"

namespace dmvlog::collect {

// One collector job on one instance.
struct JobSample {
    std::string instance;
    std::string collector;
    bool disabled = false;            // disabled on this instance (permission, incompatible)
    std::uint64_t skipped_busy = 0;   // ticks skipped because the previous run was still going (since start)
};

// One instance's connection pool.
struct SourceSample {
    std::string instance;
    bool reachable = false;           // the last connect succeeded and no connection was lost since
    std::uint64_t reconnects = 0;     // connects that followed a failure or a lost connection (since start)
};

struct ServiceSample {
    bool running = false;             // the schedule is running (false before run() and after stop())
    std::vector<JobSample> jobs;
    std::vector<SourceSample> sources;
    store::Writer::Stats writer;
};

class RunObserver {
public:
    virtual ~RunObserver() = default;
    // After each scheduled run of a collector job, on the job's thread.
    virtual void run_finished(const std::string& instance, const std::string& collector, const RunResult& result) = 0;
};

}  // namespace dmvlog::collect
