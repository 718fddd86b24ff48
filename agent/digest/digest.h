// The blocking digest (`dmvlog digest`, docs/digest.md): who blocked whom in a window, for how long, on what,
// and whether it is getting worse, built from the store's blocked-process reports, deadlocks, plan-cache
// deltas and wait deltas. Rendered as text, Markdown, self-contained HTML or JSON (docs/digest.schema.json).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/query/sql.h"
#include "agent/query/time_window.h"

struct sqlite3;

namespace dmvlog::digest {

// Totals of one window: what the headline shows, and what the previous window is compared on.
struct Headline {
    int episodes = 0;
    double blocked_session_seconds = 0;   // blocked time inside the window, summed over blocked sessions
    double longest_episode_s = 0;         // the longest episode's part inside the window
    int max_sessions_blocked = 0;         // sessions blocked at the same moment, at the worst moment
    std::optional<std::int64_t> worst_at; // that moment (UTC ticks)
    int deadlocks = 0;
    double max_wait_s = 0;                // the longest single wait seen by a report in the window
};

struct HeadBlocker {
    std::string login, host, app;
    std::int64_t spid = 0;                // of the longest episode (a session id is reused; the rest is the key)
    std::string statement;                // the head's input buffer (what it ran last), "" when not known
    std::string status;                   // sleeping (idle with an open transaction) or running/suspended
    std::optional<double> open_transaction_s;  // longest age of its open transaction at the end of an episode
    bool open_transaction_at_least = false;    // a lower bound: the report had no lasttranstarted (a sleeping head)
    int episodes = 0;
    double blocked_session_seconds = 0;
    double longest_episode_s = 0;
    int sessions_blocked = 0;             // distinct (episode, session) pairs
};

struct BlockedStatement {
    std::string statement;                // input buffer of the blocked task
    std::string login, app;               // of the first blocked session seen with it
    int sessions = 0;
    int episodes = 0;
    double blocked_session_seconds = 0;
    double max_wait_s = 0;
};

struct Resource {
    std::string resource;                 // wait_resource as reported ("KEY: 7:72057594045595648 (8194443284a0)")
    std::string type;                     // KEY, PAGE, RID, OBJECT, ...
    std::string object;                   // "Sales.dbo.Orders" when the store knows it, else "db 7, hobt ..."
    std::string lock_mode;                // the mode the blocked tasks asked for
    int sessions = 0;
    double blocked_session_seconds = 0;
};

struct ObjectContention {
    std::string object;
    int resources = 0;                    // distinct wait resources on it
    int sessions = 0;
    double blocked_session_seconds = 0;
};

struct DeadlockProcess {
    std::int64_t spid = 0;
    bool victim = false;
    std::string login, host, app, lock_mode, wait_resource, statement;
};

struct Deadlock {
    std::int64_t at = 0;                  // UTC ticks
    std::vector<std::int64_t> victim_spids;
    std::vector<DeadlockProcess> processes;
    std::vector<std::string> objects;     // objects of the resources ("Sales.dbo.Orders (PK_Orders)")
};

struct Episode {
    std::int64_t head_spid = 0;
    std::string head_login, head_host, head_app, head_status, head_statement;
    std::int64_t start = 0, end = 0;      // the whole episode (UTC ticks); may reach outside the window
    std::int64_t window_start = 0, window_end = 0;   // its part inside the window
    double blocked_session_seconds = 0;   // inside the window
    int sessions_blocked = 0;             // distinct sessions blocked inside the window
    int max_sessions_blocked = 0;         // at its worst moment inside the window
    double max_wait_s = 0;
    std::string resources;
    bool began_before = false, continues_after = false;
};

struct TopQuery {
    std::string query_hash, statement;
    std::int64_t executions = 0;
    double cpu_ms = 0, share = 0;         // share of the window's CPU, percent
};

struct TopWait {
    std::string wait_type;
    std::int64_t wait_ms = 0, waits = 0;
    double share = 0;
};

// One instance's digest of one window.
struct InstanceDigest {
    std::string instance;
    std::optional<int> threshold_s;       // 'blocked process threshold (s)' as last seen by server_info
    std::string source;                   // "blocked_process_report", "requests" (no reports in the store) or ""
    Headline headline;
    Headline previous;                    // the window of the same length just before
    bool previous_covered = false;        // the store reaches back over the previous window
    std::vector<Episode> episodes;        // by start time
    std::vector<HeadBlocker> head_blockers;
    std::vector<BlockedStatement> blocked_statements;
    std::vector<Resource> resources;
    std::vector<ObjectContention> objects;
    std::vector<Deadlock> deadlocks;
    std::vector<TopQuery> top_cpu;
    std::vector<TopWait> top_waits;
    std::int64_t bucket_ticks = 0;        // width of a timeline bucket
    std::vector<int> timeline;            // most sessions blocked at once, per bucket over [from, to)
    std::vector<std::string> notes;
    bool quiet() const { return headline.episodes == 0 && headline.deadlocks == 0; }
};

struct Digest {
    query::Window window;
    std::string time_zone;                // IANA name the window and times are shown in
    std::int64_t generated_at = 0;        // UTC ticks
    std::vector<InstanceDigest> instances;
};

struct Options {
    std::vector<std::string> instances;   // empty: every instance in the store
    query::Window window;
    const query::Zone* zone = nullptr;
    int top = 5;                          // rows per list
    int buckets = 60;                     // timeline resolution
    std::int64_t now = 0;                 // generated_at (UTC ticks); 0 = the clock
};

// Builds the digest from a store. Throws std::runtime_error for store problems.
Digest build(query::Db* db, const Options& options);
Digest build(sqlite3* db, const Options& options);   // a SQLite store

// The window `dmvlog digest` covers by default: the last complete clock hour in the zone before now
// (half-open; one real hour also across daylight-saving changes, and an hour in zones whose offset is not
// whole hours).
query::Window last_complete_hour(const query::Zone& zone, std::int64_t now_utc_ticks);

// "14:00–15:00 CET, 2026-11-23" style label of a window in a zone.
std::string window_label(const query::Window& w, const query::Zone& zone);

// The one line a window without blocking or deadlocks gets.
std::string quiet_line(const InstanceDigest& d, const query::Window& w, const query::Zone& zone);

enum class Format { text, markdown, html, json };
std::optional<Format> parse_format(const std::string& name);

std::string render(const Digest& d, Format f, const query::Zone& zone);
std::string render_text(const Digest& d, const query::Zone& zone, bool markdown);
std::string render_html(const Digest& d, const query::Zone& zone);
std::string render_json(const Digest& d, const query::Zone& zone);   // docs/digest.schema.json
// The Slack-compatible one-paragraph summary ("text" of the webhook payload).
std::string summary_text(const Digest& d, const query::Zone& zone);

}  // namespace dmvlog::digest
