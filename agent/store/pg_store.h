// The central store on PostgreSQL (docs/stores.md): the same tables and columns as the SQLite store, so that
// `dmvlog query` and `dmvlog digest` give the same answers from both. Collector tables are partitioned by day
// on collected_at (native declarative partitioning): retention drops whole partitions instead of deleting rows.
// Rows go in with COPY; a snapshot is written once (snapshots has a unique key, and the rows follow only a new
// snapshot row, in one transaction). instance is part of every key, so many agents share one database.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>

#include "agent/store/sqlite_store.h"   // StoreError
#include "agent/store/store.h"
#include "agent/store/xe_store.h"

struct pg_conn;

namespace dmvlog::store {

class PgStore final : public Store, public XeStore {
public:
    // Connects (libpq conninfo, the password separately). Throws StoreError with the server's message.
    explicit PgStore(const std::string& conninfo, const std::string& password = "");
    ~PgStore() override;
    PgStore(const PgStore&) = delete;
    PgStore& operator=(const PgStore&) = delete;

    void install(const std::vector<TableSpec>& tables) override;
    bool write(const Snapshot& snapshot, const RunRecord& run) override;
    void record_run(const RunRecord& run) override;
    std::vector<RunSummary> run_summaries(int recent = 100) override;
    int schema_version() override;
    // Drops the day partitions of the table that end at or before the cutoff's day, deletes the snapshot
    // rows and run records older than the cutoff (at most max_snapshots snapshots per call), and deletes the
    // table's rows older than the cutoff in the partition that holds it.
    PurgeResult purge(const std::string& collector, const std::string& table, const Timestamp& cutoff,
                      int max_snapshots) override;
    std::optional<std::string> oldest_before(const std::string& collector, const std::string& table,
                                             const Timestamp& cutoff) override;

    // The blocking_events collectors' writes (agent/store/xe_store.h), as in the SQLite store (pg_xe.cpp).
    XeBookmark read_xe_bookmark(const std::string& instance, const std::string& source) override;
    XeWriteResult write_xe(const XeBatch& batch, const RunRecord& run) override;
    PurgeResult purge_xe(const std::string& collector, const Timestamp& cutoff, int max_events) override;

    // The DDL install() runs for these tables (core migrations, then the collector tables), for review.
    static std::string ddl(const std::vector<TableSpec>& tables);

    pg_conn* handle() { return conn_; }

private:
    void exec(const std::string& sql);
    void ensure_connected();                         // reconnects a connection the server dropped
    void ensure_partition(const std::string& table, const std::string& day);   // day: "YYYY-MM-DD"
    void apply_after_tables();   // views over collector tables, at the end of install()
    void insert_run(const RunRecord& run);
    std::string literal(std::string_view text);      // PQescapeLiteral
    void drain();                                    // reads the rest of a query's results
    std::int64_t rebuild_episodes(const std::string& instance, std::int64_t earliest_ticks);
    PurgeResult purge_xe_locked(const std::string& collector, const Timestamp& cutoff, int max_events);
    std::int64_t purge_runs(const std::string& collector, const std::string& cutoff, int limit);

    // SQL text hashes this connection has committed to sql_text: not sent again (nothing deletes from
    // sql_text). Bounded: forgotten all at once when full.
    static constexpr std::size_t kKnownTexts = 20000;

    pg_conn* conn_ = nullptr;
    std::string where_;                              // host/dbname for messages (never the password)
    std::mutex mu_;
    std::map<std::string, TableSpec> tables_;
    std::set<std::string> partitions_;               // "table/YYYY-MM-DD" known to exist
    std::unordered_set<std::int64_t> known_texts_;
    bool prepared_ = false;                          // dmvlog_write_snapshot prepared on this connection
};

}  // namespace dmvlog::store
