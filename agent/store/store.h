// The store: where snapshots are written and questions are answered from. SQLite now; PostgreSQL and
// SQL Server share this interface.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/collect/declaration.h"
#include "agent/core/value.h"

namespace dmvlog::store {

// A column of a collector table. Text columns (declared `text`, and derived slices) are stored as
// NAME_hash referencing sql_text.
struct ColumnSpec {
    std::string name;                 // the store column name (NAME or NAME_hash)
    collect::StorageClass storage;
    // SQLite keeps the value once in the dictionary table and the row its id: names and handles, which repeat
    // from row to row (docs/design.md, "Store rows"). Binary values of 8 bytes or less stay in the row.
    bool dictionary = false;
};

// A collector table: instance, collected_at, utc_offset_minutes, then the declared and derived columns.
struct TableSpec {
    std::string name;
    std::string collector;
    std::vector<ColumnSpec> columns;  // data columns only, in the order of Snapshot::rows
};

TableSpec table_spec(const collect::CollectorDecl& decl);

struct Snapshot {
    std::string instance;
    std::string collector;
    std::string table;
    Timestamp collected_at;
    int utc_offset_minutes = 0;
    std::optional<Timestamp> sqlserver_start_time;
    std::vector<Row> rows;            // each row in TableSpec::columns order
    std::vector<std::pair<std::int64_t, std::string>> texts;  // text hashes referenced by rows, with text
    // A large snapshot reaches the store in parts (collector runs of more than [agent] snapshot_part_rows
    // rows), each with the same instance, collector and collected_at: the rows of the parts before this one.
    // 0 for a whole snapshot and for a first part. A part's texts are those no earlier part carried.
    std::int64_t part_offset = 0;
};

struct RunRecord {
    std::string instance;
    std::string collector;
    Timestamp started_at;
    double duration_ms = 0;
    std::int64_t rows = 0;
    std::int64_t bytes = 0;
    std::string status;               // ok | failed | disabled
    std::string error_class;          // empty when ok
    std::string error;
};

struct RunSummary {
    std::string instance;
    std::string collector;
    std::int64_t runs = 0;
    std::int64_t failures = 0;
    std::optional<std::string> last_started_at;
    std::string last_status;
    std::string last_error;
    double p50_ms = 0;
    double p95_ms = 0;
    std::int64_t last_rows = 0;
};

struct PurgeResult {
    std::int64_t snapshots = 0;
    std::int64_t rows = 0;
    std::int64_t runs = 0;
    bool more = false;   // more snapshots older than the cutoff remain
    std::int64_t dictionary = 0;   // SQLite: names and handles deleted that no row referred to any more
};

class Store {
public:
    virtual ~Store() = default;
    // Creates or migrates the core schema and the given collector tables.
    virtual void install(const std::vector<TableSpec>& tables) = 0;
    // Writes one snapshot and its run record in one transaction. Idempotent: a snapshot already present
    // (same instance, collector, collected_at) is not written again; returns false in that case. A run with
    // an empty collector records no run (a copy between stores brings the run records of its own; the parts
    // of a snapshot before its last carry none).
    // A part (part_offset > 0) adds its rows to the snapshot when the snapshots row counts at most
    // part_offset rows (fewer: an earlier part was lost), and sets that count to part_offset + its rows; when
    // it counts more, the part was written before (false). With no earlier part there at all, the snapshots
    // row is made with that count.
    virtual bool write(const Snapshot& snapshot, const RunRecord& run) = 0;
    // Records a run that produced no snapshot (failure, disabled).
    virtual void record_run(const RunRecord& run) = 0;
    // Per (instance, collector): runs, failures, last run, p50/p95 duration over the last `recent` runs.
    virtual std::vector<RunSummary> run_summaries(int recent = 100) = 0;
    virtual int schema_version() = 0;
    // Deletes at most max_snapshots snapshots of the collector older than cutoff (their rows in table, their
    // snapshots row) and that collector's run records older than cutoff. Returns the data rows deleted; a
    // caller repeats while it returns rows, so that no single transaction holds the store for long.
    virtual PurgeResult purge(const std::string& collector, const std::string& table, const Timestamp& cutoff,
                              int max_snapshots) = 0;
    // Retention that falls behind: the time of the collector's oldest data older than cutoff, as stored
    // ("YYYY-MM-DD HH:MM:SS.fffffff" UTC), or nullopt when there is none. Data as purge() sees it: snapshots
    // by collected_at; for the XE table, events by event_time.
    virtual std::optional<std::string> oldest_before(const std::string& collector, const std::string& table,
                                                     const Timestamp& cutoff) = 0;
};

// 64-bit FNV-1a of the UTF-8 text, as a signed integer (the sql_text key).
std::int64_t text_hash(std::string_view text);

}  // namespace dmvlog::store
