#include "agent/store/copy.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <fmt/format.h>
#include <map>
#include <set>

#include "agent/core/time_format.h"

namespace dmvlog::store {

namespace {

class Q {
public:
    Q(sqlite3* db, const std::string& sql) {
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK)
            throw StoreError(fmt::format("copy: {} ({})", sqlite3_errmsg(db), sql.substr(0, 100)));
    }
    ~Q() { sqlite3_finalize(s_); }
    Q(const Q&) = delete;
    Q& operator=(const Q&) = delete;
    sqlite3_stmt* get() { return s_; }
    bool step() { return sqlite3_step(s_) == SQLITE_ROW; }
    std::string text(int i) {
        auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, i));
        return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, i))) : std::string();
    }

private:
    sqlite3_stmt* s_ = nullptr;
};

std::string ident(const std::string& name) { return "\"" + name + "\""; }

Value read_value(sqlite3_stmt* s, int i, collect::StorageClass storage) {
    if (sqlite3_column_type(s, i) == SQLITE_NULL) return Value{};
    auto text = [&] {
        auto p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
        return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
    };
    switch (storage) {
        case collect::StorageClass::integer: return Value{static_cast<std::int64_t>(sqlite3_column_int64(s, i))};
        case collect::StorageClass::real: return Value{sqlite3_column_double(s, i)};
        case collect::StorageClass::decimal: return Value{Decimal{text()}};
        case collect::StorageClass::text: return Value{text()};
        case collect::StorageClass::blob: {
            auto p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, i));
            return Value{Bytes(p, p + sqlite3_column_bytes(s, i))};
        }
        case collect::StorageClass::timestamp: {
            auto t = parse_timestamp(text());
            return t ? Value{*t} : Value{text()};
        }
    }
    return Value{};
}

}  // namespace

CopyResult copy_store(SqliteStore& from, Store& to, const std::vector<TableSpec>& tables,
                      const std::function<void(const std::string&)>& progress) {
    CopyResult out;
    sqlite3* db = from.handle();
    for (const auto& spec : tables) {
        {
            Q has(db, "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?");
            sqlite3_bind_text(has.get(), 1, spec.name.c_str(), -1, SQLITE_TRANSIENT);
            if (!has.step()) continue;
        }
        std::vector<std::size_t> hash_columns;
        for (std::size_t k = 0; k < spec.columns.size(); ++k)
            if (spec.columns[k].name.size() > 5 && spec.columns[k].name.ends_with("_hash")) hash_columns.push_back(k);
        Q snaps(db, "SELECT instance, collected_at, utc_offset_minutes, sqlserver_start_time FROM snapshots "
                    "WHERE collector = ? ORDER BY collected_at, instance");
        sqlite3_bind_text(snaps.get(), 1, spec.collector.c_str(), -1, SQLITE_TRANSIENT);
        std::string cols;
        for (const auto& c : spec.columns) cols += ", " + ident(c.name);
        Q rows(db, fmt::format("SELECT instance{} FROM {} WHERE instance = ? AND collected_at = ?", cols, ident(spec.name)));
        Q text(db, "SELECT text FROM sql_text WHERE hash = ?");
        while (snaps.step()) {
            Snapshot snap;
            snap.instance = snaps.text(0);
            snap.collector = spec.collector;
            snap.table = spec.name;
            snap.collected_at = parse_timestamp(snaps.text(1)).value_or(Timestamp{});
            snap.utc_offset_minutes = sqlite3_column_int(snaps.get(), 2);
            if (sqlite3_column_type(snaps.get(), 3) != SQLITE_NULL) snap.sqlserver_start_time = parse_timestamp(snaps.text(3));
            sqlite3_reset(rows.get());
            sqlite3_bind_text(rows.get(), 1, snap.instance.c_str(), -1, SQLITE_TRANSIENT);
            const std::string at = snaps.text(1);
            sqlite3_bind_text(rows.get(), 2, at.c_str(), -1, SQLITE_TRANSIENT);
            std::set<std::int64_t> hashes;
            while (rows.step()) {
                Row row;
                row.reserve(spec.columns.size());
                for (std::size_t k = 0; k < spec.columns.size(); ++k)
                    row.push_back(read_value(rows.get(), static_cast<int>(k) + 1, spec.columns[k].storage));
                for (auto k : hash_columns)
                    if (auto* h = std::get_if<std::int64_t>(&row[k])) hashes.insert(*h);
                snap.rows.push_back(std::move(row));
            }
            for (auto h : hashes) {
                sqlite3_reset(text.get());
                sqlite3_bind_int64(text.get(), 1, h);
                if (text.step()) snap.texts.emplace_back(h, text.text(0));
            }
            RunRecord none;   // the run records are copied below
            if (to.write(snap, none)) {
                ++out.snapshots;
                out.rows += static_cast<std::int64_t>(snap.rows.size());
            } else {
                ++out.skipped;
            }
        }
        if (progress) progress(spec.name);
    }
    Q runs(db, "SELECT instance, collector, started_at, duration_ms, row_count, bytes, status, error_class, error "
               "FROM collector_runs ORDER BY started_at");
    while (runs.step()) {
        RunRecord r;
        r.instance = runs.text(0);
        r.collector = runs.text(1);
        r.started_at = parse_timestamp(runs.text(2)).value_or(Timestamp{});
        r.duration_ms = sqlite3_column_double(runs.get(), 3);
        r.rows = sqlite3_column_int64(runs.get(), 4);
        r.bytes = sqlite3_column_int64(runs.get(), 5);
        r.status = runs.text(6);
        r.error_class = runs.text(7);
        r.error = runs.text(8);
        to.record_run(r);
        ++out.runs;
    }
    return out;
}

std::int64_t copy_xe_tables(SqliteStore& from, PgStore& to) {
    static const std::map<std::string, std::string> keys = {
        {"xe_bookmarks", "(instance, source)"},   {"xe_events", "(event_id)"},
        {"deadlocks", "(event_id)"},              {"blocking_episodes", "(instance, head_spid, start_time)"},
        {"blocked_process_reports", ""},          {"deadlock_processes", ""},
        {"deadlock_resources", ""},               {"sql_text", "(hash)"}};   // input buffers of the events
    std::int64_t copied = 0;
    sqlite3* db = from.handle();
    for (const auto& [table, key] : keys) {
        Q has(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
        sqlite3_bind_text(has.get(), 1, table.c_str(), -1, SQLITE_TRANSIENT);
        if (!has.step()) continue;
        Q rows(db, fmt::format("SELECT * FROM {}", ident(table)));
        const int n = sqlite3_column_count(rows.get());
        std::string cols, marks;
        for (int i = 0; i < n; ++i) {
            cols += (i ? ", " : "") + ident(sqlite3_column_name(rows.get(), i));
            marks += fmt::format("{}${}", i ? ", " : "", i + 1);
        }
        // Tables without a key are copied only when the target has none of their rows yet.
        if (key.empty()) {
            PGresult* c = PQexec(to.handle(), fmt::format("SELECT count(*) FROM {}", ident(table)).c_str());
            const bool empty = PQresultStatus(c) == PGRES_TUPLES_OK && std::string(PQgetvalue(c, 0, 0)) == "0";
            PQclear(c);
            if (!empty) continue;
        }
        const std::string sql = fmt::format("INSERT INTO {} ({}) VALUES ({}){}", ident(table), cols, marks,
                                            key.empty() ? "" : " ON CONFLICT " + key + " DO NOTHING");
        PQclear(PQexec(to.handle(), "BEGIN"));
        while (rows.step()) {
            std::vector<std::string> vals(static_cast<std::size_t>(n));
            std::vector<const char*> ptrs(static_cast<std::size_t>(n));
            for (int i = 0; i < n; ++i) {
                if (sqlite3_column_type(rows.get(), i) == SQLITE_NULL) {
                    ptrs[static_cast<std::size_t>(i)] = nullptr;
                } else {
                    vals[static_cast<std::size_t>(i)] = rows.text(i);
                    ptrs[static_cast<std::size_t>(i)] = vals[static_cast<std::size_t>(i)].c_str();
                }
            }
            PGresult* r = PQexecParams(to.handle(), sql.c_str(), n, nullptr, ptrs.data(), nullptr, nullptr, 0);
            const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
            std::string msg = ok ? "" : PQresultErrorMessage(r);
            if (ok) copied += std::strtoll(PQcmdTuples(r), nullptr, 10);
            PQclear(r);
            if (!ok) {
                PQclear(PQexec(to.handle(), "ROLLBACK"));
                throw StoreError(fmt::format("copy {}: {}", table, msg));
            }
        }
        PQclear(PQexec(to.handle(), "COMMIT"));
    }
    return copied;
}

}  // namespace dmvlog::store
