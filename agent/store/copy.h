// Copying a SQLite store into another store (`dmvlog store copy`, docs/stores.md): every snapshot replayed
// through Store::write (so the target's own write path, partitions and idempotency apply: a copy run twice
// lands once), then the run records, SQL text and the extended-event tables.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "agent/store/pg_store.h"
#include "agent/store/sqlite_store.h"

namespace dmvlog::store {

struct CopyResult {
    std::int64_t snapshots = 0;   // written to the target
    std::int64_t skipped = 0;     // already there
    std::int64_t rows = 0;
    std::int64_t runs = 0;
    std::int64_t xe_rows = 0;
};

// tables: the collector tables to copy (both stores must have them installed). progress (may be empty) is
// called after each collector table.
CopyResult copy_store(SqliteStore& from, Store& to, const std::vector<TableSpec>& tables,
                      const std::function<void(const std::string&)>& progress = {});

// The extended-event tables (xe_bookmarks, xe_events, blocked_process_reports, deadlocks, deadlock_processes,
// deadlock_resources, blocking_episodes) and the SQL text they refer to, row for row, into a PostgreSQL store;
// rows already there (same key) are skipped. Returns the rows copied.
std::int64_t copy_xe_tables(SqliteStore& from, PgStore& to);

}  // namespace dmvlog::store
