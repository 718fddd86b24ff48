// The rows one extended event becomes in a store (tables of schema/*/003_blocking.sql), as values in column
// order, shared by every store that implements XeStore so that each only binds and inserts them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/blocking/episodes.h"
#include "agent/core/value.h"
#include "agent/xe/envelope.h"

namespace dmvlog::store::xe_rows {

// SQL text an event refers to (input buffers): hash and text, to be stored once in sql_text.
using Texts = std::vector<std::pair<std::int64_t, std::string>>;

// Columns of each table, in the order of the values below. The parsed tables' first column is event_id,
// which the store supplies: the value lists start with the second column.
extern const std::vector<std::string_view> kEventColumns;       // xe_events without event_id
extern const std::vector<std::string_view> kReportColumns;      // blocked_process_reports
extern const std::vector<std::string_view> kDeadlockColumns;    // deadlocks
extern const std::vector<std::string_view> kProcessColumns;     // deadlock_processes
extern const std::vector<std::string_view> kResourceColumns;    // deadlock_resources
extern const std::vector<std::string_view> kEpisodeColumns;     // blocking_episodes (no event_id)
// The columns of blocked_process_reports that episodes are rebuilt from, in ReportRow order.
extern const std::vector<std::string_view> kEpisodeInputColumns;

std::optional<std::string> event_time_text(const xe::Event& ev);

Row event(const std::string& instance, const std::string& source, const std::string& object_name,
          const std::string& raw_xml, const std::string& file_name, std::int64_t file_offset, const xe::Event& ev,
          const std::string& collected_at);
// The report's row; its input buffers are added to texts. utc_offset_minutes: the server's, for lasttranstarted.
Row report(const std::string& instance, const std::optional<std::string>& event_time, const xe::BlockedProcessReport& r,
           int utc_offset_minutes, Texts& texts);
Row deadlock(const std::string& instance, const std::optional<std::string>& event_time, const xe::DeadlockReport& d);
std::vector<Row> processes(const std::string& instance, const std::optional<std::string>& event_time,
                           const xe::DeadlockReport& d, Texts& texts);
std::vector<Row> resources(const std::string& instance, const std::optional<std::string>& event_time,
                           const xe::DeadlockReport& d);
Row episode(const std::string& instance, const blocking::Episode& ep, std::int64_t live_snapshots);

// The key that finds the same deadlock read from another source: its victims' process ids, comma separated.
std::string deadlock_victims(const xe::DeadlockReport& d);

// A row of kEpisodeInputColumns (as text or NULL per column) back into a ReportRow; nullopt without a time.
std::optional<blocking::ReportRow> report_row(const std::vector<std::optional<std::string>>& columns);

// "c1, c2, ..." of columns.
std::string column_list(const std::vector<std::string_view>& columns);

// Comma-separated integers (a ring buffer bookmark's event hashes) and back.
std::string join_ints(const std::vector<std::int64_t>& v);
std::vector<std::int64_t> split_ints(std::string_view text);

// "INSERT INTO table (c1, ...) VALUES (p(1), ...)" where p(i) is the store's parameter marker.
template <class Marker>
std::string insert_sql(std::string_view verb, std::string_view table, bool with_event_id,
                       const std::vector<std::string_view>& columns, Marker marker) {
    std::string cols = with_event_id ? "event_id" : "", vals = with_event_id ? marker(1) : "";
    int i = with_event_id ? 1 : 0;
    for (auto c : columns) {
        if (!cols.empty()) cols += ", ", vals += ", ";
        cols += c;
        vals += marker(++i);
    }
    return std::string(verb) + " INTO " + std::string(table) + " (" + cols + ") VALUES (" + vals + ")";
}

}  // namespace dmvlog::store::xe_rows
