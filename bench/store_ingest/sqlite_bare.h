// The SQLite baseline: a bare prepared-insert loop through the C library, one transaction per snapshot, into a
// table of the same shape (the store's own DDL), with the store's pragmas (WAL, synchronous=NORMAL).
#pragma once

#include <string>

#include "bench/store_ingest/workload.h"

namespace dmvlog::bench {

// Inserts every row of the workload's snapshots into spec().name of the database at path (already
// installed). Returns the rows inserted.
std::int64_t sqlite_bare_insert(const std::string& path, Workload& w);

}  // namespace dmvlog::bench
