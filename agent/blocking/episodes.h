// Blocking episodes from blocked-process reports. Reports of one deadlock-monitor pass (monitorLoop)
// describe one moment: they are linked into chains (blocked -> blocking), each chain's head blocker is the
// blocker that is not itself blocked in that pass, and consecutive passes with the same head blocker (same
// session and transaction) are merged into one episode.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/value.h"

namespace dmvlog::blocking {

// One blocked-process report, as the store keeps it.
struct ReportRow {
    Timestamp event_time;
    std::optional<std::int64_t> monitor_loop;
    std::int64_t blocked_spid = 0;
    std::int64_t blocked_wait_ms = 0;
    std::string wait_resource;
    std::int64_t blocking_spid = 0;
    std::string blocking_last_tran_started;
    std::string blocking_status;
    std::string blocking_login;
    std::string blocking_host;
    std::string blocking_app;
    std::string blocking_transaction_name;
    std::optional<std::int64_t> blocking_input_buffer_hash;
};

struct Episode {
    std::int64_t head_spid = 0;
    std::string head_last_tran_started;
    std::string head_status;
    std::string head_login;
    std::string head_host;
    std::string head_app;
    std::string head_transaction_name;
    std::optional<std::int64_t> head_input_buffer_hash;
    Timestamp start;                 // when the earliest blocked task's wait began (report time - its wait)
    Timestamp end;                   // the last pass of the episode
    int reports = 0;
    int passes = 0;
    int sessions_blocked = 0;        // distinct blocked sessions
    int max_sessions_blocked = 0;    // at the worst pass
    std::int64_t max_wait_ms = 0;
    double blocked_session_seconds = 0;  // per blocked session, its longest wait seen, summed
    std::string resources;           // the most waited-on resources (up to 3), comma separated
    std::vector<std::size_t> report_indices;  // the reports of the episode: indices into build_episodes' input
    double duration_s() const;
};

// Builds the episodes of a set of reports (any order). Passes more than max_gap apart end an episode;
// max_gap 0 = three times the usual interval between passes (at least 10 s).
std::vector<Episode> build_episodes(const std::vector<ReportRow>& reports,
                                    std::chrono::seconds max_gap = std::chrono::seconds(0));

}  // namespace dmvlog::blocking
