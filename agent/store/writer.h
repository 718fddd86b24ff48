// The one writer of a store: collectors hand over snapshots and go on; one thread writes them in order.
// A write that fails is kept and retried with backoff. With a spool (agent/store/spool.h), the failed item
// and everything after it go to disk, in order, until the store takes them again: the spool is written to
// the store first, oldest first, before new items, and what it holds at startup is replayed. Without a
// spool, failed items wait in memory (nothing collected is dropped while the queue has room).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "agent/store/spool.h"
#include "agent/store/store.h"

namespace dmvlog::store {

class Writer {
public:
    struct Stats {
        std::uint64_t written = 0;       // snapshots committed (each part of a large one counts)
        std::uint64_t duplicates = 0;    // snapshots already in the store (not written again)
        std::uint64_t runs = 0;          // run records without a snapshot
        std::uint64_t failures = 0;      // failed write attempts (each retried)
        std::uint64_t dropped = 0;       // items dropped because the queue was full
        std::uint64_t purged_rows = 0;      // rows deleted by retention
        std::uint64_t purged_snapshots = 0;
        std::size_t queued = 0;          // items waiting in memory
        std::string last_error;
        std::uint64_t spool_records = 0; // records in the spool now
        std::uint64_t spool_bytes = 0;   // bytes of the spool's files now
        std::uint64_t spool_evicted = 0; // records evicted by the spool's size cap, total
        std::uint64_t spool_corrupt = 0; // bad records found in the spool, total
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
    // With a spool: failed writes go to it (see above); max_queue bounds what waits in memory when the
    // spool cannot be written either.
    Writer(Store& store, std::unique_ptr<Spool> spool, std::size_t max_queue = 10000);
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    void submit(Snapshot snapshot, RunRecord run);
    void submit(RunRecord run);
    // Retention: deletes the collector's snapshots older than cutoff, a few snapshots per transaction,
    // between the writes of new snapshots (each step goes to the back of the queue).
    void submit_purge(std::string collector, std::string table, Timestamp cutoff);
    // Waits until everything submitted so far (and the spool) is written, or the timeout passes. True if all
    // was written.
    bool flush(std::chrono::milliseconds timeout);
    // Writes what it can within the timeout, then stops the thread. With a spool, what is left in memory goes
    // to the spool (written at the next start).
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
    void enqueue(Item item);
    bool spool_waiting() const { return spool_ && !spool_->empty(); }
    // Moves the snapshots and run records waiting in memory to the spool, in order (purges stay). Stops at
    // the first that the spool cannot take. Called with the lock held; unlocks while writing.
    void spill(std::unique_lock<std::mutex>& lock);
    bool drained() const { return queue_.empty() && !busy_ && !spool_waiting(); }

    Store& store_;
    std::unique_ptr<Spool> spool_;
    std::size_t max_queue_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::condition_variable drained_;
    std::deque<Item> queue_;
    bool busy_ = false;
    bool stopping_ = false;
    bool failing_ = false;        // the last write failed
    bool spool_failing_ = false;  // the last append to the spool failed
    Stats stats_;
    WriteObserver write_observer_;
    std::thread thread_;
};

}  // namespace dmvlog::store
