// A <process> of a blocked-process report or a deadlock graph: its attributes (every one kept in
// `attributes`, the common ones also typed), its execution stack and its input buffer.
#pragma once

#include <cstdint>
#include <utility>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/xe/wait_resource.h"

namespace dmvlog::xe {

using Attributes = std::vector<std::pair<std::string, std::string>>;

inline const std::string* find_attribute(const Attributes& list, std::string_view name) {
    for (const auto& [k, v] : list)
        if (k == name) return &v;
    return nullptr;
}

// <frame procname=".." queryhash=".." queryplanhash=".." line=".." stmtstart=".." stmtend=".." sqlhandle="..">text</frame>
// Absent attributes are nullopt. stmtstart/stmtend are byte offsets into the batch text (UTF-16), as SQL
// Server writes them; stmtend is absent for "to the end".
struct Frame {
    std::optional<std::int64_t> line;
    std::optional<std::int64_t> stmt_start;
    std::optional<std::int64_t> stmt_end;
    std::optional<std::string> sql_handle;       // "0x0200..."
    std::optional<std::string> proc_name;        // deadlock graphs: "adhoc", "Sales.dbo.usp_Order", "unknown"
    std::optional<std::string> query_hash;       // SQL Server 2019+ (deadlock graphs and some reports)
    std::optional<std::string> query_plan_hash;
    std::optional<std::string> text;             // the frame's element text (deadlock graphs), trimmed at the ends
    friend bool operator==(const Frame&, const Frame&) = default;
};

struct Process {
    // Every attribute as written (XML escapes resolved): (name, value) in document order. A flat list rather
    // than a tree map: some 30 short entries, looked up with attribute(name).
    Attributes attributes;

    // Typed views of the common attributes (nullopt when absent, or for a number that is not a number).
    std::optional<std::string> id;                 // deadlock graphs and long-form reports: "process2d3c4e8c8"
    std::optional<std::int64_t> spid;
    std::optional<std::int64_t> sbid;
    std::optional<std::int64_t> ecid;              // > 0: a parallel worker of spid
    std::optional<std::string> status;             // suspended, sleeping, running, runnable, background
    std::optional<WaitResource> wait_resource;     // waitresource, decoded (raw text kept in ->raw)
    std::optional<std::int64_t> wait_time_ms;      // waittime
    std::optional<std::string> lock_mode;          // lockMode
    std::optional<std::string> transaction_name;   // transactionname
    std::optional<std::string> last_tran_started;  // lasttranstarted: the server's local time, as written
    std::optional<std::string> last_batch_started;
    std::optional<std::string> last_batch_completed;
    std::optional<std::string> isolation_level;    // "read committed (2)"
    std::optional<std::int64_t> trancount;
    std::optional<std::string> client_app;         // clientapp
    std::optional<std::string> host_name;          // hostname
    std::optional<std::int64_t> host_pid;          // hostpid
    std::optional<std::string> login_name;         // loginname
    std::optional<std::int64_t> database_id;       // currentdb
    std::optional<std::string> database_name;      // currentdbname
    std::optional<std::string> xdes;               // XDES
    std::optional<std::int64_t> owner_id;          // ownerId
    std::optional<std::int64_t> xact_id;           // xactid
    std::optional<std::int64_t> priority;
    std::optional<std::int64_t> task_priority;     // taskpriority (deadlock priority)
    std::optional<std::int64_t> log_used;          // logused
    std::optional<std::int64_t> scheduler_id;      // schedulerid
    std::optional<std::int64_t> kpid;
    std::optional<std::int64_t> lock_timeout;      // lockTimeout

    std::vector<Frame> frames;                     // <executionStack>, innermost first, as written
    std::optional<std::string> input_buffer;       // <inputbuf>, trimmed at the ends only

    // True when the process waits on a lock (a non-blank waitresource).
    bool waiting() const { return wait_resource && wait_resource->kind != WaitResourceKind::none; }

    // The value of any attribute, or nullptr.
    const std::string* attribute(std::string_view name) const { return find_attribute(attributes, name); }
};

}  // namespace dmvlog::xe
