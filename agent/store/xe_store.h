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

// Where reading an event session stopped. An event_file source: (file_name, file_offset) both set, or both
// empty (read from the start). A ring_buffer source: the newest event time read and the content hashes of the
// events at that time (events sharing it may come in a later read), or unset (take every event).
struct XeBookmark {
    std::optional<std::string> file_name;
    std::optional<std::int64_t> file_offset;
    std::optional<std::int64_t> event_ticks;   // UTC ticks (100 ns since 1970)
    std::vector<std::int64_t> event_hashes;    // xe_content_hash of the events at event_ticks
    std::int64_t events_read = 0;
    std::int64_t possible_losses = 0;          // reads that found the buffer already past the bookmark
    bool operator==(const XeBookmark&) const = default;
};

// One event as read (a row of sys.fn_xe_file_target_read_file, or an <event> of a ring buffer), with its parse.
struct XeEventRow {
    std::string object_name;     // the event's name as the server reported it
    std::string raw_xml;         // event_data (or the ring buffer's <event> element), verbatim
    std::string file_name;       // "" for a ring buffer (stored NULL)
    std::int64_t file_offset = 0;
    xe::Event event;             // parse_event(raw_xml); event.error set when malformed
};

struct XeBatch {
    std::string instance;
    std::string source;                  // the event session's name (the bookmark's key)
    Timestamp collected_at;              // the run's clock (UTC)
    int utc_offset_minutes = 0;          // the server's offset at the run: times inside reports are its local time
    std::vector<XeEventRow> events;
    XeBookmark bookmark;                 // the new bookmark (unchanged when nothing was read)
    std::int64_t possible_losses = 0;    // added to the bookmark's count
};

struct XeWriteResult {
    std::int64_t events_new = 0;         // events not already in the store
    std::int64_t events_duplicate = 0;   // events already stored (a re-read, or the same report or deadlock
                                         // from another source): skipped
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
    // Retention: deletes, in one short transaction, up to max_events events with their parsed rows (by
    // event_time; collected_at for an event without one) and episodes (by end_time) older than cutoff, and the
    // run records of collector older than cutoff. Bookmarks are never deleted. more: call again.
    virtual PurgeResult purge_xe(const std::string& collector, const Timestamp& cutoff, int max_events) = 0;
};

// The times inside reports (lasttranstarted) are the server's local time, written without a zone: the store
// keeps them in UTC ("YYYY-MM-DD HH:MM:SS.fffffff"), shifted by the server's offset at the run. SQL Server's
// zero date (1900-01-01: no transaction) is no time (nullopt); text that is not a time is kept as written.
std::optional<std::string> report_time_utc(const std::optional<std::string>& local, int utc_offset_minutes);

// Same events, other source: a blocked-process report is identified by (event time, monitorLoop, blocked spid
// and ecid), a deadlock by (event time, victim process ids); write_xe stores each once across sources.

// The table XE collectors declare; purging it (Store::purge) purges every XE table (XeStore::purge_xe).
inline constexpr std::string_view kXeTable = "xe_events";

// The key xe_events are deduplicated by: 64-bit FNV-1a of the event's XML (store::text_hash).
std::int64_t xe_content_hash(std::string_view raw_xml);

}  // namespace dmvlog::store
