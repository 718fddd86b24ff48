// MssqlStore: the blocking_events collectors' writes (agent/store/xe_store.h; tables of
// schema/sqlserver/003_blocking.sql), the same rows as the SQLite and PostgreSQL stores write
// (agent/store/xe_rows.h).
#include <fmt/format.h>

#include <algorithm>

#include "agent/core/time_format.h"
#include "agent/store/mssql_sql.h"
#include "agent/store/mssql_store.h"
#include "agent/store/schema_files.h"
#include "agent/store/xe_rows.h"

namespace dmvlog::store {

namespace sql = mssql_sql;

namespace {

// Episodes whose end lies within this much before the earliest new report are rebuilt with it (as in SQLite).
constexpr std::int64_t kEpisodeLookbackTicks = 10 * kTicksPerMinute;

Row with_event_id(std::int64_t event_id, Row row) {
    Row out;
    out.reserve(row.size() + 1);
    out.emplace_back(std::in_place_type<std::int64_t>, event_id);
    for (auto& v : row) out.push_back(std::move(v));
    return out;
}

Value opt_text(const std::optional<std::string>& v) { return v ? Value(*v) : Value(); }
Value opt_int(const std::optional<std::int64_t>& v) { return v ? Value(*v) : Value(); }

std::string as_text(const Value& v) { return mssql_sql::text_of(v); }

std::optional<std::string> as_opt(const Value& v) {
    if (is_null(v)) return std::nullopt;
    return as_text(v);
}

std::int64_t as_int(const Value& v) { return mssql_sql::int_of(v); }

}  // namespace

XeBookmark MssqlStore::read_xe_bookmark(const std::string& instance, const std::string& source) {
    std::lock_guard lock(mu_);
    ensure_connected();
    XeBookmark b;
    auto r = query("read xe bookmark", sql::get("read xe bookmark"), {Value(instance), Value(source)});
    if (r.empty()) return b;
    const Row& row = r[0];
    if (!is_null(row.at(0)) && !is_null(row.at(1))) {
        b.file_name = as_text(row[0]);
        b.file_offset = as_int(row[1]);
    }
    b.events_read = as_int(row.at(2));
    if (auto t = as_opt(row.at(3))) {
        if (auto ts = parse_timestamp(*t)) {
            b.event_ticks = ts->utc_ticks;
            b.event_hashes = xe_rows::split_ints(as_opt(row.at(4)).value_or(""));
        }
    }
    b.possible_losses = as_int(row.at(5));
    return b;
}

XeWriteResult MssqlStore::write_xe(const XeBatch& batch, const RunRecord& run) {
    namespace rows = xe_rows;
    std::lock_guard lock(mu_);
    const std::string collected_at = format_timestamp(batch.collected_at);
    return transaction("write events of " + batch.source, [&] {
        XeWriteResult result;
        rows::Texts texts;
        // The same report or deadlock read from another source is stored once (as in SQLite).
        auto stored_elsewhere = [&](const xe::Event& ev, const std::string& event_time) {
            if (const auto* r = ev.blocked_process_report(); r && ev.type == xe::EventType::blocked_process_report) {
                return !query("look up a stored report", sql::get("look up a stored report"),
                              {Value(batch.instance), Value(event_time), Value(r->monitor_loop.value_or(-1)),
                               Value(r->blocked.spid.value_or(-1)), Value(r->blocked.ecid.value_or(-1))})
                            .empty();
            }
            if (const auto* d = ev.deadlock_report()) {
                return !query("look up a stored deadlock", sql::get("look up a stored deadlock"),
                              {Value(batch.instance), Value(event_time), Value(rows::deadlock_victims(*d))})
                            .empty();
            }
            return false;
        };
        std::optional<std::int64_t> earliest_report;
        std::vector<Row> processes, resources;
        for (const auto& row : batch.events) {
            const auto& ev = row.event;
            const auto event_time = rows::event_time_text(ev);
            if (!ev.error && event_time && stored_elsewhere(ev, *event_time)) {
                ++result.events_duplicate;
                continue;
            }
            Row event = rows::event(batch.instance, batch.source, row.object_name, row.raw_xml, row.file_name, row.file_offset,
                                    ev, collected_at);
            event.emplace_back(batch.instance);
            event.emplace_back(xe_content_hash(row.raw_xml));
            auto inserted = query("insert xe_events", sql::get("insert xe_events"), event);
            if (inserted.empty()) {
                ++result.events_duplicate;
                continue;
            }
            ++result.events_new;
            const std::int64_t event_id = as_int(inserted[0].at(0));
            if (ev.error) {
                ++result.parse_errors;
                continue;
            }
            if (const auto* r = ev.blocked_process_report()) {
                exec("insert blocked_process_reports", sql::get("insert blocked_process_reports"),
                     with_event_id(event_id, rows::report(batch.instance, event_time, *r, batch.utc_offset_minutes, texts)));
                ++result.reports;
                if (ev.timestamp)
                    earliest_report = std::min(earliest_report.value_or(ev.timestamp->utc_ticks), ev.timestamp->utc_ticks);
            } else if (const auto* d = ev.deadlock_report()) {
                exec("insert deadlocks", sql::get("insert deadlocks"),
                     with_event_id(event_id, rows::deadlock(batch.instance, event_time, *d)));
                for (auto& p : rows::processes(batch.instance, event_time, *d, texts))
                    processes.push_back(with_event_id(event_id, std::move(p)));
                for (auto& res : rows::resources(batch.instance, event_time, *d))
                    resources.push_back(with_event_id(event_id, std::move(res)));
                ++result.deadlocks;
            }
        }
        exec_rows("insert deadlock_processes", sql::get("insert deadlock_processes"), processes);
        exec_rows("insert deadlock_resources", sql::get("insert deadlock_resources"), resources);
        std::vector<Row> text_rows;
        std::sort(texts.begin(), texts.end());
        texts.erase(std::unique(texts.begin(), texts.end(), [](auto& a, auto& b) { return a.first == b.first; }), texts.end());
        for (const auto& [h, text] : texts)
            if (!known_texts_.count(h)) text_rows.push_back({Value(h), Value(text), Value(collected_at), Value(h)});
        exec_rows("insert sql_text", sql::get("insert sql_text"), text_rows);
        const Params bookmark = {
            opt_text(batch.bookmark.file_name),
            opt_int(batch.bookmark.file_offset),
            Value(result.events_new),
            Value(collected_at),
            batch.bookmark.event_ticks ? Value(format_timestamp(Timestamp{*batch.bookmark.event_ticks, 0, false})) : Value(),
            batch.bookmark.event_ticks ? Value(rows::join_ints(batch.bookmark.event_hashes)) : Value(),
            Value(batch.possible_losses),
            Value(batch.instance),
            Value(batch.source)};
        if (exec("update xe bookmark", sql::get("update xe bookmark"), bookmark) == 0)
            exec("insert xe bookmark", sql::get("insert xe bookmark"), bookmark);
        if (earliest_report) result.episodes = rebuild_episodes(batch.instance, *earliest_report);
        insert_run(run);
        return result;
    });
}

// Within write_xe's transaction, as SqliteStore::rebuild_episodes.
std::int64_t MssqlStore::rebuild_episodes(const std::string& instance, std::int64_t earliest_ticks) {
    const std::string cutoff = format_timestamp(Timestamp{earliest_ticks - kEpisodeLookbackTicks, 0, false});
    std::string from = format_timestamp(Timestamp{earliest_ticks, 0, false});
    {
        auto r = query("read blocking_episodes", sql::get("read blocking_episodes"), {Value(instance), Value(cutoff)});
        if (!r.empty() && !is_null(r[0].at(0)) && as_text(r[0][0]) < from) from = as_text(r[0][0]);
        exec("delete blocking_episodes", sql::get("delete blocking_episodes"), {Value(instance), Value(cutoff)});
    }
    std::vector<blocking::ReportRow> reports;
    {
        auto r = query("read blocked_process_reports", sql::get("read blocked_process_reports"), {Value(instance), Value(from)});
        std::vector<std::optional<std::string>> cols(xe_rows::kEpisodeInputColumns.size());
        for (const auto& row : r) {
            for (std::size_t c = 0; c < cols.size(); ++c) cols[c] = as_opt(row.at(c));
            if (auto rr = xe_rows::report_row(cols)) reports.push_back(std::move(*rr));
        }
    }
    // Request snapshots that saw the blocking live (tables of enabled request collectors only).
    std::string live_sql;
    int table_count = 0;
    for (const char* t : {"requests_5s", "requests_1m"}) {
        if (!table_exists(t)) continue;
        live_sql += live_sql.empty() ? "" : " UNION ";
        live_sql += fmt::format("SELECT collected_at FROM {} WHERE instance = ? AND blocking_session_id = ? "
                                "AND collected_at >= ? AND collected_at <= ?",
                                sql::table_name(t));
        ++table_count;
    }
    live_sql = std::string(sql::kTag) + "SELECT COUNT(*) AS live FROM (" + live_sql + ") AS live";
    std::int64_t written = 0;
    for (const auto& ep : blocking::build_episodes(reports)) {
        const std::string start = format_timestamp(ep.start), end = format_timestamp(ep.end);
        if (end <= cutoff) continue;  // kept as it was
        std::int64_t live = 0;
        if (table_count > 0) {
            Params p;
            for (int i = 0; i < table_count; ++i)
                for (const Value& v : {Value(instance), Value(std::int64_t{ep.head_spid}), Value(start), Value(end)}) p.push_back(v);
            auto r = query("count live blocking", live_sql, p);
            if (!r.empty()) live = as_int(r[0].at(0));
        }
        Row values = xe_rows::episode(instance, ep, live);
        // An episode with the same key that ended before the cutoff is updated, else inserted.
        Params update, key;
        for (std::size_t i = 0; i < xe_rows::kEpisodeColumns.size(); ++i) {
            const auto c = xe_rows::kEpisodeColumns[i];
            if (c == "instance" || c == "head_spid" || c == "start_time") continue;
            update.push_back(values.at(i));
        }
        for (const char* k : {"instance", "head_spid", "start_time"})
            for (std::size_t i = 0; i < xe_rows::kEpisodeColumns.size(); ++i)
                if (xe_rows::kEpisodeColumns[i] == k) update.push_back(values.at(i));
        if (exec("update blocking_episodes", sql::get("update blocking_episodes"), update) == 0)
            exec("insert blocking_episodes", sql::get("insert blocking_episodes"), values);
        ++written;
    }
    return written;
}

PurgeResult MssqlStore::purge_xe(const std::string& collector, const Timestamp& cutoff, int max_events) {
    std::lock_guard lock(mu_);
    return purge_xe_locked(collector, cutoff, max_events);
}

PurgeResult MssqlStore::purge_xe_locked(const std::string& collector, const Timestamp& cutoff, int max_events) {
    const std::string cut = format_timestamp(cutoff);
    const int limit = std::max(1, max_events);
    return transaction("purge events", [&] {
        PurgeResult out;
        for (const auto& inst : query("xe instances", sql::get("xe instances"))) {
            // The oldest events (by event_time; collected_at for one without a time) go with their parsed rows.
            auto ids = query("events to purge", sql::get("events to purge"), {Value(std::int64_t{limit + 1}), inst.at(0), Value(cut)});
            if (static_cast<int>(ids.size()) <= limit) {
                auto untimed = query("events without a time to purge", sql::get("events without a time to purge"),
                                     {Value(std::int64_t{limit + 1}), inst.at(0), Value(cut)});
                ids.insert(ids.end(), untimed.begin(), untimed.end());
            }
            if (static_cast<int>(ids.size()) > limit) {
                out.more = true;
                ids.resize(static_cast<std::size_t>(limit));
            }
            for (const char* t : {"blocked_process_reports", "deadlock_processes", "deadlock_resources", "deadlocks", "xe_events"})
                out.rows += exec_rows(std::string("purge ") + t, sql::get(std::string("purge ") + t), ids);
            out.snapshots += static_cast<std::int64_t>(ids.size());   // for XE collectors: events
            const auto d = exec("purge blocking_episodes", sql::get("purge blocking_episodes"),
                                {Value(std::int64_t{limit}), inst.at(0), Value(cut)});
            out.rows += d;
            if (d == limit) out.more = true;
        }
        out.runs = exec("purge collector_runs", sql::get("purge collector_runs"),
                        {Value(std::int64_t{limit * 10}), Value(collector), Value(cut)});
        return out;
    });
}

}  // namespace dmvlog::store
