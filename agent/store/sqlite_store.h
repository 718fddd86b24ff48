// The embedded default store: one SQLite file in WAL mode, written by one writer.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "agent/store/store.h"
#include "agent/store/xe_store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace dmvlog::store {

class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Binds a value to parameter i (1-based) of a SQLite statement (the value is copied).
void bind_value(sqlite3_stmt* s, int i, const Value& v);

class SqliteStore final : public Store, public XeStore {
public:
    // Opens (creating if needed) the database file; the folder must exist or be creatable.
    SqliteStore(const std::string& path, std::chrono::milliseconds busy_timeout = std::chrono::milliseconds(5000),
                bool read_only = false);
    ~SqliteStore() override;
    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;

    void install(const std::vector<TableSpec>& tables) override;
    bool write(const Snapshot& snapshot, const RunRecord& run) override;
    void record_run(const RunRecord& run) override;
    std::vector<RunSummary> run_summaries(int recent = 100) override;
    int schema_version() override;
    PurgeResult purge(const std::string& collector, const std::string& table, const Timestamp& cutoff,
                      int max_snapshots) override;
    std::optional<std::string> oldest_before(const std::string& collector, const std::string& table,
                                             const Timestamp& cutoff) override;

    // The XE collectors (agent/store/sqlite_xe.cpp). purge() of table "xe_events" (their declared table) is
    // purge_xe().
    XeBookmark read_xe_bookmark(const std::string& instance, const std::string& source) override;
    XeWriteResult write_xe(const XeBatch& batch, const RunRecord& run) override;
    PurgeResult purge_xe(const std::string& collector, const Timestamp& cutoff, int max_events) override;

    // The DDL install() runs for these tables (core migrations first), for `dmvlog schema print`.
    static std::string ddl(const std::vector<TableSpec>& tables);

    sqlite3* handle() { return db_; }
    // Tests: the agent's day (days since 1970-01-01 UTC) as the dictionary stamps it.
    void set_day_for_test(std::int64_t day) { day_override_ = day; }
    const std::string& path() const { return path_; }

private:
    class Stmt;
    void exec(const std::string& sql);
    sqlite3_stmt* prepare_cached(const std::string& key, const std::string& sql);
    void insert_run(const RunRecord& run);
    // Deletes up to limit run records of the collector started before cut (store text), inside the caller's
    // transaction; returns how many.
    std::int64_t purge_runs(const std::string& collector, const std::string& cut, int limit);
    [[noreturn]] void fail(const std::string& what);
    std::int64_t rebuild_episodes(const std::string& instance, std::int64_t earliest_ticks);

    std::string path_;
    sqlite3* db_ = nullptr;
    std::mutex mu_;
    std::map<std::string, sqlite3_stmt*> cache_;
    std::map<std::string, TableSpec> tables_;
    // SQL text hashes this connection has committed to sql_text: not inserted again (nothing deletes from
    // sql_text). Bounded: forgotten all at once when full.
    static constexpr std::size_t kKnownTexts = 20000;
    std::unordered_set<std::int64_t> known_texts_;
    // Dictionary ids (names and handles, sqlite_layout.h) this connection has committed, by kind and bytes;
    // bounded like known_texts_. new_dictionary_: found or added by the transaction in progress.
    // today: the agent_day() the write stamps its entries with.
    std::int64_t dictionary_id(const Value& v, std::int64_t today);
    static constexpr std::size_t kKnownDictionary = 4096;
    static constexpr std::size_t kRememberedBytes = 40;     // values longer than this are not remembered
    struct Known {
        std::int64_t id;
        std::int64_t used_day;   // the last_used day this connection set (or found)
    };
    std::unordered_map<std::string, Known> dictionary_;
    std::unordered_map<std::string, Known> new_dictionary_;
    std::string dictionary_key_;
    // Deletes the dictionary entries no row can refer to any more (in batches); returns how many.
    std::int64_t dictionary_gc();
    // Days since 1970-01-01 of the agent's clock (UTC), or the day set for a test.
    std::int64_t agent_day() const;
    std::optional<std::int64_t> day_override_;
    std::int64_t last_gc_day_ = -1;
};

}  // namespace dmvlog::store
