// What the blocking_events collector (agent/blocking/xe_job.h) needs from a store: the bookmark of an
// event session, and one transaction that writes the events read after it, the rows parsed out of them,
// the new bookmark, the run record, and the rebuilt blocking episodes (docs/xe.md, "Collection").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/value.h"
#include "agent/store/store.h"
#include "agent/xe/envelope.h"

namespace dmvlog::store {

// Where reading an event session's files stopped: both set, or both empty (read from the start).
struct XeBookmark {
    std::optional<std::string> file_name;
    std::optional<std::int64_t> file_offset;
    std::int64_t events_read = 0;
    bool operator==(const XeBookmark&) const = default;
};

// One event as read (one row of sys.fn_xe_file_target_read_file), with its parse.
struct XeEventRow {
    std::string object_name;     // the event's name as the server reported it
    std::string raw_xml;         // event_data, verbatim
    std::string file_name;
    std::int64_t file_offset = 0;
    xe::Event event;             // parse_event(raw_xml); event.error set when malformed
};

struct XeBatch {
    std::string instance;
    std::string source;                  // the event session's name
    Timestamp collected_at;              // the run's clock (UTC)
    std::vector<XeEventRow> events;
    XeBookmark bookmark;                 // the new bookmark (unchanged when nothing was read)
};

struct XeWriteResult {
    std::int64_t events_new = 0;         // events not already in the store
    std::int64_t events_duplicate = 0;   // events already stored (a re-read): skipped
    std::int64_t parse_errors = 0;       // new events stored raw with a parse error
    std::int64_t reports = 0;            // blocked_process_reports rows written
    std::int64_t deadlocks = 0;
    std::int64_t episodes = 0;           // blocking_episodes rows (re)written
};

class XeStore {
public:
    virtual ~XeStore() = default;
    // The bookmark of (instance, source); empty (both unset) when none was stored.
    virtual XeBookmark read_xe_bookmark(const std::string& instance, const std::string& source) = 0;
    // Everything of one run in one transaction (all or nothing): xe_events (deduplicated by content
    // hash), the report tables, sql_text, the bookmark, the run record, then the episodes of the affected
    // time range. Throws StoreError on failure (nothing is written then).
    virtual XeWriteResult write_xe(const XeBatch& batch, const RunRecord& run) = 0;
};

// The key xe_events are deduplicated by: 64-bit FNV-1a of the event's XML (store::text_hash).
std::int64_t xe_content_hash(std::string_view raw_xml);

}  // namespace dmvlog::store
