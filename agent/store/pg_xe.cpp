// PgStore: the blocking_events collectors' writes (agent/store/xe_store.h; tables of
// schema/postgres/003_blocking.sql), the same rows as the SQLite store writes (agent/store/xe_rows.h).
#include <fmt/format.h>

#include <algorithm>

#include "agent/core/time_format.h"
#include "agent/store/pg_result.h"
#include "agent/store/pg_store.h"
#include "agent/store/schema_files.h"
#include "agent/store/xe_rows.h"

namespace dmvlog::store {

namespace {

// Episodes whose end lies within this much before the earliest new report are rebuilt with it (as in SQLite).
constexpr std::int64_t kEpisodeLookbackTicks = 10 * kTicksPerMinute;

std::string marker(int i) { return "$" + std::to_string(i); }

std::vector<std::optional<std::string>> params_of(std::optional<std::int64_t> event_id, const Row& row) {
    std::vector<std::optional<std::string>> out;
    out.reserve(row.size() + 1);
    if (event_id) out.push_back(std::to_string(*event_id));
    for (const auto& v : row) out.push_back(pg_param(v));
    return out;
}

std::optional<std::string> opt_int(const std::optional<std::int64_t>& v) {
    if (!v) return std::nullopt;
    return std::to_string(*v);
}

}  // namespace

XeBookmark PgStore::read_xe_bookmark(const std::string& instance, const std::string& source) {
    std::lock_guard lock(mu_);
    ensure_connected();
    XeBookmark b;
    auto r = pg_exec(conn_, where_, "read xe bookmark",
                     "SELECT file_name, file_offset, events_read, event_time, event_hashes, possible_losses "
                     "FROM xe_bookmarks WHERE instance = $1 AND source = $2",
                     {instance, source});
    if (r.rows() == 0) return b;
    if (!r.null(0, 0) && !r.null(0, 1)) {
        b.file_name = r.text(0, 0);
        b.file_offset = r.i64(0, 1);
    }
    b.events_read = r.i64(0, 2);
    if (auto t = r.opt(0, 3)) {
        if (auto ts = parse_timestamp(*t)) {
            b.event_ticks = ts->utc_ticks;
            b.event_hashes = xe_rows::split_ints(r.opt(0, 4).value_or(""));
        }
    }
    b.possible_losses = r.i64(0, 5);
    return b;
}

XeWriteResult PgStore::write_xe(const XeBatch& batch, const RunRecord& run) {
    namespace rows = xe_rows;
    std::lock_guard lock(mu_);
    ensure_connected();
    XeWriteResult result;
    const std::string collected_at = format_timestamp(batch.collected_at);
    static const std::string ins_event =
        rows::insert_sql("INSERT", "xe_events", false, rows::kEventColumns, marker) +
        " ON CONFLICT (instance, content_hash) DO NOTHING RETURNING event_id";
    static const std::string ins_bpr = rows::insert_sql("INSERT", "blocked_process_reports", true, rows::kReportColumns, marker);
    static const std::string ins_dl =
        rows::insert_sql("INSERT", "deadlocks", true, rows::kDeadlockColumns, marker) + " ON CONFLICT (event_id) DO NOTHING";
    static const std::string ins_dp = rows::insert_sql("INSERT", "deadlock_processes", true, rows::kProcessColumns, marker);
    static const std::string ins_dr = rows::insert_sql("INSERT", "deadlock_resources", true, rows::kResourceColumns, marker);
    exec("BEGIN");
    try {
        rows::Texts texts;
        auto store_texts = [&] {
            for (const auto& [h, text] : texts) {
                if (known_texts_.count(h)) continue;
                pg_exec(conn_, where_, "insert sql_text",
                        "INSERT INTO sql_text (hash, text, first_seen) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING",
                        {std::to_string(h), text, collected_at});
            }
        };
        // The same report or deadlock read from another source is stored once (as in SQLite).
        auto stored_elsewhere = [&](const xe::Event& ev, const std::string& event_time) {
            if (const auto* r = ev.blocked_process_report(); r && ev.type == xe::EventType::blocked_process_report) {
                return pg_exec(conn_, where_, "look up a stored report",
                               "SELECT 1 FROM blocked_process_reports WHERE instance = $1 AND event_time = $2 "
                               "AND monitor_loop IS NOT DISTINCT FROM $3::bigint "
                               "AND blocked_spid IS NOT DISTINCT FROM $4::bigint "
                               "AND blocked_ecid IS NOT DISTINCT FROM $5::bigint LIMIT 1",
                               {batch.instance, event_time, opt_int(r->monitor_loop), opt_int(r->blocked.spid),
                                opt_int(r->blocked.ecid)})
                           .rows() > 0;
            }
            if (const auto* d = ev.deadlock_report()) {
                return pg_exec(conn_, where_, "look up a stored deadlock",
                               "SELECT 1 FROM deadlocks WHERE instance = $1 AND event_time = $2 AND victims = $3 LIMIT 1",
                               {batch.instance, event_time, rows::deadlock_victims(*d)})
                           .rows() > 0;
            }
            return false;
        };
        std::optional<std::int64_t> earliest_report;
        for (const auto& row : batch.events) {
            const auto& ev = row.event;
            const auto event_time = rows::event_time_text(ev);
            if (!ev.error && event_time && stored_elsewhere(ev, *event_time)) {
                ++result.events_duplicate;
                continue;
            }
            auto inserted = pg_exec(conn_, where_, "insert xe_events", ins_event,
                                    params_of(std::nullopt, rows::event(batch.instance, batch.source, row.object_name,
                                                                        row.raw_xml, row.file_name, row.file_offset, ev,
                                                                        collected_at)));
            if (inserted.rows() == 0) {
                ++result.events_duplicate;
                continue;
            }
            ++result.events_new;
            const std::int64_t event_id = inserted.i64(0, 0);
            if (ev.error) {
                ++result.parse_errors;
                continue;
            }
            if (const auto* r = ev.blocked_process_report()) {
                pg_exec(conn_, where_, "insert blocked_process_reports", ins_bpr,
                        params_of(event_id, rows::report(batch.instance, event_time, *r, batch.utc_offset_minutes, texts)));
                ++result.reports;
                if (ev.timestamp)
                    earliest_report = std::min(earliest_report.value_or(ev.timestamp->utc_ticks), ev.timestamp->utc_ticks);
            } else if (const auto* d = ev.deadlock_report()) {
                pg_exec(conn_, where_, "insert deadlocks", ins_dl, params_of(event_id, rows::deadlock(batch.instance, event_time, *d)));
                for (const auto& p : rows::processes(batch.instance, event_time, *d, texts))
                    pg_exec(conn_, where_, "insert deadlock_processes", ins_dp, params_of(event_id, p));
                for (const auto& res : rows::resources(batch.instance, event_time, *d))
                    pg_exec(conn_, where_, "insert deadlock_resources", ins_dr, params_of(event_id, res));
                ++result.deadlocks;
            }
        }
        store_texts();
        pg_exec(conn_, where_, "write xe bookmark",
                "INSERT INTO xe_bookmarks (instance, source, file_name, file_offset, events_read, updated_at, event_time, "
                "event_hashes, possible_losses) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (instance, source) "
                "DO UPDATE SET file_name = excluded.file_name, file_offset = excluded.file_offset, "
                "events_read = xe_bookmarks.events_read + excluded.events_read, updated_at = excluded.updated_at, "
                "event_time = excluded.event_time, event_hashes = excluded.event_hashes, "
                "possible_losses = xe_bookmarks.possible_losses + excluded.possible_losses",
                {batch.instance, batch.source, batch.bookmark.file_name, opt_int(batch.bookmark.file_offset),
                 std::to_string(result.events_new), collected_at,
                 batch.bookmark.event_ticks
                     ? std::optional(format_timestamp(Timestamp{*batch.bookmark.event_ticks, 0, false}))
                     : std::nullopt,
                 batch.bookmark.event_ticks ? std::optional(rows::join_ints(batch.bookmark.event_hashes)) : std::nullopt,
                 std::to_string(batch.possible_losses)});
        if (earliest_report) result.episodes = rebuild_episodes(batch.instance, *earliest_report);
        insert_run(run);
        exec("COMMIT");
        return result;
    } catch (...) {
        PQclear(PQexec(conn_, "ROLLBACK"));
        throw;
    }
}

// Within write_xe's transaction, as SqliteStore::rebuild_episodes.
std::int64_t PgStore::rebuild_episodes(const std::string& instance, std::int64_t earliest_ticks) {
    const std::string cutoff = format_timestamp(Timestamp{earliest_ticks - kEpisodeLookbackTicks, 0, false});
    std::string from = format_timestamp(Timestamp{earliest_ticks, 0, false});
    {
        auto r = pg_exec(conn_, where_, "read blocking_episodes",
                         "SELECT min(start_time) FROM blocking_episodes WHERE instance = $1 AND end_time > $2",
                         {instance, cutoff});
        if (r.rows() && !r.null(0, 0) && r.text(0, 0) < from) from = r.text(0, 0);
        pg_exec(conn_, where_, "delete blocking_episodes",
                "DELETE FROM blocking_episodes WHERE instance = $1 AND end_time > $2", {instance, cutoff});
    }
    std::vector<blocking::ReportRow> reports;
    {
        auto r = pg_exec(conn_, where_, "read blocked_process_reports",
                         "SELECT " + xe_rows::column_list(xe_rows::kEpisodeInputColumns) +
                             " FROM blocked_process_reports WHERE instance = $1 AND event_time >= $2 "
                             "AND blocked_spid IS NOT NULL AND blocking_spid IS NOT NULL",
                         {instance, from});
        std::vector<std::optional<std::string>> cols(xe_rows::kEpisodeInputColumns.size());
        for (int i = 0; i < r.rows(); ++i) {
            for (std::size_t c = 0; c < cols.size(); ++c) cols[c] = r.opt(i, static_cast<int>(c));
            if (auto row = xe_rows::report_row(cols)) reports.push_back(std::move(*row));
        }
    }
    // Request snapshots that saw the blocking live (tables of enabled request collectors only).
    std::string live_sql;
    int table_count = 0;
    for (const char* t : {"requests_5s", "requests_1m"}) {
        auto r = pg_exec(conn_, where_, "look up a table", "SELECT to_regclass(quote_ident($1)) IS NOT NULL", {std::string(t)});
        if (r.rows() == 0 || r.text(0, 0) != "t") continue;
        if (!live_sql.empty()) live_sql += " UNION ";
        live_sql += fmt::format("SELECT collected_at FROM {} WHERE instance = $1 AND blocking_session_id = $2 "
                                "AND collected_at >= $3 AND collected_at <= $4", quote_ident(t));
        ++table_count;
    }
    std::string upsert = xe_rows::insert_sql("INSERT", "blocking_episodes", false, xe_rows::kEpisodeColumns, marker) +
                         " ON CONFLICT (instance, head_spid, start_time) DO UPDATE SET ";
    bool first = true;
    for (auto c : xe_rows::kEpisodeColumns) {
        if (c == "instance" || c == "head_spid" || c == "start_time") continue;
        upsert += fmt::format("{}{} = excluded.{}", first ? "" : ", ", c, c);
        first = false;
    }
    std::int64_t written = 0;
    for (const auto& ep : blocking::build_episodes(reports)) {
        const std::string start = format_timestamp(ep.start), end = format_timestamp(ep.end);
        if (end <= cutoff) continue;  // kept as it was
        std::int64_t live = 0;
        if (table_count > 0) {
            auto r = pg_exec(conn_, where_, "count live blocking", "SELECT count(*) FROM (" + live_sql + ") AS live",
                             {instance, std::to_string(ep.head_spid), start, end});
            if (r.rows()) live = r.i64(0, 0);
        }
        pg_exec(conn_, where_, "insert blocking_episodes", upsert, params_of(std::nullopt, xe_rows::episode(instance, ep, live)));
        ++written;
    }
    return written;
}

PurgeResult PgStore::purge_xe(const std::string& collector, const Timestamp& cutoff, int max_events) {
    std::lock_guard lock(mu_);
    ensure_connected();
    return purge_xe_locked(collector, cutoff, max_events);
}

PurgeResult PgStore::purge_xe_locked(const std::string& collector, const Timestamp& cutoff, int max_events) {
    PurgeResult out;
    const std::string cut = format_timestamp(cutoff);
    const int limit = std::max(1, max_events);
    exec("BEGIN");
    try {
        auto instances = pg_exec(conn_, where_, "purge xe", "SELECT DISTINCT instance FROM xe_bookmarks");
        for (int k = 0; k < instances.rows(); ++k) {
            const std::string inst = instances.text(k, 0);
            // The oldest events (by event_time; collected_at for one without a time) go with their parsed rows.
            auto ids = pg_exec(conn_, where_, "purge xe_events",
                               "(SELECT event_id FROM xe_events WHERE instance = $1 AND event_time < $2 "
                               "ORDER BY event_time LIMIT $3) UNION ALL (SELECT event_id FROM xe_events WHERE "
                               "instance = $1 AND event_time IS NULL AND collected_at < $2 LIMIT $3)",
                               {inst, cut, std::to_string(limit + 1)});
            int n = ids.rows();
            if (n > limit) {
                out.more = true;
                n = limit;
            }
            if (n > 0) {
                std::string array = "{";
                for (int i = 0; i < n; ++i) array += (i ? "," : "") + ids.text(i, 0);
                array += "}";
                for (const char* t : {"blocked_process_reports", "deadlock_processes", "deadlock_resources", "deadlocks",
                                      "xe_events"}) {
                    auto d = pg_exec(conn_, where_, std::string("purge ") + t,
                                     fmt::format("DELETE FROM {} WHERE event_id = ANY($1::bigint[])", t), {array});
                    out.rows += d.affected();
                }
            }
            out.snapshots += n;  // for XE collectors: events
            auto d = pg_exec(conn_, where_, "purge blocking_episodes",
                             "DELETE FROM blocking_episodes WHERE ctid IN (SELECT ctid FROM blocking_episodes "
                             "WHERE instance = $1 AND end_time < $2 LIMIT $3)",
                             {inst, cut, std::to_string(limit)});
            out.rows += d.affected();
            if (d.affected() == limit) out.more = true;
        }
        out.runs = purge_runs(collector, cut, limit * 10);
        exec("COMMIT");
    } catch (...) {
        PQclear(PQexec(conn_, "ROLLBACK"));
        throw;
    }
    return out;
}

}  // namespace dmvlog::store
