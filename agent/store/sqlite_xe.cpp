// SqliteStore: the blocking_events collector's writes (agent/store/xe_store.h; tables of
// schema/sqlite/003_blocking.sql).
#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <map>
#include <set>
#include <sqlite3.h>

#include "agent/blocking/episodes.h"
#include "agent/core/time_format.h"
#include "agent/store/sqlite_store.h"
#include "agent/store/xe_rows.h"

namespace dmvlog::store {

std::int64_t xe_content_hash(std::string_view raw_xml) { return text_hash(raw_xml); }

std::optional<std::string> report_time_utc(const std::optional<std::string>& local, int utc_offset_minutes) {
    if (!local || local->empty()) return std::nullopt;
    auto t = parse_timestamp(*local);
    if (!t) return local;
    if (t->utc_ticks < ticks_from_civil(CivilTime{1900, 1, 2, 0, 0, 0, 0})) return std::nullopt;  // the zero date
    if (!t->has_offset) t->utc_ticks -= static_cast<std::int64_t>(utc_offset_minutes) * kTicksPerMinute;
    return format_timestamp(Timestamp{t->utc_ticks, 0, false});
}

namespace {

// Episodes whose end lies within this much before the earliest new report are rebuilt with it.
constexpr std::int64_t kEpisodeLookbackTicks = 10 * kTicksPerMinute;

void bind_text(sqlite3_stmt* s, int i, std::string_view text) {
    sqlite3_bind_text64(s, i, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}
void bind_opt(sqlite3_stmt* s, int i, const std::optional<std::string>& v) {
    if (v) bind_text(s, i, *v);
    else sqlite3_bind_null(s, i);
}
void bind_opt(sqlite3_stmt* s, int i, const std::optional<std::int64_t>& v) {
    if (v) sqlite3_bind_int64(s, i, *v);
    else sqlite3_bind_null(s, i);
}
std::optional<std::string> text_col(sqlite3_stmt* s, int i) {
    if (sqlite3_column_type(s, i) == SQLITE_NULL) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, i)),
                       static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
}
std::optional<std::int64_t> int_col(sqlite3_stmt* s, int i) {
    if (sqlite3_column_type(s, i) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_int64(s, i);
}

// Binds row from parameter `first` on.
void bind_row(sqlite3_stmt* s, int first, const Row& row) {
    for (std::size_t i = 0; i < row.size(); ++i) bind_value(s, first + static_cast<int>(i), row[i]);
}

std::string marker(int) { return "?"; }

}  // namespace

XeBookmark SqliteStore::read_xe_bookmark(const std::string& instance, const std::string& source) {
    std::lock_guard lock(mu_);
    XeBookmark b;
    auto* s = prepare_cached("xe:bookmark-read",
                             "SELECT file_name, file_offset, events_read, event_time, event_hashes, possible_losses "
                             "FROM xe_bookmarks WHERE instance = ? AND source = ?");
    bind_text(s, 1, instance);
    bind_text(s, 2, source);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        b.file_name = text_col(s, 0);
        b.file_offset = int_col(s, 1);
        b.events_read = sqlite3_column_int64(s, 2);
        if (!b.file_name || !b.file_offset) b.file_name.reset(), b.file_offset.reset();
        if (auto t = text_col(s, 3)) {
            if (auto ts = parse_timestamp(*t)) {
                b.event_ticks = ts->utc_ticks;
                b.event_hashes = xe_rows::split_ints(text_col(s, 4).value_or(""));
            }
        }
        b.possible_losses = sqlite3_column_int64(s, 5);
    } else if (rc != SQLITE_DONE) {
        fail("read xe bookmark");
    }
    sqlite3_reset(s);
    return b;
}

XeWriteResult SqliteStore::write_xe(const XeBatch& batch, const RunRecord& run) {
    namespace rows = xe_rows;
    std::lock_guard lock(mu_);
    XeWriteResult result;
    const std::string collected_at = format_timestamp(batch.collected_at);
    exec("BEGIN IMMEDIATE");
    try {
        auto* ins_text = prepare_cached("xe:text", "INSERT OR IGNORE INTO sql_text (hash, text, first_seen) VALUES (?, ?, ?)");
        rows::Texts texts;
        auto store_texts = [&] {
            for (const auto& [h, text] : texts) {
                sqlite3_reset(ins_text);
                sqlite3_bind_int64(ins_text, 1, h);
                bind_text(ins_text, 2, text);
                bind_text(ins_text, 3, collected_at);
                if (sqlite3_step(ins_text) != SQLITE_DONE) fail("insert sql_text");
            }
            texts.clear();
        };
        auto* ins_event = prepare_cached("xe:event", rows::insert_sql("INSERT OR IGNORE", "xe_events", false, rows::kEventColumns, marker));
        auto* ins_bpr = prepare_cached("xe:bpr", rows::insert_sql("INSERT", "blocked_process_reports", true, rows::kReportColumns, marker));
        auto* ins_dl = prepare_cached("xe:deadlock", rows::insert_sql("INSERT OR REPLACE", "deadlocks", true, rows::kDeadlockColumns, marker));
        auto* ins_dp = prepare_cached("xe:deadlock-process", rows::insert_sql("INSERT", "deadlock_processes", true, rows::kProcessColumns, marker));
        auto* ins_dr = prepare_cached("xe:deadlock-resource", rows::insert_sql("INSERT", "deadlock_resources", true, rows::kResourceColumns, marker));
        // Inserts a parsed row of the event (event_id first).
        auto insert = [&](sqlite3_stmt* st, std::int64_t event_id, const Row& row, const char* what) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            sqlite3_bind_int64(st, 1, event_id);
            bind_row(st, 2, row);
            if (sqlite3_step(st) != SQLITE_DONE) fail(std::string("insert ") + what);
        };

        // The same report or deadlock read from another source (a ring buffer and system_health, or dmvlog's
        // session and a fallback while it was stopped) is stored once.
        auto* seen_bpr = prepare_cached(
            "xe:bpr-seen",
            "SELECT 1 FROM blocked_process_reports WHERE instance = ? AND event_time = ? AND monitor_loop IS ? "
            "AND blocked_spid IS ? AND blocked_ecid IS ? LIMIT 1");
        auto* seen_dl = prepare_cached(
            "xe:deadlock-seen", "SELECT 1 FROM deadlocks WHERE instance = ? AND event_time = ? AND victims = ? LIMIT 1");
        auto stored_elsewhere = [&](const xe::Event& ev, const std::string& event_time) {
            sqlite3_stmt* q = nullptr;
            if (const auto* r = ev.blocked_process_report(); r && ev.type == xe::EventType::blocked_process_report) {
                q = seen_bpr;
                sqlite3_reset(q);
                bind_text(q, 1, batch.instance);
                bind_text(q, 2, event_time);
                bind_opt(q, 3, r->monitor_loop);
                bind_opt(q, 4, r->blocked.spid);
                bind_opt(q, 5, r->blocked.ecid);
            } else if (const auto* d = ev.deadlock_report()) {
                q = seen_dl;
                sqlite3_reset(q);
                bind_text(q, 1, batch.instance);
                bind_text(q, 2, event_time);
                bind_text(q, 3, rows::deadlock_victims(*d));
            } else {
                return false;
            }
            const int rc = sqlite3_step(q);
            sqlite3_reset(q);
            if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail("look up a stored report");
            return rc == SQLITE_ROW;
        };

        std::optional<std::int64_t> earliest_report;  // utc ticks of the earliest new blocked-process report
        for (const auto& row : batch.events) {
            const auto& ev = row.event;
            const auto event_time = rows::event_time_text(ev);
            if (!ev.error && event_time && stored_elsewhere(ev, *event_time)) {
                ++result.events_duplicate;
                continue;
            }
            sqlite3_reset(ins_event);
            bind_row(ins_event, 1, rows::event(batch.instance, batch.source, row.object_name, row.raw_xml, row.file_name,
                                               row.file_offset, ev, collected_at));
            if (sqlite3_step(ins_event) != SQLITE_DONE) fail("insert xe_events");
            if (sqlite3_changes(db_) == 0) {
                ++result.events_duplicate;
                continue;
            }
            ++result.events_new;
            const std::int64_t event_id = sqlite3_last_insert_rowid(db_);
            if (ev.error) {
                ++result.parse_errors;
                continue;
            }
            if (const auto* r = ev.blocked_process_report()) {
                insert(ins_bpr, event_id, rows::report(batch.instance, event_time, *r, batch.utc_offset_minutes, texts),
                       "blocked_process_reports");
                ++result.reports;
                if (ev.timestamp)
                    earliest_report = std::min(earliest_report.value_or(ev.timestamp->utc_ticks), ev.timestamp->utc_ticks);
            } else if (const auto* d = ev.deadlock_report()) {
                insert(ins_dl, event_id, rows::deadlock(batch.instance, event_time, *d), "deadlocks");
                for (const auto& p : rows::processes(batch.instance, event_time, *d, texts))
                    insert(ins_dp, event_id, p, "deadlock_processes");
                for (const auto& res : rows::resources(batch.instance, event_time, *d))
                    insert(ins_dr, event_id, res, "deadlock_resources");
                ++result.deadlocks;
            }
            store_texts();
        }

        auto* bm = prepare_cached(
            "xe:bookmark-write",
            "INSERT INTO xe_bookmarks (instance, source, file_name, file_offset, events_read, updated_at, event_time, "
            "event_hashes, possible_losses) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance, source) DO UPDATE "
            "SET file_name = excluded.file_name, file_offset = excluded.file_offset, "
            "events_read = xe_bookmarks.events_read + excluded.events_read, updated_at = excluded.updated_at, "
            "event_time = excluded.event_time, event_hashes = excluded.event_hashes, "
            "possible_losses = xe_bookmarks.possible_losses + excluded.possible_losses");
        bind_text(bm, 1, batch.instance);
        bind_text(bm, 2, batch.source);
        bind_opt(bm, 3, batch.bookmark.file_name);
        bind_opt(bm, 4, batch.bookmark.file_offset);
        sqlite3_bind_int64(bm, 5, result.events_new);
        bind_text(bm, 6, collected_at);
        if (batch.bookmark.event_ticks) {
            bind_text(bm, 7, format_timestamp(Timestamp{*batch.bookmark.event_ticks, 0, false}));
            bind_text(bm, 8, rows::join_ints(batch.bookmark.event_hashes));
        } else {
            sqlite3_bind_null(bm, 7);
            sqlite3_bind_null(bm, 8);
        }
        sqlite3_bind_int64(bm, 9, batch.possible_losses);
        if (sqlite3_step(bm) != SQLITE_DONE) fail("write xe bookmark");

        if (earliest_report) result.episodes = rebuild_episodes(batch.instance, *earliest_report);
        insert_run(run);
        exec("COMMIT");
        return result;
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

PurgeResult SqliteStore::purge_xe(const std::string& collector, const Timestamp& cutoff, int max_events) {
    std::lock_guard lock(mu_);
    PurgeResult out;
    const std::string cut = format_timestamp(cutoff);
    const int limit = std::max(1, max_events);
    exec("BEGIN IMMEDIATE");
    try {
        // Every write_xe writes its instance's bookmark, so these are the instances with XE rows; per instance
        // the (instance, event_time) index finds the old events, and event_id indexes their parsed rows.
        std::vector<std::string> instances;
        {
            auto* s = prepare_cached("xe-purge:instances", "SELECT DISTINCT instance FROM xe_bookmarks");
            while (sqlite3_step(s) == SQLITE_ROW) instances.push_back(text_col(s, 0).value_or(""));
            sqlite3_reset(s);
        }
        for (const auto& inst : instances) {
            // The oldest events (by event_time; collected_at for one without a time) go with their parsed rows.
            std::vector<std::int64_t> ids;
            for (const char* key : {"xe-purge:events", "xe-purge:events-without-time"}) {
                const bool timed = std::string_view(key) == "xe-purge:events";
                auto* q = prepare_cached(key, timed ? "SELECT event_id FROM xe_events WHERE instance = ? AND event_time < ? "
                                                      "ORDER BY event_time LIMIT ?"
                                                    : "SELECT event_id FROM xe_events WHERE instance = ? AND event_time IS "
                                                      "NULL AND collected_at < ? LIMIT ?");
                bind_text(q, 1, inst);
                bind_text(q, 2, cut);
                sqlite3_bind_int(q, 3, limit + 1);
                while (sqlite3_step(q) == SQLITE_ROW) ids.push_back(sqlite3_column_int64(q, 0));
                sqlite3_reset(q);
            }
            if (static_cast<int>(ids.size()) > limit) {
                out.more = true;
                ids.resize(static_cast<std::size_t>(limit));
            }
            for (auto id : ids) {
                for (const char* t : {"blocked_process_reports", "deadlock_processes", "deadlock_resources", "deadlocks",
                                      "xe_events"}) {
                    auto* d = prepare_cached(std::string("xe-purge:") + t, fmt::format("DELETE FROM {} WHERE event_id = ?", t));
                    sqlite3_bind_int64(d, 1, id);
                    if (sqlite3_step(d) != SQLITE_DONE) fail(std::string("purge ") + t);
                    out.rows += sqlite3_changes(db_);
                }
            }
            out.snapshots += static_cast<std::int64_t>(ids.size());  // for XE collectors: events
            auto* d = prepare_cached("xe-purge:episodes",
                                     "DELETE FROM blocking_episodes WHERE rowid IN (SELECT rowid FROM blocking_episodes "
                                     "WHERE instance = ? AND end_time < ? LIMIT ?)");
            bind_text(d, 1, inst);
            bind_text(d, 2, cut);
            sqlite3_bind_int(d, 3, limit);
            if (sqlite3_step(d) != SQLITE_DONE) fail("purge blocking_episodes");
            const auto episodes = sqlite3_changes(db_);
            out.rows += episodes;
            if (episodes == limit) out.more = true;
        }
        out.runs = purge_runs(collector, cut, limit * 10);
        exec("COMMIT");
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
    return out;
}

// Within write_xe's transaction: the episodes ending after (earliest - 10 min) are deleted and rebuilt from
// the reports since the earliest start among them (or since the earliest new report), then each gets the
// number of request snapshots that saw its head blocker blocking.
std::int64_t SqliteStore::rebuild_episodes(const std::string& instance, std::int64_t earliest_ticks) {
    const std::string cutoff = format_timestamp(Timestamp{earliest_ticks - kEpisodeLookbackTicks, 0, false});
    std::string from = format_timestamp(Timestamp{earliest_ticks, 0, false});
    {
        auto* s = prepare_cached("xe:episodes-from",
                                 "SELECT min(start_time) FROM blocking_episodes WHERE instance = ? AND end_time > ?");
        bind_text(s, 1, instance);
        bind_text(s, 2, cutoff);
        if (sqlite3_step(s) == SQLITE_ROW) {
            if (auto v = text_col(s, 0); v && *v < from) from = *v;
        }
        sqlite3_reset(s);
        auto* d = prepare_cached("xe:episodes-delete", "DELETE FROM blocking_episodes WHERE instance = ? AND end_time > ?");
        bind_text(d, 1, instance);
        bind_text(d, 2, cutoff);
        if (sqlite3_step(d) != SQLITE_DONE) fail("delete blocking_episodes");
    }
    std::vector<blocking::ReportRow> reports;
    {
        auto* s = prepare_cached("xe:episodes-reports",
                                 "SELECT " + xe_rows::column_list(xe_rows::kEpisodeInputColumns) +
                                     " FROM blocked_process_reports WHERE instance = ? AND event_time >= ? "
                                     "AND blocked_spid IS NOT NULL AND blocking_spid IS NOT NULL");
        bind_text(s, 1, instance);
        bind_text(s, 2, from);
        int rc;
        std::vector<std::optional<std::string>> cols(xe_rows::kEpisodeInputColumns.size());
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            for (std::size_t i = 0; i < cols.size(); ++i) cols[i] = text_col(s, static_cast<int>(i));
            if (auto r = xe_rows::report_row(cols)) reports.push_back(std::move(*r));
        }
        sqlite3_reset(s);
        if (rc != SQLITE_DONE) fail("read blocked_process_reports");
    }
    // Request snapshots that saw the blocking live (tables of enabled request collectors only).
    std::vector<std::string> live_tables;
    for (const char* t : {"requests_5s", "requests_1m"}) {
        auto* s = prepare_cached("xe:table-exists", "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?");
        bind_text(s, 1, t);
        if (sqlite3_step(s) == SQLITE_ROW) live_tables.emplace_back(t);
        sqlite3_reset(s);
    }
    std::string live_sql;
    for (const auto& t : live_tables) {
        if (!live_sql.empty()) live_sql += " UNION ";
        live_sql += fmt::format("SELECT collected_at FROM {} WHERE instance = ? AND blocking_session_id = ? "
                                "AND collected_at >= ? AND collected_at <= ?", t);
    }
    auto* ins = prepare_cached("xe:episode-insert",
                               xe_rows::insert_sql("INSERT OR REPLACE", "blocking_episodes", false, xe_rows::kEpisodeColumns, marker));
    std::int64_t written = 0;
    for (const auto& ep : blocking::build_episodes(reports)) {
        const std::string start = format_timestamp(ep.start), end = format_timestamp(ep.end);
        if (end <= cutoff) continue;  // kept as it was
        std::int64_t live = 0;
        if (!live_sql.empty()) {
            auto* q = prepare_cached("xe:live:" + live_sql, "SELECT count(*) FROM (" + live_sql + ")");
            int i = 1;
            for (std::size_t k = 0; k < live_tables.size(); ++k) {
                bind_text(q, i++, instance);
                sqlite3_bind_int64(q, i++, ep.head_spid);
                bind_text(q, i++, start);
                bind_text(q, i++, end);
            }
            if (sqlite3_step(q) == SQLITE_ROW) live = sqlite3_column_int64(q, 0);
            sqlite3_reset(q);
        }
        sqlite3_reset(ins);
        sqlite3_clear_bindings(ins);
        bind_row(ins, 1, xe_rows::episode(instance, ep, live));
        if (sqlite3_step(ins) != SQLITE_DONE) fail("insert blocking_episodes");
        ++written;
    }
    return written;
}

}  // namespace dmvlog::store
