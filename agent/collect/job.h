// One collector on one instance: runs the collector's batch (once per database for per-database
// collectors), checks the answer's shape, hands the snapshot to the store writer, records the run, and
// applies the behaviour of each error class:
//   transient    (connection lost, timeout, deadlock victim) -> the run fails, the next tick retries
//                 (the source reconnects with backoff);
//   permission   (229, 297, 300, ...)                        -> this collector is disabled, said once;
//   incompatible (207, 208, a missing column, too old)       -> disabled, naming the server version;
//   fatal        (anything else)                             -> the run fails and is logged; the next tick retries.
// A database that cannot be read (offline, no access) is skipped with one logged reason; the rest is kept.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "agent/collect/declaration.h"
#include "agent/collect/quarantine_gate.h"
#include "agent/collect/run_markers.h"
#include "agent/collect/run_state.h"
#include "agent/collect/source.h"
#include "agent/sched/clock.h"
#include "agent/store/writer.h"

namespace dmvlog::collect {


// A database as sql/agent/databases.sql lists it.
struct DatabaseInfo {
    std::int64_t database_id = 0;
    std::string name;
    std::string state_desc;
    std::string user_access_desc;
    bool has_access = false;
};

// Lists the databases (tag dmvlog:databases).
std::vector<DatabaseInfo> list_databases(odbc::Connection& conn);

// The databases a per-database collector visits: online user databases (id > 4) we can access, not in
// single-user mode, filtered by the instance's include/exclude lists (exact names).
std::vector<DatabaseInfo> databases_to_visit(const std::vector<DatabaseInfo>& all, const config::Instance& instance);

class CollectorJob {
public:
    // clock: the schedule's clock (for @since_ms); may be null (then the wall clock).
    CollectorJob(const CollectorDecl& decl, InstanceSource& source, store::Writer& writer, sched::Clock* clock = nullptr);

    RunResult run();
    void set_clock(sched::Clock* clock) { clock_ = clock; }
    // Answers of more rows than this reach the writer in parts of this many rows ([agent] snapshot_part_rows;
    // 0 = whole).
    void set_part_rows(std::size_t rows) { part_rows_ = rows; }
    // Where the marker of a running query is kept (null: no markers).
    void set_markers(RunMarkers* markers) { gate_.set_markers(markers); }
    // Skips this collector for `length` of schedule time from its next run on (said and recorded then).
    void quarantine(std::chrono::milliseconds length, std::string reason);
    bool quarantined() const;
    // A quarantine kept from before is over: its record is forgotten after the next run that ends normally.
    void quarantine_over();

    const CollectorDecl& decl() const { return decl_; }
    const std::string& instance() const { return source_.instance().name; }
    bool disabled() const;
    std::string disabled_reason() const;

private:
    sched::TimePoint now() const;

    const CollectorDecl& decl_;
    InstanceSource& source_;
    store::Writer& writer_;
    sched::Clock* clock_;
    std::size_t part_rows_ = config::Agent{}.snapshot_part_rows;
    mutable std::mutex mu_;
    RunState state_;
    std::optional<sched::TimePoint> last_success_;    // start of the last successful run (for @since_ms)
    std::map<std::string, std::string> skipped_dbs_;  // database -> reason already logged
    QuarantineGate gate_;
};

// The current UTC time as a Timestamp (agent clock).
Timestamp utc_now();

}  // namespace dmvlog::collect
