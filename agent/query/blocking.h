// Blocking episodes. A source turns what it saw into samples (one per head blocker per moment); episodes
// are built from the samples of every source. Sources now: the requests snapshots (requests_5s, requests_1m,
// blocking_session_id). A blocked-process-report source adds its own samples (resolution: its threshold).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace dmvlog::query {

struct BlockedSession {
    int session = 0;
    int blocked_by = 0;
    std::int64_t wait_ms = 0;
    std::string wait_type;
    std::string resource;
};

struct BlockingSample {
    std::string source;          // "requests_5s", "requests_1m", later "blocked_process_report"
    std::int64_t at = 0;         // UTC ticks
    std::int64_t resolution = 0; // ticks between this source's samples (to decide what is contiguous)
    int sequence = 0;            // index of the source's snapshot: consecutive snapshots differ by 1
    int head = 0;                // head blocker session
    std::string head_login, head_host, head_program;
    std::int64_t head_text_hash = 0;
    bool head_running = false;   // the head had a request in the snapshot
    std::vector<BlockedSession> blocked;  // every session in the head's tree
};

struct Episode {
    int head = 0;
    std::int64_t first_seen = 0, last_seen = 0;
    std::int64_t began_by = 0;   // first_seen minus the longest wait at first sight
    int samples = 0;
    std::set<int> sessions;
    std::int64_t max_wait_ms = 0;
    std::map<std::string, int> wait_types;
    std::set<std::string> resources;
    std::set<std::string> sources;
    std::string head_login, head_host, head_program;
    std::int64_t head_text_hash = 0;
};

// One snapshot's rows (session, blocking_session_id, ...) into one sample per head blocker.
struct RequestRow {
    int session = 0;
    int blocking = 0;
    std::int64_t wait_ms = 0;
    std::string wait_type, resource, login, host, program;
    std::int64_t text_hash = 0;
};
std::vector<BlockingSample> samples_from_snapshot(const std::string& source, std::int64_t at, std::int64_t resolution,
                                                  int sequence, const std::vector<RequestRow>& rows);

// Samples of one head merge while their source's snapshots are consecutive; episodes of different sources
// with the same head merge when they overlap (within the coarser resolution).
std::vector<Episode> build_episodes(std::vector<BlockingSample> samples);

// The chains of one snapshot: (depth, row) in tree order from each head; heads without a request row are
// returned with session set and blocking 0 (sleeping with an open transaction, most often).
std::vector<std::pair<int, RequestRow>> blocking_tree(const std::vector<RequestRow>& rows);

}  // namespace dmvlog::query
