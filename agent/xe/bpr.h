// The blocked_process_report event: one blocked task and the process blocking it, as of one pass of the
// deadlock monitor (monitorLoop).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "agent/xe/process.h"

namespace dmvlog::xe {

struct BlockedProcessReport {
    std::optional<std::int64_t> monitor_loop;      // <blocked-process-report monitorLoop="..">

    // From the event's <data> fields (nullopt for a bare report).
    std::optional<std::int64_t> duration_us;       // duration: how long the task has been blocked (microseconds)
    std::optional<std::int64_t> database_id;
    std::optional<std::string> database_name;
    std::optional<std::int64_t> object_id;
    std::optional<std::int64_t> index_id;
    std::optional<std::string> lock_mode;          // lock_mode's <text> ("U"), else its <value>
    std::optional<std::int64_t> transaction_id;

    Process blocked;                               // <blocked-process><process>
    Process blocking;                              // <blocking-process><process>

    // The head-blocker rule: the blocking process is a head blocker when it does not itself wait on a lock
    // (no or a blank waitresource: SQL Server writes the short form, without waitresource, for a process that
    // has no waiting task, typically a 'sleeping' session with an open transaction). A blocker that waits is
    // a link in a chain; the report in the same monitorLoop where it is the blocked process names the next one.
    // False when the report had no <blocking-process><process> at all.
    bool has_blocking = false;
    bool head_blocker() const { return has_blocking && !blocking.waiting(); }
};

}  // namespace dmvlog::xe
