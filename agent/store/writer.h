// The one writer of a store: collectors hand over snapshots and go on; one thread writes them in order.
// A write that fails is kept and retried with backoff (nothing collected is dropped while the queue has room).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "agent/store/store.h"

namespace dmvlog::store {

class Writer {
public:
    struct Stats {
        std::uint64_t written = 0;       // snapshots committed
        std::uint64_t duplicates = 0;    // snapshots already in the store (not written again)
        std::uint64_t runs = 0;          // run records without a snapshot
        std::uint64_t failures = 0;      // failed write attempts (each retried)
        std::uint64_t dropped = 0;       // items dropped because the queue was full
        std::uint64_t purged_rows = 0;      // rows deleted by retention
        std::uint64_t purged_snapshots = 0;
        std::size_t queued = 0;
        std::string last_error;
        // The disk spool (snapshots the store could not take yet). Zero until the spool is part of the writer;
        // the names and types are the spool's own.
        std::uint64_t spool_records = 0;
        std::uint64_t spool_bytes = 0;
        std::uint64_t spool_evicted = 0;
        std::uint64_t spool_corrupt = 0;
        // Retention per collector: what it deleted so far, and whether it is behind (a pass became due while
        // the collector's previous pass had not finished: the store still holds data older than its retention
        // plus one purge period).
        struct Retention {
            std::uint64_t rows = 0;
            std::uint64_t snapshots = 0;   // XE collectors: events
            std::uint64_t passes = 0;      // passes finished
            bool behind = false;
        };
        std::map<std::string, Retention> retention;
    };

    // Called by the writer's thread after each attempt to write a snapshot or run record (not purges):
    // how long the store took, and whether it succeeded. Set before the first submit.
    using WriteObserver = std::function<void(double seconds, bool ok)>;
    void set_write_observer(WriteObserver observer);

    // max_queue: items kept in memory while the store cannot be written; the oldest go first beyond it.
    explicit Writer(Store& store, std::size_t max_queue = 10000);
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    void submit(Snapshot snapshot, RunRecord run);
    void submit(RunRecord run);
    // Retention: deletes the collector's snapshots older than cutoff, a few snapshots per transaction,
    // between the writes of new snapshots (each step goes to the back of the queue).
    void submit_purge(std::string collector, std::string table, Timestamp cutoff);
    // Waits until everything submitted so far is written, or the timeout passes. True if all was written.
    bool flush(std::chrono::milliseconds timeout);
    // Writes what it can within the timeout, then stops the thread.
    void stop(std::chrono::milliseconds timeout);
    Stats stats() const;

private:
    struct Purge {
        std::string collector, table;
        Timestamp cutoff;
        PurgeResult total;
    };
    struct Item {
        std::optional<Snapshot> snapshot;
        RunRecord run;
        std::optional<Purge> purge;
    };
    void loop();

    Store& store_;
    std::size_t max_queue_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::condition_variable drained_;
    std::deque<Item> queue_;
    bool busy_ = false;
    bool stopping_ = false;
    Stats stats_;
    WriteObserver write_observer_;
    std::thread thread_;
};

}  // namespace dmvlog::store
