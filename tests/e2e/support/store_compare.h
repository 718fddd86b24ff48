// Comparing what two stores hold (SQLite against PostgreSQL or SQL Server): the extended-event rows both must
// hold, row multisets, and the first line where two renderings differ.
#pragma once

#include <algorithm>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace dmvlog::test {

// The extended-event rows two stores fed from the same event session must both hold (ids, instance names and
// collection times aside), as portable SQL.
inline const std::vector<std::string>& xe_comparison_queries() {
    static const std::vector<std::string> q = {
        "SELECT source, event_name, event_time, file_name, file_offset, content_hash, parse_error FROM xe_events",
        "SELECT event_time, monitor_loop, blocked_spid, blocked_ecid, blocking_spid, wait_resource, wait_resource_type, "
        "blocked_login, blocking_login, blocking_host, blocked_last_tran_started, blocked_input_buffer_hash, head_blocker "
        "FROM blocked_process_reports",
        "SELECT event_time, victims, victim_spids, process_count, resource_count FROM deadlocks",
        "SELECT event_time, process_id, victim, spid, login, input_buffer_hash FROM deadlock_processes",
        "SELECT event_time, resource_type, object_name, owners, waiters FROM deadlock_resources",
        "SELECT head_spid, head_login, head_host, head_app, head_input_buffer_hash, start_time, end_time, reports, "
        "monitor_passes, sessions_blocked, max_sessions_blocked, max_wait_ms, resources FROM blocking_episodes",
        "SELECT source, file_name, file_offset, events_read, possible_losses FROM xe_bookmarks",
        "SELECT hash, text FROM sql_text WHERE hash IN (SELECT blocked_input_buffer_hash FROM blocked_process_reports)",
    };
    return q;
}

// "" when the two multisets of rows are equal, else how many each holds and one row only each has.
inline std::string difference(const std::multiset<std::string>& a, const std::multiset<std::string>& b,
                              const std::string& name_a, const std::string& name_b) {
    std::vector<std::string> only_a, only_b;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only_a));
    std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(only_b));
    if (only_a.empty() && only_b.empty()) return "";
    return std::to_string(a.size()) + " rows in " + name_a + ", " + std::to_string(b.size()) + " in " + name_b + "; only in " +
           name_a + ": " + (only_a.empty() ? "-" : only_a.front()) + " (" + std::to_string(only_a.size()) + "); only in " +
           name_b + ": " + (only_b.empty() ? "-" : only_b.front()) + " (" + std::to_string(only_b.size()) + ")";
}

// The first line where two renderings differ, for a readable failure.
inline std::string first_difference(const std::string& a, const std::string& b, const std::string& name_b = "other") {
    std::istringstream sa(a), sb(b);
    std::string la, lb;
    for (int n = 1;; ++n) {
        const bool ea = !std::getline(sa, la), eb = !std::getline(sb, lb);
        if (ea && eb) return "(same)";
        if (ea || eb || la != lb)
            return "line " + std::to_string(n) + ":\n  sqlite: " + (ea ? "<end>" : la) + "\n  " + name_b + ": " + (eb ? "<end>" : lb);
    }
}

}  // namespace dmvlog::test
