#include "agent/store/sqlite_store.h"

#include "agent/store/schema_files.h"
#include "agent/store/sqlite_layout.h"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fmt/format.h>

#include "agent/core/embedded.h"
#include "agent/core/time_format.h"

namespace dmvlog::store {

namespace {

const char* sqlite_type(collect::StorageClass s) {
    switch (s) {
        case collect::StorageClass::integer: return "INTEGER";
        case collect::StorageClass::real: return "REAL";
        case collect::StorageClass::decimal: return "NUMERIC";
        case collect::StorageClass::text: return "TEXT";
        case collect::StorageClass::blob: return "BLOB";
        case collect::StorageClass::timestamp: return "TEXT";
    }
    return "TEXT";
}

// ---- after collector tables (views and query indexes; a separate step of install; schema_files.h) ----

// Runs the blocks whose tables exist, inside install()'s transaction.
void apply_after_tables(sqlite3* db, const std::string& path) {
    for (const auto& m : migrations("sqlite")) {
        if (!m.after_tables) continue;
        for (const auto& b : after_tables_blocks(m.sql)) {
            bool ok = true;
            for (const auto& t : b.requires_tables) {
                sqlite3_stmt* q = nullptr;
                if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", -1, &q,
                                       nullptr) != SQLITE_OK)
                    throw StoreError(fmt::format("store {}: {}", path, sqlite3_errmsg(db)));
                sqlite3_bind_text(q, 1, t.c_str(), -1, SQLITE_TRANSIENT);
                ok = ok && sqlite3_step(q) == SQLITE_ROW;
                sqlite3_finalize(q);
            }
            if (!ok) continue;
            char* err = nullptr;
            if (sqlite3_exec(db, b.sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
                std::string msg = err ? err : "unknown error";
                sqlite3_free(err);
                throw StoreError(fmt::format("store {}: schema/sqlite/{}: {}", path, m.name, msg));
            }
        }
    }
}

// The collectors writing to each table (one, as declared today), for the views' snapshot filter.
std::map<std::string, std::vector<std::string>> collectors_by_table(const std::vector<TableSpec>& tables) {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& t : tables) {
        auto& v = out[t.name];
        if (std::find(v.begin(), v.end(), t.collector) == v.end()) v.push_back(t.collector);
    }
    return out;
}

}  // namespace

class SqliteStore::Stmt {
public:
    Stmt(sqlite3* db, const std::string& sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &s_, nullptr) != SQLITE_OK)
            throw StoreError(fmt::format("sqlite: cannot prepare: {} ({})", sqlite3_errmsg(db), sql.substr(0, 120)));
    }
    ~Stmt() { sqlite3_finalize(s_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    sqlite3_stmt* get() { return s_; }

private:
    sqlite3* db_;
    sqlite3_stmt* s_ = nullptr;
};

SqliteStore::SqliteStore(const std::string& path, std::chrono::milliseconds busy_timeout, bool read_only)
    : path_(path) {
    if (!read_only) {
        auto dir = std::filesystem::path(path).parent_path();
        std::error_code ec;
        if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    }
    int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    flags |= SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw StoreError(fmt::format("cannot open store {}: {}", path, msg));
    }
    sqlite3_busy_timeout(db_, static_cast<int>(busy_timeout.count()));
    sqlite3_extended_result_codes(db_, 1);
    if (!read_only) {
        exec("PRAGMA journal_mode=WAL");
        exec("PRAGMA synchronous=NORMAL");
        exec("PRAGMA cache_size=-2048");  // 2 MiB of page cache: the agent only appends and purges
    }
}

SqliteStore::~SqliteStore() {
    for (auto& [k, s] : cache_) sqlite3_finalize(s);
    if (db_) sqlite3_close(db_);
}

void SqliteStore::fail(const std::string& what) {
    throw StoreError(fmt::format("store {}: {}: {}", path_, what, sqlite3_errmsg(db_)));
}

void SqliteStore::exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw StoreError(fmt::format("store {}: {}", path_, msg));
    }
}

sqlite3_stmt* SqliteStore::prepare_cached(const std::string& key, const std::string& sql) {
    auto it = cache_.find(key);
    if (it != cache_.end()) {
        sqlite3_reset(it->second);
        sqlite3_clear_bindings(it->second);
        return it->second;
    }
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s, nullptr) !=
        SQLITE_OK)
        fail("prepare " + key);
    cache_[key] = s;
    return s;
}

std::string SqliteStore::ddl(const std::vector<TableSpec>& tables) {
    std::string out;
    for (const auto& m : migrations("sqlite")) {
        if (m.after_tables) continue;
        out += fmt::format("-- schema/sqlite/{}\n", m.name);
        out += m.sql;
        out += "\n";
    }
    const auto collectors = collectors_by_table(tables);
    out += "-- names and handles of the collector tables (agent/store/sqlite_layout.h)\n";
    out += sqlite_layout::kDictionaryDdl;
    out += "\n";
    for (const auto& t : tables) {
        if (t.name == kXeTable) continue;   // a core table (schema/sqlite/003_blocking.sql)
        out += fmt::format("-- collector {}\n", t.collector);
        out += sqlite_layout::data_ddl(t);
        out += sqlite_layout::view_ddl(t, collectors.at(t.name));
        out += "\n";
    }
    for (const auto& m : migrations("sqlite")) {
        if (!m.after_tables) continue;
        out += fmt::format("-- schema/sqlite/{} (after the collector tables; each block only when its tables exist)\n", m.name);
        out += m.sql;
        out += "\n";
    }
    return out;
}

int SqliteStore::schema_version() {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_version'");
    if (sqlite3_step(s.get()) != SQLITE_ROW || sqlite3_column_int(s.get(), 0) == 0) return 0;
    Stmt v(db_, "SELECT coalesce(max(version), 0) FROM schema_version");
    if (sqlite3_step(v.get()) != SQLITE_ROW) return 0;
    return sqlite3_column_int(v.get(), 0);
}

void SqliteStore::install(const std::vector<TableSpec>& tables) {
    int current = schema_version();
    std::lock_guard lock(mu_);
    exec("BEGIN IMMEDIATE");
    try {
        for (const auto& m : migrations("sqlite")) {
            if (m.version <= current) continue;
            if (!m.after_tables) exec(std::string(m.sql));
            Stmt ins(db_, "INSERT INTO schema_version (version, applied_at, description) VALUES (?, ?, ?)");
            sqlite3_bind_int(ins.get(), 1, m.version);
            auto now = now_text();
            sqlite3_bind_text(ins.get(), 2, now.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(ins.get(), 3, m.name.c_str(), -1, SQLITE_TRANSIENT);
            if (sqlite3_step(ins.get()) != SQLITE_DONE) fail("record schema version");
        }
        const auto collectors = collectors_by_table(tables);
        exec(sqlite_layout::kDictionaryDdl);
        for (const auto& t : tables) {
            if (t.name == kXeTable) {
                // The event collectors' table is a core table (schema/sqlite/003_blocking.sql; sqlite_xe.cpp).
                tables_[t.name] = t;
                continue;
            }
            const std::string data = sqlite_layout::data_table(t.name);
            auto columns_of = [&](const std::string& table) {
                std::vector<std::string> out;
                Stmt info(db_, fmt::format("PRAGMA table_info({})", quote_ident(table)));
                while (sqlite3_step(info.get()) == SQLITE_ROW)
                    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(info.get(), 1)));
                return out;
            };
            exec(sqlite_layout::data_ddl(t));
            // Columns added to a declaration since the table was created are added to the table.
            auto existing = columns_of(data);
            std::string column_list;
            for (const auto& c : t.columns) {
                if (std::find(existing.begin(), existing.end(), c.name) == existing.end())
                    exec(fmt::format("ALTER TABLE {} ADD COLUMN {} {}", quote_ident(data), quote_ident(c.name),
                                     sqlite_layout::column_type(c)));
                if (!column_list.empty()) column_list += ", ";
                column_list += c.name + " " + sqlite_type(c.storage);
            }
            // A store of the earlier layout (rows with instance and collected_at as text): its rows move.
            bool earlier_layout = false;
            {
                Stmt kind(db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
                sqlite3_bind_text(kind.get(), 1, t.name.c_str(), -1, SQLITE_TRANSIENT);
                earlier_layout = sqlite3_step(kind.get()) == SQLITE_ROW;
            }
            if (earlier_layout) exec(sqlite_layout::migrate_sql(t, t.collector, columns_of(t.name)));
            exec(sqlite_layout::view_ddl(t, collectors.at(t.name)));
            Stmt up(db_,
                    "INSERT INTO collector_tables (table_name, collector, columns, updated_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(table_name) DO UPDATE SET collector = excluded.collector, columns = "
                    "excluded.columns, updated_at = excluded.updated_at");
            auto now = now_text();
            sqlite3_bind_text(up.get(), 1, t.name.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(up.get(), 2, t.collector.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(up.get(), 3, column_list.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(up.get(), 4, now.c_str(), -1, SQLITE_TRANSIENT);
            if (sqlite3_step(up.get()) != SQLITE_DONE) fail("record collector table");
            tables_[t.name] = t;
        }
        apply_after_tables(db_, path_);
        exec("COMMIT");
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
    // Statements prepared against the old table shapes must be prepared again.
    for (auto& [k, s] : cache_) sqlite3_finalize(s);
    cache_.clear();
}

void bind_value(sqlite3_stmt* s, int i, const Value& v) {
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
                sqlite3_bind_null(s, i);
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                sqlite3_bind_int64(s, i, x);
            } else if constexpr (std::is_same_v<T, double>) {
                sqlite3_bind_double(s, i, x);
            } else if constexpr (std::is_same_v<T, std::string>) {
                sqlite3_bind_text64(s, i, x.data(), x.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
            } else if constexpr (std::is_same_v<T, Bytes>) {
                sqlite3_bind_blob64(s, i, x.data(), x.size(), SQLITE_TRANSIENT);
            } else if constexpr (std::is_same_v<T, Timestamp>) {
                auto text = format_timestamp(x);
                sqlite3_bind_text(s, i, text.c_str(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
            } else if constexpr (std::is_same_v<T, Decimal>) {
                sqlite3_bind_text(s, i, x.digits.c_str(), static_cast<int>(x.digits.size()), SQLITE_TRANSIENT);
            }
        },
        v);
}

namespace {

// As bind_value, without copying text, blobs and decimals: the value must outlive the statement's next step.
void bind_value_static(sqlite3_stmt* s, int i, const Value& v) {
    if (const auto* t = std::get_if<std::string>(&v))
        sqlite3_bind_text64(s, i, t->data(), t->size(), SQLITE_STATIC, SQLITE_UTF8);
    else if (const auto* b = std::get_if<Bytes>(&v))
        sqlite3_bind_blob64(s, i, b->data(), b->size(), SQLITE_STATIC);
    else if (const auto* d = std::get_if<Decimal>(&v))
        sqlite3_bind_text(s, i, d->digits.data(), static_cast<int>(d->digits.size()), SQLITE_STATIC);
    else
        bind_value(s, i, v);
}

void bind_text(sqlite3_stmt* s, int i, const std::string& text) {
    sqlite3_bind_text(s, i, text.c_str(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

}  // namespace

void SqliteStore::insert_run(const RunRecord& run) {
    auto* s = prepare_cached("run",
                             "INSERT INTO collector_runs (instance, collector, started_at, duration_ms, row_count, "
                             "bytes, status, error_class, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    bind_text(s, 1, run.instance);
    bind_text(s, 2, run.collector);
    bind_text(s, 3, format_timestamp(run.started_at));
    sqlite3_bind_double(s, 4, run.duration_ms);
    sqlite3_bind_int64(s, 5, run.rows);
    sqlite3_bind_int64(s, 6, run.bytes);
    bind_text(s, 7, run.status);
    if (run.error_class.empty()) sqlite3_bind_null(s, 8); else bind_text(s, 8, run.error_class);
    if (run.error.empty()) sqlite3_bind_null(s, 9); else bind_text(s, 9, run.error);
    if (sqlite3_step(s) != SQLITE_DONE) fail("record collector run");
}

bool SqliteStore::write(const Snapshot& snap, const RunRecord& run) {
    std::lock_guard lock(mu_);
    auto tit = tables_.find(snap.table);
    if (tit == tables_.end()) throw StoreError(fmt::format("store {}: table {} is not installed", path_, snap.table));
    const TableSpec& spec = tit->second;
    exec("BEGIN IMMEDIATE");
    try {
        const std::string collected_at = format_timestamp(snap.collected_at);
        const auto nrows = static_cast<sqlite3_int64>(snap.rows.size());
        // A later part extends the snapshot its earlier parts made (store.h).
        bool extended = false;
        if (snap.part_offset > 0) {
            auto* u = prepare_cached("extend snapshot",
                                     "UPDATE snapshots SET row_count = ? WHERE instance = ? AND collector = ? "
                                     "AND collected_at = ? AND row_count <= ?");
            sqlite3_bind_int64(u, 1, snap.part_offset + nrows);
            bind_text(u, 2, snap.instance);
            bind_text(u, 3, snap.collector);
            bind_text(u, 4, collected_at);
            sqlite3_bind_int64(u, 5, snap.part_offset);
            if (sqlite3_step(u) != SQLITE_DONE) fail("extend snapshot");
            extended = sqlite3_changes(db_) > 0;
        }
        if (!extended) {
            auto* s = prepare_cached("snapshot",
                                     "INSERT OR IGNORE INTO snapshots (instance, collector, collected_at, "
                                     "utc_offset_minutes, sqlserver_start_time, row_count, written_at) "
                                     "VALUES (?, ?, ?, ?, ?, ?, ?)");
            bind_text(s, 1, snap.instance);
            bind_text(s, 2, snap.collector);
            bind_text(s, 3, collected_at);
            sqlite3_bind_int(s, 4, snap.utc_offset_minutes);
            if (snap.sqlserver_start_time) bind_text(s, 5, format_timestamp(*snap.sqlserver_start_time));
            else sqlite3_bind_null(s, 5);
            sqlite3_bind_int64(s, 6, snap.part_offset + nrows);
            bind_text(s, 7, now_text());
            if (sqlite3_step(s) != SQLITE_DONE) fail("insert snapshot");
        }
        if (!extended && sqlite3_changes(db_) == 0) {
            // Already written (a replay): nothing more to do, and the run was recorded the first time.
            exec("COMMIT");
            return false;
        }
        // The snapshot's id: the row just inserted, or for a later part the row its first part made.
        std::int64_t snapshot_id = extended ? 0 : sqlite3_last_insert_rowid(db_);
        // Text this connection has already committed is not inserted again (nothing deletes from sql_text).
        std::vector<std::int64_t> new_texts;
        if (!snap.texts.empty()) {
            auto* t = prepare_cached("text", "INSERT OR IGNORE INTO sql_text (hash, text, first_seen) VALUES (?, ?, ?)");
            for (const auto& [hash, text] : snap.texts) {
                if (known_texts_.count(hash)) continue;
                sqlite3_reset(t);
                sqlite3_bind_int64(t, 1, hash);
                sqlite3_bind_text64(t, 2, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
                sqlite3_bind_text(t, 3, collected_at.data(), static_cast<int>(collected_at.size()), SQLITE_STATIC);
                if (sqlite3_step(t) != SQLITE_DONE) fail("insert sql_text");
                new_texts.push_back(hash);
            }
        }
        if (extended) {
            auto* q = prepare_cached("snapshot id", "SELECT snapshot_id FROM snapshots WHERE instance = ? AND "
                                                    "collector = ? AND collected_at = ?");
            bind_text(q, 1, snap.instance);
            bind_text(q, 2, snap.collector);
            bind_text(q, 3, collected_at);
            if (sqlite3_step(q) != SQLITE_ROW) fail("find snapshot");
            snapshot_id = sqlite3_column_int64(q, 0);
            sqlite3_reset(q);
        }
        const std::string key = "rows:" + spec.name;
        sqlite3_stmt* ins = nullptr;
        if (auto it = cache_.find(key); it != cache_.end()) {
            ins = it->second;
            sqlite3_reset(ins);
        } else {
            std::string sql = fmt::format("INSERT INTO {} (snapshot_id", quote_ident(sqlite_layout::data_table(spec.name)));
            for (const auto& c : spec.columns) sql += ", " + quote_ident(c.name);
            sql += ") VALUES (?";
            for (std::size_t i = 0; i < spec.columns.size(); ++i) sql += ", ?";
            sql += ")";
            ins = prepare_cached(key, sql);
        }
        // Values are bound without a copy: each row is stepped before its values go out of scope, and every
        // parameter is bound again for the next row.
        const int ncols = static_cast<int>(spec.columns.size());
        const std::int64_t today = agent_day();   // the day dictionary entries are stamped with
        for (const auto& row : snap.rows) {
            sqlite3_reset(ins);
            sqlite3_bind_int64(ins, 1, snapshot_id);
            for (int i = 0; i < ncols; ++i) {
                const auto& c = spec.columns[static_cast<std::size_t>(i)];
                if (static_cast<std::size_t>(i) >= row.size()) {
                    sqlite3_bind_null(ins, i + 2);
                    continue;
                }
                const Value& v = row[static_cast<std::size_t>(i)];
                if (c.dictionary && !is_null(v)) sqlite3_bind_int64(ins, i + 2, dictionary_id(v, today));
                else if (const auto* ts = std::get_if<Timestamp>(&v)) sqlite3_bind_int64(ins, i + 2, ts->utc_ticks);
                else bind_value_static(ins, i + 2, v);
            }
            if (sqlite3_step(ins) != SQLITE_DONE) fail("insert into " + spec.name);
        }
        sqlite3_reset(ins);
        sqlite3_clear_bindings(ins);
        if (!run.collector.empty()) insert_run(run);
        exec("COMMIT");
        if (known_texts_.size() + new_texts.size() > kKnownTexts) known_texts_.clear();
        known_texts_.insert(new_texts.begin(), new_texts.end());
        if (dictionary_.size() + new_dictionary_.size() > kKnownDictionary) dictionary_.clear();
        for (auto& [k, v] : new_dictionary_) dictionary_.insert_or_assign(k, v);
        new_dictionary_.clear();
        return true;
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        new_dictionary_.clear();
        throw;
    }
}

std::int64_t SqliteStore::dictionary_id(const Value& v, std::int64_t today) {
    // The cache key: the value's kind (text or bytes, distinct in the dictionary) and its bytes.
    dictionary_key_.clear();
    if (const auto* t = std::get_if<std::string>(&v)) {
        dictionary_key_ += 't';
        dictionary_key_ += *t;
    } else if (const auto* b = std::get_if<Bytes>(&v)) {
        dictionary_key_ += 'b';
        dictionary_key_.append(reinterpret_cast<const char*>(b->data()), b->size());
    } else if (const auto* d = std::get_if<Decimal>(&v)) {
        dictionary_key_ += 't';
        dictionary_key_ += d->digits;
    } else {
        // a number or a time where a name was declared: kept as text
        std::string text;
        if (const auto* i = std::get_if<std::int64_t>(&v)) text = std::to_string(*i);
        else if (const auto* x = std::get_if<double>(&v)) text = fmt::format("{}", *x);
        else if (const auto* ts = std::get_if<Timestamp>(&v)) text = format_timestamp(*ts);
        return dictionary_id(Value{std::move(text)}, today);
    }
    // Names (short, repeated on many rows of every snapshot) are remembered; handles (44 - 64 bytes, one per
    // plan) are looked up in the store each time: the agent's memory stays small (kKnownDictionary).
    // Each entry's last_used day is set at most once a day per entry; dictionary_gc() goes by it.
    const bool remember = dictionary_key_.size() <= kRememberedBytes;
    auto stamp = [&](std::int64_t id) {
        auto* u = prepare_cached("dictionary used", "UPDATE dictionary SET last_used = ? WHERE id = ?");
        sqlite3_bind_int64(u, 1, today);
        sqlite3_bind_int64(u, 2, id);
        if (sqlite3_step(u) != SQLITE_DONE) fail("update dictionary");
        sqlite3_reset(u);
    };
    if (auto it = new_dictionary_.find(dictionary_key_); it != new_dictionary_.end()) return it->second.id;
    if (auto it = dictionary_.find(dictionary_key_); it != dictionary_.end()) {
        if (it->second.used_day == today) return it->second.id;
        stamp(it->second.id);
        new_dictionary_.emplace(dictionary_key_, Known{it->second.id, today});
        return it->second.id;
    }
    auto* q = prepare_cached("dictionary find", "SELECT id, last_used FROM dictionary WHERE value = ?");
    auto bind = [&](sqlite3_stmt* st) {
        if (dictionary_key_[0] == 't')
            sqlite3_bind_text64(st, 1, dictionary_key_.data() + 1, dictionary_key_.size() - 1, SQLITE_STATIC, SQLITE_UTF8);
        else
            sqlite3_bind_blob64(st, 1, dictionary_key_.data() + 1, dictionary_key_.size() - 1, SQLITE_STATIC);
    };
    bind(q);
    std::int64_t id = 0;
    if (sqlite3_step(q) == SQLITE_ROW) {
        id = sqlite3_column_int64(q, 0);
        const bool stale = sqlite3_column_type(q, 1) == SQLITE_NULL || sqlite3_column_int64(q, 1) != today;
        sqlite3_reset(q);
        if (stale) stamp(id);
    } else {
        sqlite3_reset(q);
        auto* ins = prepare_cached("dictionary insert", "INSERT INTO dictionary (value, last_used) VALUES (?, ?)");
        bind(ins);
        sqlite3_bind_int64(ins, 2, today);
        if (sqlite3_step(ins) != SQLITE_DONE) fail("insert into dictionary");
        id = sqlite3_last_insert_rowid(db_);
        sqlite3_reset(ins);
    }
    // Known to this transaction until it commits (a rollback takes new dictionary rows with it).
    if (remember) new_dictionary_.emplace(dictionary_key_, Known{id, today});
    return id;
}

std::int64_t SqliteStore::agent_day() const {
    if (day_override_) return *day_override_;
    const auto ticks = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count() / 100;
    return ticks / kTicksPerDay;
}

std::int64_t SqliteStore::dictionary_gc() {
    // An entry no row refers to any more: last used two days or more before the day of the oldest snapshot the
    // store still holds. Every row was written at or after its snapshot's time (a day of clock skew allowed),
    // and stamps its entries' day when written, so no remaining row can refer to such an entry.
    std::int64_t oldest_day = 0;
    {
        auto* s = prepare_cached("gc oldest", "SELECT min(collected_at) FROM snapshots");
        const bool any = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL;
        std::optional<Timestamp> oldest;
        if (any) oldest = parse_timestamp(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
        sqlite3_reset(s);
        if (!oldest) return 0;   // no snapshots: nothing is known about what rows might hold
        oldest_day = oldest->utc_ticks / kTicksPerDay;
    }
    std::int64_t deleted = 0;
    for (;;) {
        exec("BEGIN IMMEDIATE");
        try {
            auto* d = prepare_cached("gc delete", "DELETE FROM dictionary WHERE id IN (SELECT id FROM dictionary "
                                                  "WHERE last_used < ? LIMIT 2000)");
            sqlite3_bind_int64(d, 1, oldest_day - 2);
            if (sqlite3_step(d) != SQLITE_DONE) fail("clean the dictionary");
            const auto n = sqlite3_changes(db_);
            sqlite3_reset(d);
            exec("COMMIT");
            deleted += n;
            if (n < 2000) break;
        } catch (...) {
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    }
    if (deleted > 0) dictionary_.clear();   // remembered ids may be gone
    return deleted;
}

void SqliteStore::record_run(const RunRecord& run) {
    std::lock_guard lock(mu_);
    insert_run(run);
}

std::vector<RunSummary> SqliteStore::run_summaries(int recent) {
    std::lock_guard lock(mu_);
    Stmt s(db_,
           "SELECT instance, collector, started_at, duration_ms, status, coalesce(error, ''), row_count, "
           "count(*) OVER w AS runs, sum(status <> 'ok') OVER w AS failures, "
           "row_number() OVER (PARTITION BY instance, collector ORDER BY started_at DESC) AS rn "
           "FROM collector_runs WINDOW w AS (PARTITION BY instance, collector) "
           "ORDER BY instance, collector, started_at DESC");
    std::vector<RunSummary> out;
    std::vector<double> durations;
    auto finish = [&] {
        if (!out.empty()) set_percentiles(out.back(), durations);
        durations.clear();
    };
    while (sqlite3_step(s.get()) == SQLITE_ROW) {
        auto col = [&](int i) { return std::string(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), i))); };
        std::string instance = col(0), collector = col(1);
        if (sqlite3_column_int64(s.get(), 9) == 1) {
            finish();
            RunSummary r;
            r.instance = instance;
            r.collector = collector;
            r.last_started_at = col(2);
            r.last_status = col(4);
            r.last_error = col(5);
            r.last_rows = sqlite3_column_int64(s.get(), 6);
            r.runs = sqlite3_column_int64(s.get(), 7);
            r.failures = sqlite3_column_int64(s.get(), 8);
            out.push_back(std::move(r));
        }
        if (sqlite3_column_int64(s.get(), 9) <= recent) durations.push_back(sqlite3_column_double(s.get(), 3));
    }
    finish();
    return out;
}

PurgeResult SqliteStore::purge(const std::string& collector, const std::string& table, const Timestamp& cutoff,
                               int max_snapshots) {
    if (table == kXeTable) return purge_xe(collector, cutoff, max_snapshots);
    std::lock_guard lock(mu_);
    PurgeResult out;
    const std::string cut = format_timestamp(cutoff);
    exec("BEGIN IMMEDIATE");
    try {
        std::vector<std::int64_t> victims;
        {
            auto* s = prepare_cached("purge-find",
                                     "SELECT snapshot_id FROM snapshots WHERE collector = ? AND "
                                     "collected_at < ? ORDER BY collected_at LIMIT ?");
            bind_text(s, 1, collector);
            bind_text(s, 2, cut);
            sqlite3_bind_int(s, 3, max_snapshots + 1);
            while (sqlite3_step(s) == SQLITE_ROW) victims.push_back(sqlite3_column_int64(s, 0));
        }
        if (static_cast<int>(victims.size()) > max_snapshots) {
            out.more = true;
            victims.resize(static_cast<std::size_t>(max_snapshots));
        }
        const bool has_table = tables_.count(table) > 0;
        if (!has_table) throw StoreError(fmt::format("store {}: purge of {}: table is not installed", path_, table));
        for (const auto id : victims) {
            if (has_table) {
                auto* d = prepare_cached("purge-rows:" + table, fmt::format("DELETE FROM {} WHERE snapshot_id = ?",
                                                                           quote_ident(sqlite_layout::data_table(table))));
                sqlite3_bind_int64(d, 1, id);
                if (sqlite3_step(d) != SQLITE_DONE) fail("purge " + table);
                out.rows += sqlite3_changes(db_);
            }
            auto* ds = prepare_cached("purge-snapshot", "DELETE FROM snapshots WHERE snapshot_id = ?");
            sqlite3_bind_int64(ds, 1, id);
            if (sqlite3_step(ds) != SQLITE_DONE) fail("purge snapshots");
            ++out.snapshots;
        }
        out.runs = purge_runs(collector, cut, max_snapshots * 10);
        exec("COMMIT");
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
    // Once a day, when a retention pass is through: names and handles no row refers to any more.
    if (!out.more && out.snapshots > 0 && last_gc_day_ != agent_day()) {
        last_gc_day_ = agent_day();
        out.dictionary = dictionary_gc();
    }
    return out;
}

std::optional<std::string> SqliteStore::oldest_before(const std::string& collector, const std::string& table,
                                                      const Timestamp& cutoff) {
    std::lock_guard lock(mu_);
    const std::string cut = format_timestamp(cutoff);
    // The XE tables: their events by event_time (purge_xe's order); the rest: the collector's snapshots.
    auto* s = table == kXeTable
                  ? prepare_cached("oldest-xe", "SELECT MIN(event_time) FROM xe_events WHERE event_time < ?")
                  : prepare_cached("oldest", "SELECT MIN(collected_at) FROM snapshots WHERE collector = ? AND collected_at < ?");
    int i = 1;
    if (table != kXeTable) bind_text(s, i++, collector);
    bind_text(s, i, cut);
    std::optional<std::string> out;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    return out;
}

std::int64_t SqliteStore::purge_runs(const std::string& collector, const std::string& cut, int limit) {
    auto* dr = prepare_cached("purge-runs",
                              "DELETE FROM collector_runs WHERE rowid IN (SELECT rowid FROM collector_runs WHERE "
                              "collector = ? AND started_at < ? LIMIT ?)");
    bind_text(dr, 1, collector);
    bind_text(dr, 2, cut);
    sqlite3_bind_int(dr, 3, limit);
    if (sqlite3_step(dr) != SQLITE_DONE) fail("purge collector_runs");
    return sqlite3_changes(db_);
}

std::int64_t text_hash(std::string_view text) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return static_cast<std::int64_t>(h);
}

}  // namespace dmvlog::store
