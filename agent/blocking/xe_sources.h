// Which source the XE collectors read (docs/xe.md, "Fallbacks"). dmvlog's own event session ([xe] session)
// is the source while it exists; while it is not running, the collectors declared `fallback = true` read
// instead: the ring_buffer of [xe] ring_buffer_session (blocking_events_ring_buffer) and system_health's event
// files (deadlocks_system_health). Each run starts by asking the server which sessions exist and run
// (sql/agent/xe_status.sql); `dmvlog check` shows the same decision.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/collect/declaration.h"
#include "agent/config/config.h"
#include "agent/odbc/result.h"

namespace dmvlog::odbc {
class Connection;
}

namespace dmvlog::blocking {

// What sql/agent/xe_status.sql returns.
struct SessionStatus {
    std::optional<std::int64_t> threshold_s;   // 'blocked process threshold (s)' in use
    std::vector<std::string> defined;          // sys.server_event_sessions
    std::vector<std::string> running;          // sys.dm_xe_sessions
    bool is_defined(const std::string& name) const;
    bool is_running(const std::string& name) const;
};

// From xe_status.sql's three result sets.
SessionStatus session_status_from(const std::vector<odbc::ResultSet>& sets);
// Runs xe_status.sql (tag dmvlog:xe_status) on conn.
SessionStatus read_session_status(odbc::Connection& conn, std::chrono::seconds timeout);

// The event session an XE collector reads: its declared xe_session, else [xe] session (xe_file) or
// [xe] ring_buffer_session (xe_ring_buffer).
std::string session_of(const collect::CollectorDecl& decl, const config::Xe& xe);

struct SourceDecision {
    bool read = false;
    // "source: ..." when it reads, "idle: ..." when it does not (said in the run record and by `dmvlog check`).
    std::string note;
};

// dmvlog's session (not a fallback): read while the session is defined (its files are read even while it is
// stopped). A fallback: read while dmvlog's session is not running; a ring buffer only while its session runs.
SourceDecision decide_source(const collect::CollectorDecl& decl, const config::Xe& xe, const SessionStatus& status);

}  // namespace dmvlog::blocking
