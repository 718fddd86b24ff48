// The disk spool: snapshots (and run records) the store could not take yet, kept in order on disk until the
// store commits them, so that a store outage or an agent restart during one loses nothing.
//
// Layout: <dir>/NNNNNNNNNNNNNNNNNNNN.seg, append-only segment files named by a growing sequence number, and
// <dir>/head, the position after the last record the store committed (segment, offset). A record is a
// 16-byte header (magic "DMVS", format version, flags, payload length, CRC-32 of the payload) and the
// payload (agent/store/spool_record.h).
//
// Durability: append() writes a record with one write() and fdatasync()s it (and the folder when it made a
// new segment) before it returns, so a spooled record survives a crash of the agent and of the machine. The
// head is rewritten in place after each commit without a sync: after a machine crash the last few records
// can be replayed again, which the store's idempotent write absorbs (a run record without a snapshot would be
// recorded twice).
//
// On open, every segment is checked: a record with a bad header or CRC is skipped (the next good record is
// found by its magic and CRC) and counted in Stats::corrupt; a bad tail (a torn last write) is copied to
// NNN.seg.bad and cut off. Nothing in a spool makes the agent stop.
//
// Size cap: when an append would take the segments beyond max_bytes, the oldest segments are deleted (their
// records counted in Stats::evicted, with a warning).
//
// Thread-safe (one mutex); the store writer is its only user besides stats().
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "agent/store/spool_record.h"

namespace dmvlog::store {

// The spool's folder or a segment cannot be created, written or read (disk full, permissions).
class SpoolError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Spool {
public:
    static constexpr std::uint32_t kMagic = 0x53564D44;   // "DMVS" little-endian
    static constexpr std::uint16_t kFormatVersion = 1;
    static constexpr std::size_t kHeaderBytes = 16;
    static constexpr std::uint64_t kDefaultMaxBytes = 256ull << 20;

    struct Options {
        std::filesystem::path dir;
        std::uint64_t max_bytes = kDefaultMaxBytes;
        std::uint64_t segment_bytes = 0;   // 0: max_bytes / 16, within [64 KiB, 16 MiB]
        bool sync = true;                   // fdatasync each append
    };
    struct Stats {
        std::uint64_t records = 0;   // records waiting now
        std::uint64_t bytes = 0;     // bytes of the segment files now
        std::uint64_t evicted = 0;   // records deleted by the size cap, since open
        std::uint64_t corrupt = 0;   // bad records or regions found, since open
    };

    // Creates the folder when missing, locks it (<dir>/lock, flock) and checks the segments there. Throws
    // SpoolError when the folder cannot be created or read, or another process holds it.
    explicit Spool(Options options);
    ~Spool();
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;

    // Appends a record (durable when it returns). Throws SpoolError when it cannot be written; then nothing
    // of it stays in the spool.
    void append(const SpoolRecord& record);
    // The same without copying the snapshot into a SpoolRecord (nullptr: a run record alone).
    void append(const Snapshot* snapshot, const RunRecord& run);
    // The oldest record not yet acknowledged; null when none. A record that can no longer be read or
    // decoded is dropped (counted in corrupt) and the next one is returned. Shared with the spool's own cache
    // of it (kept until pop(), for a retry after a failed store write): a large snapshot is held once.
    std::shared_ptr<const SpoolRecord> front();
    // Acknowledges the record front() returned: the store has committed it. Does nothing when that record
    // is gone meanwhile (evicted by an append).
    void pop();
    bool empty() const;
    Stats stats() const;
    const std::filesystem::path& dir() const { return options_.dir; }

private:
    struct Entry {
        std::uint64_t offset;
        std::uint32_t size;   // header + payload
    };
    struct Segment {
        std::uint64_t seq = 0;
        std::filesystem::path file;
        std::uint64_t file_bytes = 0;
        std::deque<Entry> pending;
    };
    void scan(Segment& segment, std::uint64_t acked_until);
    void open_active(std::uint64_t seq);
    void close_active();
    void evict_oldest();
    void write_head(std::uint64_t seq, std::uint64_t offset);
    std::uint64_t total_bytes() const;
    std::optional<SpoolRecord> read_front();

    Options options_;
    mutable std::mutex mu_;
    std::deque<Segment> segments_;   // oldest first; the last one is appended to
    int active_fd_ = -1;             // segments_.back() when open
    int head_fd_ = -1;
    int lock_fd_ = -1;   // flock'd while open
    std::uint64_t next_seq_ = 1;
    std::uint64_t records_ = 0;
    std::shared_ptr<const SpoolRecord> front_;   // decoded segments_.front().pending.front()
    std::pair<std::uint64_t, std::uint64_t> front_at_;   // its segment and offset
    Stats counters_;
};

}  // namespace dmvlog::store
