#include "agent/collect/quarantine_gate.h"

#include <spdlog/spdlog.h>

#include "agent/core/time_format.h"

namespace dmvlog::collect {

QuarantineGate::Pass::Pass(RunMarkers* markers, bool written, std::string instance, std::string collector,
                           bool forget_quarantine)
    : markers_(markers), written_(written), instance_(std::move(instance)), collector_(std::move(collector)),
      forget_(forget_quarantine) {}

QuarantineGate::Pass::~Pass() {
    if (!markers_) return;
    try {
        if (written_) markers_->end(instance_, collector_);
        if (forget_) markers_->forget(instance_, collector_);
    } catch (...) {
    }
}

void QuarantineGate::quarantine(std::chrono::milliseconds length, std::string reason) {
    std::lock_guard lock(mu_);
    pending_ = length;
    reason_ = std::move(reason);
    record_ = true;
}

void QuarantineGate::quarantine_over() {
    std::lock_guard lock(mu_);
    record_ = true;
}

bool QuarantineGate::quarantined() const {
    std::lock_guard lock(mu_);
    return pending_.has_value() || until_.has_value();
}

std::unique_ptr<QuarantineGate::Pass> QuarantineGate::enter(const std::string& instance, const std::string& collector,
                                                            const Timestamp& started_at, sched::TimePoint now,
                                                            RunState& state, RunResult& result) {
    bool forget = false;
    {
        std::unique_lock lock(mu_);
        if (pending_) {
            until_ = now + std::chrono::duration_cast<sched::Duration>(*pending_);
            pending_.reset();
            auto reason = reason_;
            lock.unlock();
            state.quarantined(reason, result, started_at);
            return nullptr;
        }
        if (until_) {
            if (now < *until_) {
                result.status = "quarantined";
                result.error_class = "quarantine";
                result.error = reason_;
                return nullptr;
            }
            until_.reset();
            spdlog::info("instance {}: collector {}: quarantine over, runs again", instance, collector);
        }
        forget = record_;
        record_ = false;
    }
    bool written = false;
    if (markers_) {
        try {
            markers_->begin(instance, collector, format_timestamp(started_at));
            written = true;
        } catch (const std::exception& e) {
            std::lock_guard lock(mu_);
            if (!marker_failed_)
                spdlog::warn("instance {}: collector {}: no run marker ({}); a query that takes the agent down will not be "
                             "quarantined", instance, collector, e.what());
            marker_failed_ = true;
        }
    }
    return std::make_unique<Pass>(markers_, written, instance, collector, forget);
}

}  // namespace dmvlog::collect
