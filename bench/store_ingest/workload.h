// Generated snapshots in the shapes of real collectors (the TableSpecs of collect::load_builtin()), for the
// store ingest benchmark: every declared column filled by its storage class, with text hashes that reference
// SQL text carried in the snapshot (as the agent's SnapshotBuilder does), handles and hashes as blobs, times,
// decimals, NULLs, and now and then a tab, newline or backslash in a text value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/store/store.h"

namespace dmvlog::bench {

struct Shape {
    std::string collector;        // e.g. "query_stats"
    int rows_per_snapshot = 0;
    std::int64_t interval_ticks = 0;
    int snapshots = 0;            // snapshots written per timed run
};

// The snapshots of one shape. A few distinct snapshot bodies are generated and written again with later
// collected_at values, so memory stays small whatever the number of snapshots.
class Workload {
public:
    Workload(const store::TableSpec& spec, const Shape& shape, std::int64_t start_ticks, std::uint64_t seed);

    const store::TableSpec& spec() const { return spec_; }
    const Shape& shape() const { return shape_; }
    std::int64_t rows() const { return static_cast<std::int64_t>(shape_.rows_per_snapshot) * shape_.snapshots; }
    // Snapshot k (0 <= k < shape().snapshots): one of the bodies, stamped with its own collected_at.
    const store::Snapshot& snapshot(int k);
    store::RunRecord run_record(const store::Snapshot& s) const;
    // First and last day ("YYYY-MM-DD") the snapshots fall on.
    std::vector<std::string> days() const;

private:
    store::TableSpec spec_;
    Shape shape_;
    std::int64_t start_;
    std::vector<store::Snapshot> bodies_;
};

// The built-in collectors' table specs by collector name.
store::TableSpec builtin_spec(const std::string& collector);

}  // namespace dmvlog::bench
