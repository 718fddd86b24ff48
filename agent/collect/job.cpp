#include "agent/collect/job.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/collect/snapshot_builder.h"
#include "agent/odbc/classify.h"

namespace dmvlog::collect {

namespace {

std::chrono::seconds to_seconds_ceil(std::chrono::milliseconds ms) {
    auto s = std::chrono::duration_cast<std::chrono::seconds>(ms + std::chrono::milliseconds(999));
    return std::max(s, std::chrono::seconds(1));
}

}  // namespace

Timestamp utc_now() {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch());
    return Timestamp{ns.count() / 100, 0, false};
}

CollectorJob::CollectorJob(const CollectorDecl& decl, InstanceSource& source, store::Writer& writer)
    : decl_(decl), source_(source), writer_(writer), batch_(assemble_batch(decl)) {}

bool CollectorJob::disabled() const {
    std::lock_guard lock(mu_);
    return disabled_;
}

std::string CollectorJob::disabled_reason() const {
    std::lock_guard lock(mu_);
    return disabled_reason_;
}

void CollectorJob::disable(const std::string& error_class, const std::string& reason, RunResult& result,
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
    spdlog::error("instance {}: collector {} disabled ({}): {}", instance(), decl_.name, error_class, reason);
    store::RunRecord rec{instance(), decl_.name, started_at, result.duration_ms, 0, 0, "disabled", error_class, reason};
    writer_.submit(std::move(rec));
}

RunResult CollectorJob::run() {
    RunResult result;
    if (disabled()) {
        result.status = "disabled";
        result.error = disabled_reason();
        return result;
    }
    const Timestamp started_at = utc_now();
    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed_ms = [&] {
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    };
    auto fail = [&](const std::string& cls, const std::string& message) {
        result.status = "failed";
        result.error_class = cls;
        result.error = message;
        result.duration_ms = elapsed_ms();
        bool first;
        {
            std::lock_guard lock(mu_);
            first = !failing_;
            failing_ = true;
        }
        if (first) spdlog::warn("instance {}: collector {} failed ({}): {}", instance(), decl_.name, cls, message);
        else spdlog::debug("instance {}: collector {} failed again ({}): {}", instance(), decl_.name, cls, message);
        writer_.submit(store::RunRecord{instance(), decl_.name, started_at, result.duration_ms, 0, 0, "failed", cls, message});
    };
    try {
        auto lease = source_.acquire();
        if (auto info = source_.info(); info && info->major_version > 0 && info->major_version < decl_.min_version) {
            result.duration_ms = elapsed_ms();
            disable("incompatible",
                    fmt::format("needs {} or later; the server is {} {}", product_name(decl_.min_version),
                                product_name(info->major_version), info->product_version),
                    result, started_at);
            return result;
        }
        SnapshotBuilder builder(decl_, instance());
        lease->run(batch_, to_seconds_ceil(decl_.timeout), builder, "collector " + decl_.name);
        auto snap = builder.take();
        result.status = "ok";
        result.rows = static_cast<std::int64_t>(snap.rows.size());
        result.bytes = builder.bytes();
        result.duration_ms = elapsed_ms();
        {
            std::lock_guard lock(mu_);
            if (failing_) spdlog::info("instance {}: collector {} works again", instance(), decl_.name);
            failing_ = false;
        }
        writer_.submit(std::move(snap), store::RunRecord{instance(), decl_.name, started_at, result.duration_ms,
                                                         result.rows, result.bytes, "ok", "", ""});
    } catch (const odbc::Error& e) {
        auto cls = odbc::classify(e);
        result.duration_ms = elapsed_ms();
        std::string message = e.what();
        if (cls == odbc::ErrorClass::permission && !odbc::is_login_failure(e)) {
            disable("permission", message, result, started_at);
        } else if (cls == odbc::ErrorClass::incompatible) {
            auto info = source_.info();
            disable("incompatible",
                    info ? fmt::format("{} (server: {} {})", message, product_name(info->major_version), info->product_version)
                         : message,
                    result, started_at);
        } else {
            fail(std::string(odbc::to_string(cls)), message);
        }
    } catch (const ShapeError& e) {
        result.duration_ms = elapsed_ms();
        disable("incompatible", e.what(), result, started_at);
    } catch (const SourceUnavailable& e) {
        fail("transient", e.what());
    } catch (const std::exception& e) {
        fail("fatal", e.what());
    }
    return result;
}

}  // namespace dmvlog::collect
