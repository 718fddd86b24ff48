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

std::optional<std::string> wait_raw(const xe::Process& p) {
    if (!p.wait_resource || p.wait_resource->raw.empty()) return std::nullopt;
    return p.wait_resource->raw;
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) out += ",";
        out += p;
    }
    return out;
}

std::string join_ints(const std::vector<std::int64_t>& v) {
    std::string out;
    for (auto x : v) {
        if (!out.empty()) out += ",";
        out += std::to_string(x);
    }
    return out;
}

std::vector<std::int64_t> split_ints(std::string_view text) {
    std::vector<std::int64_t> out;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const auto part = text.substr(0, comma);
        std::int64_t v = 0;
        auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
        if (ec == std::errc() && p == part.data() + part.size()) out.push_back(v);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

std::string requests_list(const std::vector<xe::LockRequest>& list) {
    std::vector<std::string> parts;
    for (const auto& r : list) parts.push_back(r.mode ? r.id + ":" + *r.mode : r.id);
    return join(parts);
}

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
                b.event_hashes = split_ints(text_col(s, 4).value_or(""));
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
    std::lock_guard lock(mu_);
    XeWriteResult result;
    const std::string collected_at = format_timestamp(batch.collected_at);
    exec("BEGIN IMMEDIATE");
    try {
        auto* ins_text = prepare_cached("xe:text", "INSERT OR IGNORE INTO sql_text (hash, text, first_seen) VALUES (?, ?, ?)");
        // An input buffer, stored once in sql_text: its hash (NULL for none).
        auto text_ref = [&](const std::optional<std::string>& text) -> std::optional<std::int64_t> {
            if (!text || text->empty()) return std::nullopt;
            const auto h = text_hash(*text);
            sqlite3_reset(ins_text);
            sqlite3_bind_int64(ins_text, 1, h);
            bind_text(ins_text, 2, *text);
            bind_text(ins_text, 3, collected_at);
            if (sqlite3_step(ins_text) != SQLITE_DONE) fail("insert sql_text");
            return h;
        };
        auto* ins_event = prepare_cached(
            "xe:event",
            "INSERT OR IGNORE INTO xe_events (instance, source, event_name, event_time, file_name, file_offset, "
            "content_hash, raw_xml, parse_error, collected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        auto* ins_bpr = prepare_cached(
            "xe:bpr",
            "INSERT INTO blocked_process_reports (event_id, instance, event_time, monitor_loop, database_id, object_id, "
            "index_id, lock_mode, duration_ms, wait_resource, wait_resource_type, wait_database_id, wait_hobt_id, "
            "wait_object_id, blocked_spid, blocked_ecid, blocked_status, blocked_wait_time_ms, blocked_lock_mode, "
            "blocked_login, blocked_host, blocked_app, blocked_transaction_name, blocked_last_tran_started, "
            "blocked_isolation_level, blocked_database_id, blocked_input_buffer_hash, blocked_sql_handle, "
            "blocked_stmt_start, blocked_stmt_end, blocking_spid, blocking_ecid, blocking_status, "
            "blocking_wait_resource, blocking_login, blocking_host, blocking_app, blocking_transaction_name, "
            "blocking_last_tran_started, blocking_isolation_level, blocking_trancount, blocking_input_buffer_hash, "
            "blocking_sql_handle, head_blocker) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        auto* ins_dl = prepare_cached("xe:deadlock",
                                      "INSERT OR REPLACE INTO deadlocks (event_id, instance, event_time, victims, "
                                      "victim_spids, process_count, resource_count) VALUES (?, ?, ?, ?, ?, ?, ?)");
        auto* ins_dp = prepare_cached(
            "xe:deadlock-process",
            "INSERT INTO deadlock_processes (event_id, instance, event_time, process_id, victim, spid, ecid, "
            "wait_resource, lock_mode, transaction_name, login, host, app, isolation_level, database_id, "
            "input_buffer_hash, sql_handle) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        auto* ins_dr = prepare_cached(
            "xe:deadlock-resource",
            "INSERT INTO deadlock_resources (event_id, instance, event_time, resource_type, database_id, object_name, "
            "index_name, mode, owners, waiters) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");

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
                bind_text(q, 3, join(d->victims));
            } else {
                return false;
            }
            const int rc = sqlite3_step(q);
            sqlite3_reset(q);
            if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail("look up a stored report");
            return rc == SQLITE_ROW;
        };
        const int offset = batch.utc_offset_minutes;

        std::optional<std::int64_t> earliest_report;  // utc ticks of the earliest new blocked-process report
        for (const auto& row : batch.events) {
            const auto& ev = row.event;
            std::optional<std::string> event_time;
            if (ev.timestamp) event_time = format_timestamp(*ev.timestamp);
            if (!ev.error && event_time && stored_elsewhere(ev, *event_time)) {
                ++result.events_duplicate;
                continue;
            }
            sqlite3_reset(ins_event);
            bind_text(ins_event, 1, batch.instance);
            bind_text(ins_event, 2, batch.source);
            bind_text(ins_event, 3, !ev.name.empty() ? ev.name : row.object_name);
            bind_opt(ins_event, 4, event_time);
            if (row.file_name.empty()) {
                sqlite3_bind_null(ins_event, 5);
                sqlite3_bind_null(ins_event, 6);
            } else {
                bind_text(ins_event, 5, row.file_name);
                sqlite3_bind_int64(ins_event, 6, row.file_offset);
            }
            sqlite3_bind_int64(ins_event, 7, xe_content_hash(row.raw_xml));
            bind_text(ins_event, 8, row.raw_xml);
            if (ev.error) bind_text(ins_event, 9, ev.error->describe());
            else sqlite3_bind_null(ins_event, 9);
            bind_text(ins_event, 10, collected_at);
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
                const auto& bd = r->blocked;
                const auto& bg = r->blocking;
                const auto blocked_buf = text_ref(bd.input_buffer);
                const auto blocking_buf = text_ref(bg.input_buffer);
                const xe::Frame* frame = bd.frames.empty() ? nullptr : &bd.frames.front();
                const xe::Frame* bframe = bg.frames.empty() ? nullptr : &bg.frames.front();
                auto* s = ins_bpr;
                sqlite3_reset(s);
                sqlite3_clear_bindings(s);
                int i = 1;
                sqlite3_bind_int64(s, i++, event_id);
                bind_text(s, i++, batch.instance);
                bind_opt(s, i++, event_time);
                bind_opt(s, i++, r->monitor_loop);
                bind_opt(s, i++, r->database_id);
                bind_opt(s, i++, r->object_id);
                bind_opt(s, i++, r->index_id);
                bind_opt(s, i++, r->lock_mode);
                if (r->duration_us) sqlite3_bind_double(s, i++, static_cast<double>(*r->duration_us) / 1000.0);
                else sqlite3_bind_null(s, i++);
                const xe::WaitResource* wr = bd.wait_resource ? &*bd.wait_resource : nullptr;
                bind_opt(s, i++, wait_raw(bd));
                if (wr) bind_text(s, i++, xe::to_string(wr->kind));
                else sqlite3_bind_null(s, i++);
                bind_opt(s, i++, wr ? wr->database_id : std::nullopt);
                bind_opt(s, i++, wr ? wr->hobt_id : std::nullopt);
                bind_opt(s, i++, wr ? wr->object_id : std::nullopt);
                bind_opt(s, i++, bd.spid);
                bind_opt(s, i++, bd.ecid);
                bind_opt(s, i++, bd.status);
                bind_opt(s, i++, bd.wait_time_ms);
                bind_opt(s, i++, bd.lock_mode);
                bind_opt(s, i++, bd.login_name);
                bind_opt(s, i++, bd.host_name);
                bind_opt(s, i++, bd.client_app);
                bind_opt(s, i++, bd.transaction_name);
                bind_opt(s, i++, report_time_utc(bd.last_tran_started, offset));
                bind_opt(s, i++, bd.isolation_level);
                bind_opt(s, i++, bd.database_id);
                bind_opt(s, i++, blocked_buf);
                bind_opt(s, i++, frame ? frame->sql_handle : std::nullopt);
                bind_opt(s, i++, frame ? frame->stmt_start : std::nullopt);
                bind_opt(s, i++, frame ? frame->stmt_end : std::nullopt);
                bind_opt(s, i++, bg.spid);
                bind_opt(s, i++, bg.ecid);
                bind_opt(s, i++, bg.status);
                bind_opt(s, i++, wait_raw(bg));
                bind_opt(s, i++, bg.login_name);
                bind_opt(s, i++, bg.host_name);
                bind_opt(s, i++, bg.client_app);
                bind_opt(s, i++, bg.transaction_name);
                bind_opt(s, i++, report_time_utc(bg.last_tran_started, offset));
                bind_opt(s, i++, bg.isolation_level);
                bind_opt(s, i++, bg.trancount);
                bind_opt(s, i++, blocking_buf);
                bind_opt(s, i++, bframe ? bframe->sql_handle : std::nullopt);
                sqlite3_bind_int(s, i++, r->head_blocker() ? 1 : 0);
                if (sqlite3_step(s) != SQLITE_DONE) fail("insert blocked_process_reports");
                ++result.reports;
                if (ev.timestamp)
                    earliest_report = std::min(earliest_report.value_or(ev.timestamp->utc_ticks), ev.timestamp->utc_ticks);
            } else if (const auto* d = ev.deadlock_report()) {
                std::vector<std::string> victim_spids;
                for (const auto& v : d->victims)
                    if (const auto* p = d->process(v); p && p->spid) victim_spids.push_back(std::to_string(*p->spid));
                sqlite3_reset(ins_dl);
                sqlite3_bind_int64(ins_dl, 1, event_id);
                bind_text(ins_dl, 2, batch.instance);
                bind_opt(ins_dl, 3, event_time);
                bind_text(ins_dl, 4, join(d->victims));
                bind_text(ins_dl, 5, join(victim_spids));
                sqlite3_bind_int64(ins_dl, 6, static_cast<std::int64_t>(d->processes.size()));
                sqlite3_bind_int64(ins_dl, 7, static_cast<std::int64_t>(d->resources.size()));
                if (sqlite3_step(ins_dl) != SQLITE_DONE) fail("insert deadlocks");
                for (const auto& p : d->processes) {
                    const auto buf = text_ref(p.input_buffer);
                    const xe::Frame* frame = p.frames.empty() ? nullptr : &p.frames.front();
                    auto* s = ins_dp;
                    sqlite3_reset(s);
                    sqlite3_clear_bindings(s);
                    int i = 1;
                    sqlite3_bind_int64(s, i++, event_id);
                    bind_text(s, i++, batch.instance);
                    bind_opt(s, i++, event_time);
                    bind_opt(s, i++, p.id);
                    sqlite3_bind_int(s, i++, p.id && d->is_victim(*p.id) ? 1 : 0);
                    bind_opt(s, i++, p.spid);
                    bind_opt(s, i++, p.ecid);
                    bind_opt(s, i++, wait_raw(p));
                    bind_opt(s, i++, p.lock_mode);
                    bind_opt(s, i++, p.transaction_name);
                    bind_opt(s, i++, p.login_name);
                    bind_opt(s, i++, p.host_name);
                    bind_opt(s, i++, p.client_app);
                    bind_opt(s, i++, p.isolation_level);
                    bind_opt(s, i++, p.database_id);
                    bind_opt(s, i++, buf);
                    bind_opt(s, i++, frame ? frame->sql_handle : std::nullopt);
                    if (sqlite3_step(s) != SQLITE_DONE) fail("insert deadlock_processes");
                }
                for (const auto& res : d->resources) {
                    auto* s = ins_dr;
                    sqlite3_reset(s);
                    sqlite3_clear_bindings(s);
                    sqlite3_bind_int64(s, 1, event_id);
                    bind_text(s, 2, batch.instance);
                    bind_opt(s, 3, event_time);
                    bind_text(s, 4, res.type);
                    bind_opt(s, 5, res.database_id);
                    bind_opt(s, 6, res.object_name);
                    bind_opt(s, 7, res.index_name);
                    bind_opt(s, 8, res.mode);
                    bind_text(s, 9, requests_list(res.owners));
                    bind_text(s, 10, requests_list(res.waiters));
                    if (sqlite3_step(s) != SQLITE_DONE) fail("insert deadlock_resources");
                }
                ++result.deadlocks;
            }
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
            bind_text(bm, 8, join_ints(batch.bookmark.event_hashes));
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
        auto* s = prepare_cached(
            "xe:episodes-reports",
            "SELECT event_time, monitor_loop, blocked_spid, blocked_wait_time_ms, wait_resource, blocking_spid, "
            "blocking_last_tran_started, blocking_status, blocking_login, blocking_host, blocking_app, "
            "blocking_transaction_name, blocking_input_buffer_hash FROM blocked_process_reports "
            "WHERE instance = ? AND event_time >= ? AND blocked_spid IS NOT NULL AND blocking_spid IS NOT NULL");
        bind_text(s, 1, instance);
        bind_text(s, 2, from);
        int rc;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            blocking::ReportRow r;
            auto t = parse_timestamp(text_col(s, 0).value_or(""));
            if (!t) continue;
            r.event_time = *t;
            r.monitor_loop = int_col(s, 1);
            r.blocked_spid = sqlite3_column_int64(s, 2);
            r.blocked_wait_ms = int_col(s, 3).value_or(0);
            r.wait_resource = text_col(s, 4).value_or("");
            r.blocking_spid = sqlite3_column_int64(s, 5);
            r.blocking_last_tran_started = text_col(s, 6).value_or("");
            r.blocking_status = text_col(s, 7).value_or("");
            r.blocking_login = text_col(s, 8).value_or("");
            r.blocking_host = text_col(s, 9).value_or("");
            r.blocking_app = text_col(s, 10).value_or("");
            r.blocking_transaction_name = text_col(s, 11).value_or("");
            r.blocking_input_buffer_hash = int_col(s, 12);
            reports.push_back(std::move(r));
        }
        sqlite3_reset(s);
        if (rc != SQLITE_DONE) fail("read blocked_process_reports");
    }
    // Request snapshots that saw the blocking live (tables of enabled request collectors only).
    std::vector<std::string> live_tables;
    for (const char* t : {"requests_5s", "requests_1m"}) {
        auto* s = prepare_cached("xe:table-exists", "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
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
    auto* ins = prepare_cached(
        "xe:episode-insert",
        "INSERT OR REPLACE INTO blocking_episodes (instance, head_spid, head_last_tran_started, head_status, head_login, "
        "head_host, head_app, head_transaction_name, head_input_buffer_hash, start_time, end_time, duration_s, reports, "
        "monitor_passes, sessions_blocked, max_sessions_blocked, max_wait_ms, blocked_session_seconds, resources, "
        "live_snapshots) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
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
        int i = 1;
        bind_text(ins, i++, instance);
        sqlite3_bind_int64(ins, i++, ep.head_spid);
        bind_text(ins, i++, ep.head_last_tran_started);
        bind_text(ins, i++, ep.head_status);
        bind_text(ins, i++, ep.head_login);
        bind_text(ins, i++, ep.head_host);
        bind_text(ins, i++, ep.head_app);
        bind_text(ins, i++, ep.head_transaction_name);
        bind_opt(ins, i++, ep.head_input_buffer_hash);
        bind_text(ins, i++, start);
        bind_text(ins, i++, end);
        sqlite3_bind_double(ins, i++, ep.duration_s());
        sqlite3_bind_int64(ins, i++, ep.reports);
        sqlite3_bind_int64(ins, i++, ep.passes);
        sqlite3_bind_int64(ins, i++, ep.sessions_blocked);
        sqlite3_bind_int64(ins, i++, ep.max_sessions_blocked);
        sqlite3_bind_int64(ins, i++, ep.max_wait_ms);
        sqlite3_bind_double(ins, i++, ep.blocked_session_seconds);
        bind_text(ins, i++, ep.resources);
        sqlite3_bind_int64(ins, i++, live);
        if (sqlite3_step(ins) != SQLITE_DONE) fail("insert blocking_episodes");
        ++written;
    }
    return written;
}

}  // namespace dmvlog::store
