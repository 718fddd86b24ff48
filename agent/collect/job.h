// One collector on one instance: runs the collector's batch, checks the answer's shape, hands the snapshot
// to the store writer, records the run, and applies the behaviour of each error class:
//   transient    (connection lost, timeout, deadlock victim) -> the run fails, the next tick retries
//                 (the source reconnects with backoff);
//   permission   (229, 297, 300, ...)                        -> this collector is disabled, said once;
//   incompatible (207, 208, a missing column)                -> disabled, naming the server version;
//   fatal        (anything else)                             -> the run fails and is logged; the next tick retries.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

#include "agent/collect/declaration.h"
#include "agent/collect/source.h"
#include "agent/store/writer.h"

namespace dmvlog::collect {

struct RunResult {
    std::string status;        // ok | failed | disabled | skipped
    std::string error_class;   // transient | permission | incompatible | fatal | "" when ok
    std::string error;
    std::int64_t rows = 0;
    std::int64_t bytes = 0;
    double duration_ms = 0;
};

class CollectorJob {
public:
    CollectorJob(const CollectorDecl& decl, InstanceSource& source, store::Writer& writer);

    RunResult run();

    const CollectorDecl& decl() const { return decl_; }
    const std::string& instance() const { return source_.instance().name; }
    bool disabled() const;
    std::string disabled_reason() const;

private:
    void disable(const std::string& error_class, const std::string& reason, RunResult& result,
                 const Timestamp& started_at);

    const CollectorDecl& decl_;
    InstanceSource& source_;
    store::Writer& writer_;
    std::string batch_;
    mutable std::mutex mu_;
    bool disabled_ = false;
    std::string disabled_reason_;
    bool failing_ = false;  // to log a transient failure once per failing streak
};

// The current UTC time as a Timestamp (agent clock).
Timestamp utc_now();

}  // namespace dmvlog::collect
