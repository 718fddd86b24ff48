#include "bench/store_ingest/sqlite_bare.h"

#include <sqlite3.h>

#include <stdexcept>

#include "agent/core/time_format.h"

namespace dmvlog::bench {

namespace {

void check(sqlite3* db, int rc, const char* what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        throw std::runtime_error(std::string("sqlite baseline: ") + what + ": " + sqlite3_errmsg(db));
}

void exec(sqlite3* db, const char* sql) { check(db, sqlite3_exec(db, sql, nullptr, nullptr, nullptr), sql); }

}  // namespace

std::int64_t sqlite_bare_insert(const std::string& path, Workload& w) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        throw std::runtime_error("sqlite baseline: cannot open " + path);
    }
    std::int64_t rows = 0;
    sqlite3_stmt* ins = nullptr;
    try {
        exec(db, "PRAGMA journal_mode=WAL");
        exec(db, "PRAGMA synchronous=NORMAL");
        exec(db, "PRAGMA cache_size=-2048");
        const auto& spec = w.spec();
        // The table of the declared shape, as a plain logger would keep it (instance, collected_at and
        // utc_offset_minutes on every row, times as text, with its time index), in place of the store's view.
        std::string ddl = "DROP VIEW IF EXISTS \"" + spec.name + "\"; CREATE TABLE \"" + spec.name +
                          "\" (instance TEXT NOT NULL, collected_at TEXT NOT NULL, utc_offset_minutes INTEGER NOT NULL";
        for (const auto& c : spec.columns) {
            const char* type = "TEXT";
            switch (c.storage) {
                case collect::StorageClass::integer: type = "INTEGER"; break;
                case collect::StorageClass::real: type = "REAL"; break;
                case collect::StorageClass::decimal: type = "NUMERIC"; break;
                case collect::StorageClass::blob: type = "BLOB"; break;
                default: break;
            }
            ddl += ", \"" + c.name + "\" " + type;
        }
        ddl += "); CREATE INDEX \"" + spec.name + "_by_time\" ON \"" + spec.name + "\" (instance, collected_at);";
        exec(db, ddl.c_str());
        std::string sql = "INSERT INTO \"" + spec.name + "\" (instance, collected_at, utc_offset_minutes";
        for (const auto& c : spec.columns) sql += ", \"" + c.name + "\"";
        sql += ") VALUES (?, ?, ?";
        for (std::size_t i = 0; i < spec.columns.size(); ++i) sql += ", ?";
        sql += ")";
        check(db, sqlite3_prepare_v2(db, sql.c_str(), -1, &ins, nullptr), "prepare");
        for (int k = 0; k < w.shape().snapshots; ++k) {
            const auto& s = w.snapshot(k);
            const std::string at = format_timestamp(s.collected_at);
            exec(db, "BEGIN IMMEDIATE");
            for (const auto& row : s.rows) {
                sqlite3_bind_text(ins, 1, s.instance.data(), static_cast<int>(s.instance.size()), SQLITE_STATIC);
                sqlite3_bind_text(ins, 2, at.data(), static_cast<int>(at.size()), SQLITE_STATIC);
                sqlite3_bind_int(ins, 3, s.utc_offset_minutes);
                int i = 4;
                for (const auto& v : row) {
                    if (const auto* n = std::get_if<std::int64_t>(&v)) {
                        sqlite3_bind_int64(ins, i, *n);
                    } else if (const auto* d = std::get_if<double>(&v)) {
                        sqlite3_bind_double(ins, i, *d);
                    } else if (const auto* t = std::get_if<std::string>(&v)) {
                        sqlite3_bind_text(ins, i, t->data(), static_cast<int>(t->size()), SQLITE_STATIC);
                    } else if (const auto* b = std::get_if<Bytes>(&v)) {
                        sqlite3_bind_blob(ins, i, b->data(), static_cast<int>(b->size()), SQLITE_STATIC);
                    } else if (const auto* ts = std::get_if<Timestamp>(&v)) {
                        const std::string text = format_timestamp(*ts);
                        sqlite3_bind_text(ins, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
                    } else if (const auto* dec = std::get_if<Decimal>(&v)) {
                        sqlite3_bind_text(ins, i, dec->digits.data(), static_cast<int>(dec->digits.size()), SQLITE_STATIC);
                    } else {
                        sqlite3_bind_null(ins, i);
                    }
                    ++i;
                }
                check(db, sqlite3_step(ins), "insert");
                sqlite3_reset(ins);
                ++rows;
            }
            exec(db, "COMMIT");
        }
    } catch (...) {
        sqlite3_finalize(ins);
        sqlite3_close(db);
        throw;
    }
    sqlite3_finalize(ins);
    sqlite3_close(db);
    return rows;
}

}  // namespace dmvlog::bench
