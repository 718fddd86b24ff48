#include "agent/store/pg_store.h"

#include "agent/store/pg_connect.h"
#include "agent/store/pg_result.h"
#include "agent/store/schema_files.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>

#include "agent/core/embedded.h"
#include "agent/core/time_format.h"
#include "agent/store/xe_store.h"

namespace dmvlog::store {

namespace {

const char* pg_type(collect::StorageClass s) {
    switch (s) {
        case collect::StorageClass::integer: return "bigint";
        case collect::StorageClass::real: return "double precision";
        case collect::StorageClass::decimal: return "numeric";
        case collect::StorageClass::text: return "text COLLATE \"C\"";
        case collect::StorageClass::blob: return "bytea";
        case collect::StorageClass::timestamp: return "text COLLATE \"C\"";
    }
    return "text";
}


// Collector tables: partitioned by day on collected_at; the partitions are made as days arrive.
std::string table_ddl(const TableSpec& t) {
    std::string ddl = fmt::format("CREATE TABLE IF NOT EXISTS {} (\n    instance text COLLATE \"C\" NOT NULL,\n"
                                  "    collected_at text COLLATE \"C\" NOT NULL,\n    utc_offset_minutes bigint NOT NULL",
                                  quote_ident(t.name));
    for (const auto& c : t.columns) ddl += fmt::format(",\n    {} {}", quote_ident(c.name), pg_type(c.storage));
    ddl += "\n) PARTITION BY RANGE (collected_at);\n";
    ddl += fmt::format("CREATE INDEX IF NOT EXISTS {} ON {} (instance, collected_at);\n", quote_ident(t.name + "_by_time"),
                       quote_ident(t.name));
    return ddl;
}

// COPY text format: \N for NULL; backslash, tab, newline and carriage return escaped.
void copy_text(std::string& out, std::string_view s) {
    for (char c : s) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '\t': out += "\\t"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            default: out += c;
        }
    }
}

void copy_value(std::string& out, const Value& v) {
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
                out += "\\N";
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                fmt::format_to(std::back_inserter(out), "{}", x);
            } else if constexpr (std::is_same_v<T, double>) {
                fmt::format_to(std::back_inserter(out), "{}", x);
            } else if constexpr (std::is_same_v<T, std::string>) {
                copy_text(out, x);
            } else if constexpr (std::is_same_v<T, Bytes>) {
                static const char* digits = "0123456789abcdef";
                out += "\\\\x";
                for (auto b : x) {
                    const auto u = static_cast<unsigned char>(b);
                    out += digits[u >> 4];
                    out += digits[u & 15];
                }
            } else if constexpr (std::is_same_v<T, Timestamp>) {
                out += format_timestamp(x);
            } else if constexpr (std::is_same_v<T, Decimal>) {
                out += x.digits;
            }
        },
        v);
}

}  // namespace

PgStore::PgStore(const std::string& conninfo, const std::string& password) {
    try {
        conn_ = pg_connect(conninfo, password);
    } catch (const std::runtime_error& e) {
        throw StoreError(e.what());
    }
    where_ = fmt::format("postgres {}/{}", PQhost(conn_) ? PQhost(conn_) : "", PQdb(conn_) ? PQdb(conn_) : "");
    exec("SET application_name = 'dmvlog'; SET client_min_messages = warning");
}

PgStore::~PgStore() {
    if (conn_) PQfinish(conn_);
}

void PgStore::ensure_connected() {
    if (PQstatus(conn_) == CONNECTION_OK) return;
    // The server went away (restart, failover, network): connect again, with the same parameters. What was
    // prepared on the old connection is gone.
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK)
        throw StoreError(fmt::format("store {}: connection lost and not back: {}", where_, trim(PQerrorMessage(conn_))));
    prepared_ = false;
    Result r(PQexec(conn_, "SET application_name = 'dmvlog'; SET client_min_messages = warning"));
}

void PgStore::exec(const std::string& sql) {
    Result r(PQexec(conn_, sql.c_str()));
    if (!r.ok()) throw StoreError(fmt::format("store {}: {}", where_, trim(PQresultErrorMessage(r.get()))));
}

std::string PgStore::ddl(const std::vector<TableSpec>& tables) {
    std::string out;
    for (const auto& m : migrations("postgres")) {
        if (m.after_tables) continue;
        out += fmt::format("-- schema/postgres/{}\n", m.name);
        out += m.sql;
        out += "\n";
    }
    for (const auto& t : tables) {
        out += fmt::format("-- collector {} (partitions {}_pYYYYMMDD are created as days arrive)\n", t.collector, t.name);
        out += table_ddl(t);
        out += "\n";
    }
    for (const auto& m : migrations("postgres")) {
        if (!m.after_tables) continue;
        out += fmt::format("-- schema/postgres/{} (after the collector tables; each block only when its tables exist)\n", m.name);
        out += m.sql;
        out += "\n";
    }
    return out;
}

int PgStore::schema_version() {
    std::lock_guard lock(mu_);
    ensure_connected();
    Result t(PQexec(conn_, "SELECT to_regclass('schema_version') IS NOT NULL"));
    if (!t.ok() || t.rows() == 0 || t.text(0, 0) != "t") return 0;
    Result v(PQexec(conn_, "SELECT coalesce(max(version), 0) FROM schema_version"));
    if (!v.ok() || v.rows() == 0) return 0;
    return static_cast<int>(v.i64(0, 0));
}

void PgStore::install(const std::vector<TableSpec>& tables) {
    const int current = schema_version();
    std::lock_guard lock(mu_);
    ensure_connected();
    exec("BEGIN");
    try {
        // One installer at a time when many agents start together.
        exec("SELECT pg_advisory_xact_lock(7301042)");
        for (const auto& m : migrations("postgres")) {
            if (m.version <= current) continue;
            if (!m.after_tables) exec(std::string(m.sql));
            const std::string v = std::to_string(m.version), now = now_text();
            const char* params[] = {v.c_str(), now.c_str(), m.name.c_str()};
            Result r(PQexecParams(conn_,
                                  "INSERT INTO schema_version (version, applied_at, description) VALUES ($1, $2, $3) "
                                  "ON CONFLICT (version) DO NOTHING",
                                  3, nullptr, params, nullptr, nullptr, 0));
            if (!r.ok()) throw StoreError(fmt::format("store {}: {}", where_, trim(PQresultErrorMessage(r.get()))));
        }
        for (const auto& t : tables) {
            exec(table_ddl(t));
            std::string column_list;
            for (const auto& c : t.columns) {
                // Columns added to a declaration since the table was created are added to the table.
                exec(fmt::format("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}", quote_ident(t.name), quote_ident(c.name), pg_type(c.storage)));
                if (!column_list.empty()) column_list += ", ";
                column_list += c.name + " " + pg_type(c.storage);
            }
            const std::string now = now_text();
            const char* params[] = {t.name.c_str(), t.collector.c_str(), column_list.c_str(), now.c_str()};
            Result r(PQexecParams(conn_,
                                  "INSERT INTO collector_tables (table_name, collector, columns, updated_at) VALUES ($1, $2, $3, $4) "
                                  "ON CONFLICT (table_name) DO UPDATE SET collector = excluded.collector, "
                                  "columns = excluded.columns, updated_at = excluded.updated_at",
                                  4, nullptr, params, nullptr, nullptr, 0));
            if (!r.ok()) throw StoreError(fmt::format("store {}: {}", where_, trim(PQresultErrorMessage(r.get()))));
            tables_[t.name] = t;
        }
        apply_after_tables();
        exec("COMMIT");
    } catch (...) {
        PQclear(PQexec(conn_, "ROLLBACK"));
        throw;
    }
}

// Views over collector tables (schema/postgres/ files marked kAfterTablesMarker): every install, inside its
// transaction, each block once the tables it requires exist (in the search path, where install made them).
void PgStore::apply_after_tables() {
    for (const auto& m : migrations("postgres")) {
        if (!m.after_tables) continue;
        for (const auto& b : after_tables_blocks(m.sql)) {
            bool ok = true;
            for (const auto& t : b.requires_tables) {
                const std::string name = quote_ident(t);
                const char* params[] = {name.c_str()};
                Result r(PQexecParams(conn_, "SELECT to_regclass($1) IS NOT NULL", 1, nullptr, params, nullptr, nullptr, 0));
                if (!r.ok()) throw StoreError(fmt::format("store {}: {}", where_, trim(PQresultErrorMessage(r.get()))));
                ok = ok && r.rows() == 1 && r.text(0, 0) == "t";
            }
            if (!ok) continue;
            Result r(PQexec(conn_, b.sql.c_str()));
            if (!r.ok())
                throw StoreError(fmt::format("store {}: schema/postgres/{}: {}", where_, m.name, trim(PQresultErrorMessage(r.get()))));
        }
    }
}

void PgStore::ensure_partition(const std::string& table, const std::string& day) {
    const std::string key = table + "/" + day;
    if (partitions_.count(key)) return;
    auto from = parse_timestamp(day);
    if (!from) throw StoreError(fmt::format("store {}: bad partition day {}", where_, day));
    const std::string next = format_timestamp(Timestamp{from->utc_ticks + kTicksPerDay, 0, false}).substr(0, 10);
    std::string name = table + "_p" + day.substr(0, 4) + day.substr(5, 2) + day.substr(8, 2);
    // Agents starting a day at the same moment race to create its partition: IF NOT EXISTS covers one that
    // is already committed; one being created by another session fails here with a duplicate catalog entry,
    // and then it exists.
    const std::string ddl = fmt::format("CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES FROM ('{}') TO ('{}')",
                                        quote_ident(name), quote_ident(table), day, next);
    for (int attempt = 0;; ++attempt) {
        try {
            exec(ddl);
            break;
        } catch (const StoreError&) {
            Result r(PQexec(conn_, fmt::format("SELECT to_regclass({}) IS NOT NULL", "'" + quote_ident(name) + "'").c_str()));
            if (r.ok() && r.rows() == 1 && r.text(0, 0) == "t") break;
            if (attempt >= 2) throw;
        }
    }
    partitions_.insert(key);
}

void PgStore::insert_run(const RunRecord& run) {
    const std::string started = format_timestamp(run.started_at), dur = fmt::format("{}", run.duration_ms),
                      rows = std::to_string(run.rows), bytes = std::to_string(run.bytes);
    const char* params[] = {run.instance.c_str(), run.collector.c_str(), started.c_str(), dur.c_str(), rows.c_str(),
                            bytes.c_str(), run.status.c_str(),
                            run.error_class.empty() ? nullptr : run.error_class.c_str(),
                            run.error.empty() ? nullptr : run.error.c_str()};
    Result r(PQexecParams(conn_,
                          "INSERT INTO collector_runs (instance, collector, started_at, duration_ms, row_count, bytes, "
                          "status, error_class, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                          9, nullptr, params, nullptr, nullptr, 0));
    if (!r.ok()) throw StoreError(fmt::format("store {}: record collector run: {}", where_, trim(PQresultErrorMessage(r.get()))));
}

std::string PgStore::literal(std::string_view text) {
    char* e = PQescapeLiteral(conn_, text.data(), text.size());
    if (!e) throw StoreError(fmt::format("store {}: {}", where_, trim(PQerrorMessage(conn_))));
    std::string out(e);
    PQfreemem(e);
    return out;
}

void PgStore::drain() {
    // Reads what is left of the current query; a COPY still open is aborted.
    while (PGresult* e = PQgetResult(conn_)) {
        const bool copy_in = PQresultStatus(e) == PGRES_COPY_IN;
        PQclear(e);
        if (copy_in && PQputCopyEnd(conn_, "dmvlog: write aborted") != 1) break;
    }
}

bool PgStore::write(const Snapshot& snap, const RunRecord& run) {
    std::lock_guard lock(mu_);
    ensure_connected();
    auto tit = tables_.find(snap.table);
    if (tit == tables_.end()) throw StoreError(fmt::format("store {}: table {} is not installed", where_, snap.table));
    const TableSpec& spec = tit->second;
    const std::string collected_at = format_timestamp(snap.collected_at);
    // A partition is created outside the snapshot's transaction, so that a failed write leaves it for the next.
    ensure_partition(spec.name, collected_at.substr(0, 10));
    // One prepared statement inserts the snapshots row and, only when that row is new, the SQL text not yet
    // known to be stored (in hash order, so that agents writing the same text at once take its locks in the
    // same order) and the run record. It and the COPY of the rows go in one query: one implicit transaction,
    // two round trips.
    if (!prepared_) {
        exec("PREPARE dmvlog_write_snapshot (text, text, text, bigint, text, bigint, text, bigint[], text[], text, text, "
             "text, double precision, bigint, bigint, text, text, text, bigint) AS "
             // A later part ($19: its offset) extends the snapshots row its earlier parts made (store.h).
             "WITH ext AS (UPDATE snapshots SET row_count = $19 + $6 WHERE $19 > 0 AND instance = $1 AND collector = $2 "
             "AND collected_at = $3 AND row_count <= $19 RETURNING snapshot_id), "
             "ins AS (INSERT INTO snapshots (instance, collector, collected_at, utc_offset_minutes, sqlserver_start_time, "
             "row_count, written_at) SELECT $1, $2, $3, $4, $5, $19 + $6, $7 WHERE NOT EXISTS (SELECT 1 FROM ext) "
             "ON CONFLICT (instance, collector, collected_at) DO NOTHING RETURNING snapshot_id), "
             "s AS (SELECT snapshot_id FROM ext UNION ALL SELECT snapshot_id FROM ins), "
             "t AS (INSERT INTO sql_text (hash, text, first_seen) SELECT u.h, u.x, $3 FROM unnest($8, $9) AS u(h, x) "
             "WHERE EXISTS (SELECT 1 FROM s) ORDER BY u.h ON CONFLICT (hash) DO NOTHING), "
             "r AS (INSERT INTO collector_runs (instance, collector, started_at, duration_ms, row_count, bytes, status, "
             "error_class, error) SELECT $10, $11, $12, $13, $14, $15, $16, $17, $18 WHERE $11 <> '' AND EXISTS (SELECT 1 FROM s)) "
             "SELECT snapshot_id FROM s");
        prepared_ = true;
    }
    std::vector<const std::pair<std::int64_t, std::string>*> texts;
    for (const auto& t : snap.texts)
        if (!known_texts_.count(t.first)) texts.push_back(&t);
    std::sort(texts.begin(), texts.end(), [](auto* a, auto* b) { return a->first < b->first; });
    texts.erase(std::unique(texts.begin(), texts.end(), [](auto* a, auto* b) { return a->first == b->first; }), texts.end());
    std::string hashes = "{", values = "{";
    for (const auto* t : texts) {
        if (hashes.size() > 1) {
            hashes += ',';
            values += ',';
        }
        fmt::format_to(std::back_inserter(hashes), "{}", t->first);
        values += '"';
        for (char c : t->second) {
            if (c == '"' || c == '\\') values += '\\';
            values += c;
        }
        values += '"';
    }
    hashes += '}';
    values += '}';
    std::string sql = fmt::format(
        "EXECUTE dmvlog_write_snapshot ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {});",
        literal(snap.instance), literal(snap.collector), literal(collected_at), snap.utc_offset_minutes,
        snap.sqlserver_start_time ? literal(format_timestamp(*snap.sqlserver_start_time)) : "NULL", snap.rows.size(),
        literal(now_text()), literal(hashes), literal(values), literal(run.instance), literal(run.collector),
        literal(format_timestamp(run.started_at)), run.duration_ms, run.rows, run.bytes, literal(run.status),
        run.error_class.empty() ? "NULL" : literal(run.error_class), run.error.empty() ? "NULL" : literal(run.error),
        snap.part_offset);
    if (!snap.rows.empty()) {
        sql += fmt::format("\nCOPY {} (instance, collected_at, utc_offset_minutes", quote_ident(spec.name));
        for (const auto& c : spec.columns) sql += ", " + quote_ident(c.name);
        sql += ") FROM STDIN";
    }
    bool sent = false;
    try {
        if (PQsendQuery(conn_, sql.c_str()) != 1)
            throw StoreError(fmt::format("store {}: write snapshot: {}", where_, trim(PQerrorMessage(conn_))));
        sent = true;
        // Results: the snapshot's row (none for a replay), then the COPY waiting for rows.
        std::string error;
        bool is_new = false, copying = false;
        while (!copying) {
            PGresult* e = PQgetResult(conn_);
            if (!e) break;
            Result res(e);
            const auto st = PQresultStatus(e);
            if (st == PGRES_COPY_IN) copying = true;
            else if (st == PGRES_TUPLES_OK) is_new = res.rows() > 0;
            else if (st != PGRES_COMMAND_OK && error.empty()) error = trim(PQresultErrorMessage(e));
        }
        if (!error.empty()) throw StoreError(fmt::format("store {}: insert snapshot: {}", where_, error));
        if (copying) {
            // A replay copies no rows: the snapshot and its rows are there already.
            bool ok = true;
            if (is_new) {
                std::string prefix;
                copy_text(prefix, snap.instance);
                prefix += '\t' + collected_at + '\t' + std::to_string(snap.utc_offset_minutes);
                std::string buf;
                buf.reserve(1 << 16);
                for (const auto& row : snap.rows) {
                    buf += prefix;
                    for (std::size_t i = 0; i < spec.columns.size(); ++i) {
                        buf += '\t';
                        if (i < row.size()) copy_value(buf, row[i]);
                        else buf += "\\N";
                    }
                    buf += '\n';
                    if (buf.size() >= (1 << 16)) {
                        ok = ok && PQputCopyData(conn_, buf.data(), static_cast<int>(buf.size())) == 1;
                        buf.clear();
                    }
                }
                if (!buf.empty()) ok = ok && PQputCopyData(conn_, buf.data(), static_cast<int>(buf.size())) == 1;
            }
            if (PQputCopyEnd(conn_, ok ? nullptr : "dmvlog: copy aborted") != 1 || !ok)
                throw StoreError(fmt::format("store {}: copy into {}: {}", where_, spec.name, trim(PQerrorMessage(conn_))));
            while (PGresult* e = PQgetResult(conn_)) {
                Result end(e);
                if (!end.ok() && error.empty()) error = trim(PQresultErrorMessage(e));
            }
            if (!error.empty()) throw StoreError(fmt::format("store {}: copy into {}: {}", where_, spec.name, error));
        }
        // The query's end committed its implicit transaction (an error there came as a result above).
        sent = false;
        if (!is_new) return false;   // already written (a replay): the run was recorded the first time
        if (known_texts_.size() + texts.size() > kKnownTexts) known_texts_.clear();
        for (const auto* t : texts) known_texts_.insert(t->first);
        return true;
    } catch (...) {
        if (sent) drain();
        if (PQtransactionStatus(conn_) != PQTRANS_IDLE) PQclear(PQexec(conn_, "ROLLBACK"));
        throw;
    }
}

void PgStore::record_run(const RunRecord& run) {
    std::lock_guard lock(mu_);
    ensure_connected();
    insert_run(run);
}

std::vector<RunSummary> PgStore::run_summaries(int recent) {
    std::lock_guard lock(mu_);
    ensure_connected();
    Result r(PQexec(conn_,
                    "SELECT instance, collector, started_at, duration_ms, status, coalesce(error, ''), row_count, "
                    "count(*) OVER w AS runs, sum(CASE WHEN status <> 'ok' THEN 1 ELSE 0 END) OVER w AS failures, "
                    "row_number() OVER (PARTITION BY instance, collector ORDER BY started_at DESC) AS rn "
                    "FROM collector_runs WINDOW w AS (PARTITION BY instance, collector) "
                    "ORDER BY instance, collector, started_at DESC"));
    if (!r.ok()) throw StoreError(fmt::format("store {}: run summaries: {}", where_, trim(PQresultErrorMessage(r.get()))));
    std::vector<RunSummary> out;
    std::vector<double> durations;
    auto finish = [&] {
        if (!out.empty()) set_percentiles(out.back(), durations);
        durations.clear();
    };
    for (int i = 0; i < r.rows(); ++i) {
        if (r.i64(i, 9) == 1) {
            finish();
            RunSummary s;
            s.instance = r.text(i, 0);
            s.collector = r.text(i, 1);
            s.last_started_at = r.text(i, 2);
            s.last_status = r.text(i, 4);
            s.last_error = r.text(i, 5);
            s.last_rows = r.i64(i, 6);
            s.runs = r.i64(i, 7);
            s.failures = r.i64(i, 8);
            out.push_back(std::move(s));
        }
        if (r.i64(i, 9) <= recent) durations.push_back(std::strtod(r.text(i, 3).c_str(), nullptr));
    }
    finish();
    return out;
}

std::optional<std::string> PgStore::oldest_before(const std::string& collector, const std::string& table,
                                                  const Timestamp& cutoff) {
    std::lock_guard lock(mu_);
    ensure_connected();
    if (table == kXeTable) return std::nullopt;  // the XE collectors do not write to a PostgreSQL store yet
    const std::string cut = format_timestamp(cutoff);
    const char* p[] = {collector.c_str(), cut.c_str()};
    Result r(PQexecParams(conn_, "SELECT MIN(collected_at) FROM snapshots WHERE collector = $1 AND collected_at < $2", 2,
                          nullptr, p, nullptr, nullptr, 0));
    if (!r.ok()) throw StoreError(fmt::format("store {}: oldest data of {}: {}", where_, collector, trim(PQresultErrorMessage(r.get()))));
    if (r.rows() == 0 || PQgetisnull(r.get(), 0, 0)) return std::nullopt;
    return r.text(0, 0);
}

PurgeResult PgStore::purge(const std::string& collector, const std::string& table, const Timestamp& cutoff, int max_snapshots) {
    std::lock_guard lock(mu_);
    ensure_connected();
    if (table == kXeTable) return purge_xe_locked(collector, cutoff, max_snapshots);
    if (!tables_.count(table)) throw StoreError(fmt::format("store {}: purge of {}: table is not installed", where_, table));
    PurgeResult out;
    const std::string cut = format_timestamp(cutoff), cut_day = cut.substr(0, 10);
    // 1. Whole days before the cutoff's day: drop their partitions (no row by row delete, no bloat).
    {
        const std::string t = table;
        const char* params[] = {t.c_str()};
        Result parts(PQexecParams(conn_,
                                  "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                  "WHERE i.inhparent = to_regclass(quote_ident($1)) ORDER BY 1",
                                  1, nullptr, params, nullptr, nullptr, 0));
        if (!parts.ok()) throw StoreError(fmt::format("store {}: {}", where_, trim(PQresultErrorMessage(parts.get()))));
        for (int i = 0; i < parts.rows(); ++i) {
            const std::string name = parts.text(i, 0);
            if (name.size() < 8) continue;
            const std::string d = name.substr(name.size() - 8);
            const std::string day = d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2);
            if (day >= cut_day) continue;   // the partition [day, day+1) ends after the cutoff's day begins
            Result n(PQexec(conn_, fmt::format("SELECT count(*) FROM {}", quote_ident(name)).c_str()));
            if (n.ok() && n.rows()) out.rows += n.i64(0, 0);
            exec(fmt::format("DROP TABLE IF EXISTS {}", quote_ident(name)));
            partitions_.erase(table + "/" + day);
        }
    }
    exec("BEGIN");
    try {
        // 2. The rest of the cutoff's day, and the snapshot rows: in batches.
        const std::string lim = std::to_string(max_snapshots + 1);
        const char* fp[] = {collector.c_str(), cut.c_str(), lim.c_str()};
        Result victims(PQexecParams(conn_,
                                    "SELECT snapshot_id, instance, collected_at FROM snapshots WHERE collector = $1 AND "
                                    "collected_at < $2 ORDER BY collected_at LIMIT $3",
                                    3, nullptr, fp, nullptr, nullptr, 0));
        if (!victims.ok()) throw StoreError(fmt::format("store {}: {}", where_, trim(PQresultErrorMessage(victims.get()))));
        int n = victims.rows();
        if (n > max_snapshots) {
            out.more = true;
            n = max_snapshots;
        }
        for (int i = 0; i < n; ++i) {
            const std::string id = victims.text(i, 0), inst = victims.text(i, 1), at = victims.text(i, 2);
            const char* dp[] = {inst.c_str(), at.c_str()};
            Result d(PQexecParams(conn_, fmt::format("DELETE FROM {} WHERE instance = $1 AND collected_at = $2", quote_ident(table)).c_str(),
                                  2, nullptr, dp, nullptr, nullptr, 0));
            if (!d.ok()) throw StoreError(fmt::format("store {}: purge {}: {}", where_, table, trim(PQresultErrorMessage(d.get()))));
            out.rows += std::strtoll(PQcmdTuples(d.get()), nullptr, 10);
            const char* sp[] = {id.c_str()};
            Result s(PQexecParams(conn_, "DELETE FROM snapshots WHERE snapshot_id = $1", 1, nullptr, sp, nullptr, nullptr, 0));
            if (!s.ok()) throw StoreError(fmt::format("store {}: purge snapshots: {}", where_, trim(PQresultErrorMessage(s.get()))));
            ++out.snapshots;
        }
        out.runs = purge_runs(collector, cut, max_snapshots * 10);
        exec("COMMIT");
    } catch (...) {
        PQclear(PQexec(conn_, "ROLLBACK"));
        throw;
    }
    return out;
}

std::int64_t PgStore::purge_runs(const std::string& collector, const std::string& cutoff, int limit) {
    auto runs = pg_exec(conn_, where_, "purge collector_runs",
                        "DELETE FROM collector_runs WHERE ctid IN (SELECT ctid FROM collector_runs WHERE "
                        "collector = $1 AND started_at < $2 LIMIT $3)",
                        {collector, cutoff, std::to_string(limit)});
    return runs.affected();
}

}  // namespace dmvlog::store
