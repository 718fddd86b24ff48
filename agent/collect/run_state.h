// What every collector job keeps between runs and how a run ends when it does not succeed, with the
// behaviour of each error class:
//   permission   -> the collector is disabled on that instance, said once (log line and run record);
//   incompatible -> disabled likewise, naming the server's version;
//   transient, fatal -> the run fails and is recorded; logged once per failing streak; the next tick retries;
//   a run whose query the shutdown cancelled -> status cancelled, logged, not recorded as a run (it read nothing).
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "agent/collect/source.h"
#include "agent/core/value.h"
#include "agent/store/writer.h"

namespace dmvlog::collect {

struct RunResult {
    std::string status;        // ok | failed | disabled | cancelled | quarantined
    std::string error_class;   // transient | permission | incompatible | fatal | quarantine | "" when ok
    std::string error;
    std::int64_t rows = 0;
    std::int64_t bytes = 0;
    double duration_ms = 0;
    int databases = 0;         // per-database collectors: databases read
    int databases_skipped = 0;
    // XE collectors: the time (UTC ticks, 100 ns since 1970) of the newest event this run read, when it read any.
    std::optional<std::int64_t> newest_event_ticks;
};

class RunState {
public:
    RunState(std::string instance, std::string collector, store::Writer& writer)
        : instance_(std::move(instance)), collector_(std::move(collector)), writer_(writer) {}

    bool disabled() const;
    std::string disabled_reason() const;
    // For a collector that is disabled: fills result and returns true (the run does nothing).
    bool refuse_if_disabled(RunResult& result) const;

    void disable(const std::string& error_class, const std::string& reason, RunResult& result, const Timestamp& started_at);
    void fail(const std::string& error_class, const std::string& message, RunResult& result, const Timestamp& started_at);
    // The collector is skipped for a while because the agent died while its query ran (run_markers.h):
    // logged and recorded (status quarantined, class quarantine) once, when the quarantine starts.
    void quarantined(const std::string& reason, RunResult& result, const Timestamp& started_at);
    // A run succeeded: ends a failing streak (said once).
    void succeeded();
    // Applies the error-class behaviour to the exception being handled; call inside catch (...).
    // result.duration_ms must already be set. stopping: the source's queries were cancelled by the shutdown.
    void record_current_exception(RunResult& result, const Timestamp& started_at, const std::optional<ServerInfo>& info,
                                  bool stopping = false);

private:
    std::string instance_;
    std::string collector_;
    store::Writer& writer_;
    mutable std::mutex mu_;
    bool disabled_ = false;
    std::string disabled_reason_;
    bool failing_ = false;
};

}  // namespace dmvlog::collect
