#include "agent/collect/job.h"

#include <algorithm>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/collect/snapshot_builder.h"
#include "agent/core/embedded.h"
#include "agent/core/time_format.h"
#include "agent/odbc/classify.h"

namespace dmvlog::collect {

namespace {

std::chrono::seconds to_seconds_ceil(std::chrono::milliseconds ms) {
    auto s = std::chrono::duration_cast<std::chrono::seconds>(ms + std::chrono::milliseconds(999));
    return std::max(s, std::chrono::seconds(1));
}

// SQL Server errors that mean "this database cannot be read now", not "the collector is wrong".
bool is_database_unavailable(const odbc::Error& e) {
    for (int n : {911, 916, 942, 945, 952, 4060, 40892, 976, 978, 983})
        if (e.has_native(n)) return true;
    return false;
}

std::string_view clock_select() {
    return "SELECT SYSUTCDATETIME() AS collected_at, DATEPART(TZOFFSET, SYSDATETIMEOFFSET()) AS utc_offset_minutes, "
           "(SELECT sqlserver_start_time FROM sys.dm_os_sys_info) AS sqlserver_start_time;";
}

std::string text_of(const Value& v) {
    if (auto p = std::get_if<std::string>(&v)) return *p;
    return {};
}

}  // namespace

Timestamp utc_now() {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch());
    return Timestamp{ns.count() / 100, 0, false};
}

std::vector<DatabaseInfo> list_databases(odbc::Connection& conn) {
    auto sql = embedded::find("sql/agent/databases.sql");
    auto sets = conn.query("/* dmvlog:databases */\n" + std::string(sql.value_or("")), std::chrono::seconds(30), "databases");
    std::vector<DatabaseInfo> out;
    if (sets.empty()) return out;
    const auto& cols = sets[0].columns;
    auto idx = [&](std::string_view name) {
        for (std::size_t i = 0; i < cols.size(); ++i)
            if (cols[i].name == name) return static_cast<int>(i);
        return -1;
    };
    int id = idx("database_id"), name = idx("name"), state = idx("state_desc"), access = idx("user_access_desc"),
        has = idx("has_access");
    if (id < 0 || name < 0) throw std::runtime_error("databases: the answer lacks database_id or name");
    for (auto& row : sets[0].rows) {
        DatabaseInfo d;
        if (auto p = std::get_if<std::int64_t>(&row[static_cast<std::size_t>(id)])) d.database_id = *p;
        d.name = text_of(row[static_cast<std::size_t>(name)]);
        if (state >= 0) d.state_desc = text_of(row[static_cast<std::size_t>(state)]);
        if (access >= 0) d.user_access_desc = text_of(row[static_cast<std::size_t>(access)]);
        if (has >= 0) {
            if (auto p = std::get_if<std::int64_t>(&row[static_cast<std::size_t>(has)])) d.has_access = *p != 0;
        } else {
            d.has_access = true;
        }
        out.push_back(std::move(d));
    }
    return out;
}

std::vector<DatabaseInfo> databases_to_visit(const std::vector<DatabaseInfo>& all, const config::Instance& inst) {
    std::vector<DatabaseInfo> out;
    auto listed = [](const std::vector<std::string>& list, const std::string& name) {
        return std::find(list.begin(), list.end(), name) != list.end();
    };
    for (const auto& d : all) {
        if (d.database_id <= 4) continue;
        if (d.state_desc != "ONLINE" || !d.has_access || d.user_access_desc == "SINGLE_USER") continue;
        if (!inst.include_databases.empty() && !listed(inst.include_databases, d.name)) continue;
        if (listed(inst.exclude_databases, d.name)) continue;
        out.push_back(d);
    }
    return out;
}

CollectorJob::CollectorJob(const CollectorDecl& decl, InstanceSource& source, store::Writer& writer, sched::Clock* clock)
    : decl_(decl), source_(source), writer_(writer), clock_(clock), state_(source.instance().name, decl.name, writer) {}

sched::TimePoint CollectorJob::now() const {
    if (clock_) return clock_->now();
    return std::chrono::time_point_cast<sched::Duration>(std::chrono::system_clock::now());
}

bool CollectorJob::disabled() const { return state_.disabled(); }

std::string CollectorJob::disabled_reason() const { return state_.disabled_reason(); }

void CollectorJob::quarantine(std::chrono::milliseconds length, std::string reason) { gate_.quarantine(length, std::move(reason)); }

void CollectorJob::quarantine_over() { gate_.quarantine_over(); }

bool CollectorJob::quarantined() const { return gate_.quarantined(); }

RunResult CollectorJob::run() {
    RunResult result;
    if (state_.refuse_if_disabled(result)) return result;
    const Timestamp started_at = utc_now();
    const auto pass = gate_.enter(instance(), decl_.name, started_at, now(), state_, result);
    if (!pass) return result;
    const auto run_start = now();
    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed_ms = [&] {
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    };
    try {
        auto lease = source_.acquire();
        auto info = source_.info();
        if (info && info->major_version > 0 && info->major_version < decl_.min_version) {
            result.duration_ms = elapsed_ms();
            state_.disable("incompatible",
                           fmt::format("needs {} or later; the server is {} {}", product_name(decl_.min_version),
                                       product_name(info->major_version), info->product_version),
                           result, started_at);
            return result;
        }
        BatchContext ctx;
        ctx.server_major_version = info ? info->major_version : 0;
        {
            std::lock_guard lock(mu_);
            if (last_success_) {
                auto since = std::chrono::duration_cast<std::chrono::milliseconds>(run_start - *last_success_) + decl_.interval;
                ctx.runtime.emplace_back("since_ms", std::min<long long>(since.count(), 2'000'000'000LL));
            }
        }
        const auto timeout = to_seconds_ceil(decl_.timeout);
        const std::string context = "collector " + decl_.name;
        SnapshotBuilder builder(decl_, instance());
        // A large answer goes to the writer in parts while it arrives; the run record goes with the last part,
        // so a run that fails after a part keeps what was handed over and is recorded as failed.
        builder.emit_parts(part_rows_,
                           [this](store::Snapshot&& part) { writer_.submit(std::move(part), store::RunRecord{}); });
        if (decl_.scope == "database") {
            auto dbs = databases_to_visit(list_databases(*lease), source_.instance());
            for (const auto& db : dbs) {
                ctx.database = db.name;
                builder.start_database(db.database_id, db.name);
                try {
                    lease->run(assemble_batch(decl_, ctx), timeout, builder, context + " in database " + db.name);
                    ++result.databases;
                    std::lock_guard lock(mu_);
                    if (skipped_dbs_.erase(db.name))
                        spdlog::info("instance {}: collector {} reads database {} again", instance(), decl_.name, db.name);
                } catch (const odbc::Error& e) {
                    if (!is_database_unavailable(e) || odbc::is_connection_lost(e)) throw;
                    ++result.databases_skipped;
                    std::lock_guard lock(mu_);
                    if (!skipped_dbs_.count(db.name)) {
                        skipped_dbs_[db.name] = e.what();
                        spdlog::warn("instance {}: collector {} skips database {}: {}", instance(), decl_.name, db.name, e.what());
                    }
                }
            }
            if (dbs.empty() || result.databases == 0) {
                // Nothing to read is still a snapshot (an empty one), so the store shows the collector ran.
                builder.start_database(0, "");
                lease->run("/* dmvlog:" + decl_.name + " */\n" + std::string(clock_select()), timeout, builder, context);
            }
        } else {
            lease->run(assemble_batch(decl_, ctx), timeout, builder, context);
        }
        result.rows = builder.rows();
        auto snap = builder.take();
        result.status = "ok";
        result.bytes = builder.bytes();
        result.duration_ms = elapsed_ms();
        state_.succeeded();
        {
            std::lock_guard lock(mu_);
            last_success_ = run_start;
        }
        writer_.submit(std::move(snap), store::RunRecord{instance(), decl_.name, started_at, result.duration_ms,
                                                         result.rows, result.bytes, "ok", "", ""});
    } catch (...) {
        result.duration_ms = elapsed_ms();
        state_.record_current_exception(result, started_at, source_.info(), source_.stopping());
    }
    return result;
}

}  // namespace dmvlog::collect
