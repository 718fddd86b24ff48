#include "agent/collect/run_state.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/collect/snapshot_builder.h"
#include "agent/odbc/classify.h"

namespace dmvlog::collect {

bool RunState::disabled() const {
    std::lock_guard lock(mu_);
    return disabled_;
}

std::string RunState::disabled_reason() const {
    std::lock_guard lock(mu_);
    return disabled_reason_;
}

bool RunState::refuse_if_disabled(RunResult& result) const {
    std::lock_guard lock(mu_);
    if (!disabled_) return false;
    result.status = "disabled";
    result.error = disabled_reason_;
    return true;
}

void RunState::disable(const std::string& error_class, const std::string& reason, RunResult& result,
                       const Timestamp& started_at) {
    {
        std::lock_guard lock(mu_);
        if (disabled_) return;
        disabled_ = true;
        disabled_reason_ = reason;
    }
    result.status = "disabled";
    result.error_class = error_class;
    result.error = reason;
    spdlog::error("instance {}: collector {} disabled ({}): {}", instance_, collector_, error_class, reason);
    writer_.submit(store::RunRecord{instance_, collector_, started_at, result.duration_ms, 0, 0, "disabled", error_class, reason});
}

void RunState::fail(const std::string& error_class, const std::string& message, RunResult& result,
                    const Timestamp& started_at) {
    result.status = "failed";
    result.error_class = error_class;
    result.error = message;
    bool first;
    {
        std::lock_guard lock(mu_);
        first = !failing_;
        failing_ = true;
    }
    if (first) spdlog::warn("instance {}: collector {} failed ({}): {}", instance_, collector_, error_class, message);
    else spdlog::debug("instance {}: collector {} failed again ({}): {}", instance_, collector_, error_class, message);
    writer_.submit(store::RunRecord{instance_, collector_, started_at, result.duration_ms, 0, 0, "failed", error_class, message});
}

void RunState::quarantined(const std::string& reason, RunResult& result, const Timestamp& started_at) {
    result.status = "quarantined";
    result.error_class = "quarantine";
    result.error = reason;
    spdlog::error("instance {}: collector {} quarantined: {}", instance_, collector_, reason);
    writer_.submit(store::RunRecord{instance_, collector_, started_at, 0, 0, 0, "quarantined", "quarantine", reason});
}

void RunState::succeeded() {
    std::lock_guard lock(mu_);
    if (failing_) spdlog::info("instance {}: collector {} works again", instance_, collector_);
    failing_ = false;
}

void RunState::record_current_exception(RunResult& result, const Timestamp& started_at,
                                        const std::optional<ServerInfo>& info, bool stopping) {
    try {
        throw;
    } catch (const odbc::Error& e) {
        const auto cls = odbc::classify(e);
        const std::string message = e.what();
        if (stopping && cls == odbc::ErrorClass::transient) {
            // The shutdown cancelled this run's query: nothing was read, nothing failed on the server's side.
            result.status = "cancelled";
            result.error_class = "shutdown";
            result.error = message;
            spdlog::info("instance {}: collector {}: run cancelled by the shutdown", instance_, collector_);
            return;
        }
        if (cls == odbc::ErrorClass::permission && !odbc::is_login_failure(e)) {
            disable("permission", message, result, started_at);
        } else if (cls == odbc::ErrorClass::incompatible) {
            disable("incompatible",
                    info ? fmt::format("{} (server: {} {})", message, product_name(info->major_version), info->product_version)
                         : message,
                    result, started_at);
        } else {
            fail(std::string(odbc::to_string(cls)), message, result, started_at);
        }
    } catch (const ShapeError& e) {
        disable("incompatible", e.what(), result, started_at);
    } catch (const SourceUnavailable& e) {
        if (stopping) {
            // The shutdown came while this run waited for a connection: it never started.
            result.status = "cancelled";
            result.error_class = "shutdown";
            result.error = e.what();
            return;
        }
        fail("transient", e.what(), result, started_at);
    } catch (const std::exception& e) {
        fail("fatal", e.what(), result, started_at);
    }
}

}  // namespace dmvlog::collect
