// An XE collector on one instance (a declaration of kind "xe_file" or "xe_ring_buffer"): asks the server which
// event sessions exist (agent/blocking/xe_sources.h), and when its source is in use reads the events after its
// bookmark, parses them, and writes events, parsed rows, the new bookmark and the run record in one store
// transaction, then the rebuilt blocking episodes (docs/xe.md, "Collection" and "Fallbacks"). When its source
// is not in use the run is recorded as ok with the reason ("idle: ..."). Error behaviour as CollectorJob:
// permission and incompatible disable it (said once); transient and other errors fail the run and the next
// tick retries from the same bookmark.
#pragma once

#include "agent/collect/run_state.h"

#include <mutex>
#include <string>

#include "agent/blocking/xe_sources.h"
#include "agent/collect/declaration.h"
#include "agent/collect/quarantine_gate.h"
#include "agent/collect/job.h"
#include "agent/collect/source.h"
#include "agent/config/config.h"
#include "agent/store/writer.h"
#include "agent/store/xe_store.h"

namespace dmvlog::blocking {

// The path fn_xe_file_target_read_file reads for the session's event_file target: the configured file name
// with '*' before ".xel" (SQL Server names the files <name>_0_<number>.xel).
std::string read_path(const std::string& configured_path);

// Rows of a TOP-capped answer that share the last file_offset may be only part of that buffer (the next read
// starts after the offset), so they are left for the next run unless every row shares that offset. Returns
// how many leading rows to keep. offsets: (file_name, file_offset) of each row in order.
std::size_t rows_to_keep(const std::vector<std::pair<std::string, std::int64_t>>& offsets, long long top_rows);

class XeJob {
public:
    // writer: for run records of idle, failed and disabled runs (reading runs are written with the events).
    XeJob(const collect::CollectorDecl& decl, const config::Xe& xe, collect::InstanceSource& source,
          store::XeStore& store, store::Writer& writer);

    collect::RunResult run();

    const collect::CollectorDecl& decl() const { return decl_; }
    const std::string& instance() const { return source_.instance().name; }
    bool disabled() const;

    // Quarantine after an agent died while this job's query ran (collect/quarantine_gate.h), as for collector jobs.
    void set_markers(collect::RunMarkers* markers) { gate_.set_markers(markers); }
    void set_clock(sched::Clock* clock) { clock_ = clock; }
    void quarantine(std::chrono::milliseconds length, std::string reason) { gate_.quarantine(length, std::move(reason)); }
    void quarantine_over() { gate_.quarantine_over(); }
    bool quarantined() const { return gate_.quarantined(); }

private:
    // Reads the source into out (events and bookmark); returns notes for the run record.
    std::string read_event_file(collect::InstanceSource::Lease& lease, const std::string& batch, std::chrono::seconds timeout,
                                store::XeBatch& out, std::int64_t& bytes);
    std::string read_ring_buffer(collect::InstanceSource::Lease& lease, const std::string& batch, std::chrono::seconds timeout,
                                 store::XeBatch& out, std::int64_t& bytes);
    std::vector<Value> bound_values(const store::XeBookmark& bookmark) const;
    void note_decision(const SourceDecision& d);

    const collect::CollectorDecl& decl_;
    config::Xe xe_;
    std::string session_;
    collect::InstanceSource& source_;
    store::XeStore& store_;
    store::Writer& writer_;
    mutable std::mutex mu_;
    collect::RunState state_;
    bool rollover_logged_ = false;
    std::string last_decision_;
    sched::Clock* clock_ = nullptr;
    collect::QuarantineGate gate_;
};

}  // namespace dmvlog::blocking
