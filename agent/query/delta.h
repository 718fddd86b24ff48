// Delta analysis across all snapshots (docs/analysis.md): pure bookkeeping, no SQL, so that each rule can be
// tested on its own. Times are store ticks (100 ns since 1970 UTC); windows are half-open [from, to).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace dmvlog::query {

inline constexpr int kMaxMetrics = 10;
using Metrics = std::array<std::int64_t, kMaxMetrics>;

enum class Quality { exact, lower_bound, partial };
const char* quality_name(Quality q);
Quality worse(Quality a, Quality b);

// ---- Plan lifetimes (dm_exec_query_stats, dm_exec_procedure_stats) ----
//
// A lifetime is one cache entry: (instance, sql_handle, plan_handle, statement offsets, creation_time); the
// caller hashes that identity into `key`. Within [from, to):
//   created at or after `from`          -> its last observed value in the window counts whole;
//   created before, observed at or before `from` (baseline) -> last in window minus the latest baseline;
//   created before, never observed at or before `from`     -> last minus first in the window, lower bound;
//   evicted in the window               -> what was observed (its last observation) counts.
struct LifetimeInfo {
    std::string group;          // the grouping value (query_hash, statement hash, plan hash, ...)
    std::string query_hash;     // shown with the row
    std::string plan_hash;      // query_plan_hash
    std::int64_t text_hash = 0; // statement text (0 = unknown)
};

struct Lifetime {
    LifetimeInfo info;
    std::int64_t creation = 0;  // UTC ticks as stored
    std::int64_t first_at = 0, last_at = 0;
    Metrics first{}, last{};
    std::optional<std::int64_t> baseline_at;
    Metrics baseline{};
    int observations = 0;
};

class LifetimeDeltas {
public:
    LifetimeDeltas(std::int64_t from, std::int64_t to) : from_(from), to_(to) {}

    // An observation in the window (from <= at < to). Observations may come in any order.
    void observe(std::uint64_t key, std::int64_t at, std::int64_t creation, const Metrics& values,
                 const LifetimeInfo& info);
    // The fast path for a lifetime already seen: what observe() does, without the identity (which does not
    // change within a lifetime). find() returns nullptr for a new lifetime.
    Lifetime* find(std::uint64_t key) {
        auto it = lifetimes_.find(key);
        return it == lifetimes_.end() ? nullptr : &it->second;
    }
    static void update(Lifetime& l, std::int64_t at, const Metrics& values) {
        ++l.observations;
        if (at < l.first_at) {
            l.first_at = at;
            l.first = values;
        }
        if (at >= l.last_at) {
            l.last_at = at;
            l.last = values;
        }
    }
    // An observation at or before `from`: a baseline candidate for a lifetime seen in the window (the latest
    // one wins). Observations of lifetimes not seen in the window are ignored; call after every observe().
    void baseline(std::uint64_t key, std::int64_t at, const Metrics& values);
    // Whether the lifetime was created before the window and still lacks a baseline.
    bool wants_baseline(std::uint64_t key) const;
    // Takes in the observations another LifetimeDeltas of the same window gathered (a part of the rows read
    // on another connection): the same result as if this one had observed them. Baselines included.
    void merge(LifetimeDeltas&& other);

    struct Delta {
        Metrics values{};
        Quality quality = Quality::exact;
    };
    static Delta delta(const Lifetime& l, std::int64_t from);
    Delta delta(const Lifetime& l) const { return delta(l, from_); }

    const std::unordered_map<std::uint64_t, Lifetime>& lifetimes() const { return lifetimes_; }
    std::int64_t from() const { return from_; }
    std::int64_t to() const { return to_; }

private:
    std::int64_t from_, to_;
    std::unordered_map<std::uint64_t, Lifetime> lifetimes_;
};

// One group's sum over its lifetimes.
struct GroupTotal {
    std::string group;
    LifetimeInfo sample;        // query_hash, plan hash and text of the most recently seen lifetime
    Metrics values{};
    int lifetimes = 0;
    int lower_bound_lifetimes = 0;
    std::vector<std::string> plan_hashes;
    std::int64_t last_seen = 0;
};
// group_of: the group of a lifetime (default: info.group). drop_without_baseline: leave out lifetimes created
// before the window that have no baseline (the two-point method misses them) instead of counting a lower bound.
std::vector<GroupTotal> group_totals(const LifetimeDeltas& d,
                                     const std::function<std::string(const Lifetime&)>& group_of = {},
                                     bool drop_without_baseline = false);

// ---- Server-level cumulative counters (waits, latches, spinlocks, file IO, perf counters, index stats) ----
//
// Snapshots are fed in time order. Within one epoch (sqlserver_start_time) each key contributes the sum of
// differences between its consecutive observations, counted for the snapshots after `from` and before `to`
// (the latest snapshot at or before `from` is the baseline). A decrease is a reset (DBCC SQLPERF CLEAR,
// metadata eviction) and contributes the new value; a new epoch (restart) contributes the new values.
// Never negative. full_listing: the collector lists every non-zero key on every run, so a key missing from the
// previous snapshot was zero, and a snapshot where most keys went down is a clear of the whole DMV. Sparse
// collectors (only what changed since the previous run) take a key's own previous observation, and a key
// never observed at or before `from` counts from its first observation in the window (a lower bound).
struct Reset {
    std::int64_t at = 0;
    std::string kind;           // "restart" | "clear" | "decrease"
    std::string key;            // for "decrease": the key; otherwise empty
    int keys = 0;               // keys affected
};

class CounterDeltas {
public:
    CounterDeltas(int metrics, bool full_listing, std::int64_t from, std::int64_t to)
        : n_(metrics), full_(full_listing), from_(from), to_(to) {}

    void snapshot(std::int64_t at, const std::string& epoch);   // starts a snapshot (closes the previous one)
    void row(const std::string& key, const Metrics& values);
    void finish();                                            // closes the last snapshot

    struct KeyTotal {
        Metrics delta{};
        bool lower_bound = false;
        int observations = 0;   // in the window
        Metrics last{};         // last observed raw values
    };
    const std::unordered_map<std::string, KeyTotal>& totals() const { return totals_; }
    const std::vector<Reset>& resets() const { return resets_; }
    // First and last snapshot times used (the baseline and the last one in the window); 0 when none.
    std::int64_t measured_from() const { return measured_from_; }
    std::int64_t measured_to() const { return measured_to_; }
    int snapshots_in_window() const { return in_window_; }

private:
    void close();
    int n_;
    bool full_;
    std::int64_t from_, to_;
    bool open_ = false;
    std::int64_t at_ = 0;
    std::string epoch_;
    std::unordered_map<std::string, Metrics> cur_;
    // previous state
    bool have_prev_ = false;
    std::string prev_epoch_;
    std::unordered_map<std::string, Metrics> last_;   // per key: last observation (this epoch)
    std::unordered_map<std::string, Metrics> prev_snapshot_;
    std::unordered_map<std::string, KeyTotal> totals_;
    std::vector<Reset> resets_;
    std::int64_t measured_from_ = 0, measured_to_ = 0;
    int in_window_ = 0;
};

// 64-bit mixing for identity hashes.
std::uint64_t hash_bytes(std::string_view bytes, std::uint64_t seed = 0);
std::uint64_t hash_mix(std::uint64_t h, std::uint64_t v);

}  // namespace dmvlog::query
