// Blocked-process and deadlock events, from whatever wraps them:
//   - a bare <blocked-process-report>, a bare <deadlock> or <deadlock-list><deadlock>..</deadlock-list>;
//   - an <event name="blocked_process_report" | "xml_deadlock_report" timestamp=".."> as read from an
//     event_file (sys.fn_xe_file_target_read_file's event_data) or inside a ring_buffer target;
//   - a <RingBufferTarget> (sys.dm_xe_session_targets.target_data) holding many events;
//   - any number of these documents one after another (a file of event_data rows, say).
//
// Bad input never throws: an event whose XML is malformed or truncated comes back with `error` set (what and
// where) and its raw XML kept, with whatever could be read before the error.
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "agent/core/value.h"
#include "agent/xe/bpr.h"
#include "agent/xe/deadlock.h"

namespace dmvlog::xe {

enum class EventType {
    blocked_process_report,
    xml_deadlock_report,
    other,  // unrecognised: only ever returned with an error (the reader skips other named events)
};

std::string_view to_string(EventType type);  // "blocked_process_report", "xml_deadlock_report", "other"

struct ParseError {
    std::string what;             // "Start-end tags mismatch", "Unexpected end of data", "no <process> ..."
    std::uint64_t offset = 0;     // byte offset of the error within raw_xml
    std::string describe() const; // "Start-end tags mismatch at byte 1234 of the event"
    friend bool operator==(const ParseError&, const ParseError&) = default;
};

// One field of the event envelope: <data name=".."><value>..</value><text>..</text></data> (or <action>).
struct DataField {
    std::string value;
    std::optional<std::string> text;
    friend bool operator==(const DataField&, const DataField&) = default;
};

struct Event {
    EventType type = EventType::other;
    std::string name;                        // the event's name ("" when it could not be told)
    std::optional<Timestamp> timestamp;      // the envelope's timestamp attribute (UTC); nullopt for a bare report
    std::uint64_t input_offset = 0;          // byte offset of the event's XML in the input
    std::optional<ParseError> error;         // set when the XML was malformed, truncated or not a report
    std::string raw_xml;                     // kept when error is set, or always with ParseOptions::keep_raw
    std::map<std::string, DataField, std::less<>> data;     // the envelope's non-XML <data> fields
    std::map<std::string, DataField, std::less<>> actions;  // the envelope's <action> fields
    std::variant<BlockedProcessReport, DeadlockReport> report;

    bool ok() const { return !error; }
    const BlockedProcessReport* blocked_process_report() const { return std::get_if<BlockedProcessReport>(&report); }
    const DeadlockReport* deadlock_report() const { return std::get_if<DeadlockReport>(&report); }
};

struct ParseOptions {
    bool keep_raw = false;                             // keep raw_xml for well-formed events too
    std::size_t max_event_bytes = 64u * 1024 * 1024;   // a larger event is cut there and reported as an error
    std::size_t read_chunk_bytes = 1u << 20;            // EventReader(istream&): bytes read at a time
};

// One document holding one event: a bare report or an <event> (an event_data value). Anything else comes
// back with an error (type other).
Event parse_event(std::string_view xml, const ParseOptions& options = {});

// Every blocked_process_report and xml_deadlock_report in text (any mix of the documents above).
std::vector<Event> parse_all(std::string_view text, const ParseOptions& options = {});

struct ReaderStats {
    std::uint64_t events = 0;         // returned by next()
    std::uint64_t parse_errors = 0;   // of which with an error
    std::uint64_t skipped = 0;        // other events passed over (error_reported, wait_info, ...)
    std::uint64_t bytes = 0;          // input bytes consumed so far
};

// Streams events out of a sequence of documents without building one tree of the whole input: the input is
// split into events by a light scan of the markup and each event is parsed on its own, so memory stays in
// proportion to the largest event, not the input. UTF-8 (with or without BOM) and UTF-16 with a BOM are read.
class EventReader {
public:
    explicit EventReader(std::istream& in, ParseOptions options = {});
    explicit EventReader(std::string_view text, ParseOptions options = {});  // text must outlive the reader
    ~EventReader();
    EventReader(const EventReader&) = delete;
    EventReader& operator=(const EventReader&) = delete;

    // The next event; false at the end of the input. Never throws for bad input (I/O errors of the stream
    // end the input).
    bool next(Event& out);
    const ReaderStats& stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dmvlog::xe
