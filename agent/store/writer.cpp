#include "agent/store/writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "agent/core/backoff.h"
#include "agent/core/time_format.h"

namespace dmvlog::store {

Writer::Writer(Store& store, std::size_t max_queue) : Writer(store, nullptr, max_queue) {}

Writer::Writer(Store& store, std::unique_ptr<Spool> spool, std::size_t max_queue)
    : store_(store), spool_(std::move(spool)), max_queue_(max_queue ? max_queue : 1) {
    thread_ = std::thread([this] { loop(); });
}

Writer::~Writer() { stop(std::chrono::milliseconds(0)); }

void Writer::submit(Snapshot snapshot, RunRecord run) { enqueue(Item{std::move(snapshot), std::move(run)}); }

void Writer::submit(RunRecord run) { enqueue(Item{std::nullopt, std::move(run)}); }

void Writer::enqueue(Item item) {
    {
        std::unique_lock lock(mu_);
        // Write-ahead: with a spool, every snapshot is on disk (fdatasync) before submit returns, and leaves the
        // spool only once the store has committed it: a kill -9 at any moment loses nothing the collector handed
        // over. Only while the spool itself cannot be written (and behind what waits in memory then) do items
        // wait in memory.
        const bool older_in_memory = std::any_of(queue_.begin(), queue_.end(), [](const Item& i) { return !i.purge; });
        if (spool_ && !spool_failing_ && !older_in_memory) {
            try {
                spool_->append(item.snapshot ? &*item.snapshot : nullptr, item.run);   // no copy of the rows
                // The writer decodes the record from the spool: free these rows before waking it, so that a
                // large snapshot is not in memory twice.
                item.snapshot.reset();
                lock.unlock();
                cv_.notify_one();
                return;
            } catch (const std::exception& e) {
                spool_failing_ = true;
                spdlog::error("store writer: the spool cannot take snapshots ({}); they wait in memory (at most {} items)",
                              e.what(), max_queue_);
            }
        }
        if (queue_.size() >= max_queue_) {
            queue_.pop_front();
            ++stats_.dropped;
            spdlog::error("store writer: queue full ({} items), dropped the oldest item", max_queue_);
        }
        queue_.push_back(std::move(item));
    }
    cv_.notify_one();
}

void Writer::set_write_observer(WriteObserver observer) {
    std::lock_guard lock(mu_);
    write_observer_ = std::move(observer);
}

void Writer::submit_purge(std::string collector, std::string table, Timestamp cutoff) {
    {
        std::lock_guard lock(mu_);
        for (const auto& item : queue_) {
            if (item.purge && item.purge->table == table && item.purge->collector == collector) {
                // One purge per collector and table at a time: the previous pass has not finished.
                auto& r = stats_.retention[collector];
                if (!r.behind)
                    spdlog::warn("retention: {} is behind: its previous pass (cutoff {}) has not finished when the "
                                 "next one is due ({} snapshot(s) deleted in it so far); the store holds data older "
                                 "than the retention{}",
                                 collector, format_timestamp(item.purge->cutoff), item.purge->total.snapshots,
                                 stats_.last_error.empty() ? "" : "; last store error: " + stats_.last_error);
                r.behind = true;
                return;
            }
        }
        stats_.retention.try_emplace(collector);
        Item item;
        item.purge = Purge{std::move(collector), std::move(table), cutoff, {}};
        queue_.push_back(std::move(item));
    }
    cv_.notify_one();
}

bool Writer::flush(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return drained_.wait_for(lock, timeout, [this] { return drained(); });
}

void Writer::stop(std::chrono::milliseconds timeout) {
    if (!thread_.joinable()) return;
    {
        // While the store fails, waiting is pointless with a spool: what is left goes there. With a spool,
        // everything waiting is on disk already, so the wait for the store to drain takes half the time allowed:
        // the write in progress when it ends must still finish (or fail) before the stop returns.
        std::unique_lock lock(mu_);
        drained_.wait_for(lock, spool_ ? timeout / 2 : timeout,
                          [this] { return drained() || (spool_ && failing_ && !spool_failing_); });
    }
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

Writer::Stats Writer::stats() const {
    std::lock_guard lock(mu_);
    Stats s = stats_;
    s.queued = queue_.size();
    if (spool_) {
        const auto sp = spool_->stats();
        s.spool_records = sp.records;
        s.spool_bytes = sp.bytes;
        s.spool_evicted = sp.evicted;
        s.spool_corrupt = sp.corrupt;
    }
    return s;
}

void Writer::spill(std::unique_lock<std::mutex>& lock) {
    for (;;) {
        auto it = std::find_if(queue_.begin(), queue_.end(), [](const Item& i) { return !i.purge; });
        if (it == queue_.end()) return;
        Item item = std::move(*it);
        queue_.erase(it);
        busy_ = true;
        lock.unlock();
        std::string error;
        try {
            spool_->append(item.snapshot ? &*item.snapshot : nullptr, item.run);
        } catch (const std::exception& e) {
            error = e.what();
        }
        lock.lock();
        busy_ = false;
        if (error.empty()) {
            spool_failing_ = false;
            continue;
        }
        // The spool cannot take it either (disk full, say): it waits in memory, at the front, as without a spool.
        // The spool's append reads the item without taking it, so nothing was lost. (It used to be moved into
        // the record before the append: a failed append then left an emptied snapshot here.)
        if (!spool_failing_)
            spdlog::error("store writer: the spool cannot take snapshots ({}); they wait in memory (at most {} items)",
                          error, max_queue_);
        spool_failing_ = true;
        queue_.push_front(std::move(item));
        return;
    }
}

void Writer::loop() {
    Backoff backoff(std::chrono::milliseconds(200), std::chrono::milliseconds(10000));
    std::unique_lock lock(mu_);
    std::uint64_t replayed = 0;
    // An outage: the store refused a write (or the spool held records at start); logged once when it begins and
    // once when the spool has been written out after it.
    bool outage = spool_waiting();
    for (;;) {
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty() || spool_waiting(); });
        if (stopping_) {
            if (spool_ && (failing_ || spool_waiting())) {
                // What waits in memory goes behind the spool's records, for the next start; purge steps go
                // (the next start's retention submits them again).
                spill(lock);
                std::erase_if(queue_, [](const Item& i) { return i.purge.has_value(); });
                drained_.notify_all();
                return;
            }
            if (queue_.empty()) return;   // stopping and drained
            if (failing_) return;         // store still failing at stop
        }
        // The spool goes first: it holds what is older than anything in memory.
        const bool from_spool = spool_waiting();
        Item item;
        std::shared_ptr<const SpoolRecord> record;   // shared with the spool's cache: not a copy
        if (from_spool) {
            if (failing_) spill(lock);   // while the store fails, new items follow the spool's records on disk
            busy_ = true;
            lock.unlock();
            record = spool_->front();
            lock.lock();
            busy_ = false;
            if (!record) continue;   // it held only unreadable records (dropped and counted)
        } else {
            item = std::move(queue_.front());
            queue_.pop_front();
        }
        busy_ = true;
        lock.unlock();
        std::string error;
        bool duplicate = false;
        PurgeResult purged;
        const auto t0 = std::chrono::steady_clock::now();
        try {
            if (record) {
                if (record->snapshot) duplicate = !store_.write(*record->snapshot, record->run);
                else store_.record_run(record->run);
                spool_->pop();   // acknowledged only once the store committed it
            } else if (item.purge) {
                purged = store_.purge(item.purge->collector, item.purge->table, item.purge->cutoff, 20);
            } else if (item.snapshot) {
                duplicate = !store_.write(*item.snapshot, item.run);
            } else {
                store_.record_run(item.run);
            }
        } catch (const std::exception& e) {
            error = e.what();
        }
        if (!item.purge) {
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            WriteObserver observer;
            {
                std::lock_guard observer_lock(mu_);
                observer = write_observer_;
            }
            if (observer) observer(seconds, error.empty());
        }
        lock.lock();
        busy_ = false;
        if (error.empty() && item.purge) {
            stats_.purged_rows += static_cast<std::uint64_t>(purged.rows);
            stats_.purged_snapshots += static_cast<std::uint64_t>(purged.snapshots);
            auto& r = stats_.retention[item.purge->collector];
            r.rows += static_cast<std::uint64_t>(purged.rows);
            r.snapshots += static_cast<std::uint64_t>(purged.snapshots);
            auto& total = item.purge->total;
            total.rows += purged.rows;
            total.snapshots += purged.snapshots;
            total.runs += purged.runs;
            if (purged.more && !stopping_) {
                queue_.push_back(std::move(item));  // the next step after what is waiting now
            } else {
                ++r.passes;
                if (r.behind && !purged.more)
                    spdlog::info("retention: {} caught up: nothing older than {} is left", item.purge->collector,
                                 format_timestamp(item.purge->cutoff));
                if (!purged.more) r.behind = false;
                if (total.snapshots > 0 || total.runs > 0)
                    spdlog::info("retention: {} purged {} snapshot(s), {} row(s), {} run record(s) older than {}",
                                 item.purge->collector, total.snapshots, total.rows, total.runs,
                                 format_timestamp(item.purge->cutoff));
                if (purged.dictionary > 0)
                    spdlog::info("retention: {} name(s) and handle(s) no row refers to any more deleted from the "
                                 "dictionary", purged.dictionary);
            }
            if (drained()) drained_.notify_all();
            continue;
        }
        if (error.empty()) {
            backoff.reset();
            failing_ = false;
            stats_.last_error.clear();
            const bool snapshot = record ? record->snapshot.has_value() : item.snapshot.has_value();
            if (!snapshot) ++stats_.runs;
            else if (duplicate) ++stats_.duplicates;
            else ++stats_.written;
            if (record) {
                ++replayed;
                if (!spool_waiting()) {
                    if (outage)
                        spdlog::info("spool: {} record(s) written to the store from the spool; it is empty", replayed);
                    replayed = 0;
                    outage = false;
                }
            }
            if (drained()) drained_.notify_all();
            continue;
        }
        ++stats_.failures;
        stats_.last_error = error;
        failing_ = true;
        drained_.notify_all();
        if (!record && item.purge && spool_ && !stopping_) {
            // A retention step must not hold up the snapshots behind it while the store fails: it is put off (the
            // next retention pass submits it again), and they go to the spool as the next of them fails.
            spdlog::info("store write failed: {}; retention of {} put off to its next pass", error, item.purge->collector);
            stats_.retention[item.purge->collector].behind = true;
            continue;
        }
        if (!record) {
            // Keep the item at the front; with a spool, it and everything after it go to disk.
            const bool to_spool = spool_ && !item.purge;
            queue_.push_front(std::move(item));
            if (to_spool) {
                if (!outage)
                    spdlog::warn("store write failed: {}; snapshots go to the spool in {} until the store takes them",
                                 error, spool_->dir().string());
                outage = true;
                spill(lock);
            }
        } else if (!outage) {
            // The record stays in the spool (it was written there first), and so do the ones after it.
            spdlog::warn("store write failed: {}; snapshots go to the spool in {} until the store takes them", error,
                         spool_->dir().string());
            outage = true;
        }
        if (stopping_) {
            if (spool_) {
                spill(lock);
                std::erase_if(queue_, [](const Item& i) { return i.purge.has_value(); });
            }
            drained_.notify_all();
            return;
        }
        auto wait = backoff.next();
        spdlog::warn("store write failed, retrying in {} ms: {}", wait.count(), error);
        cv_.wait_for(lock, wait, [this] { return stopping_; });
    }
}

}  // namespace dmvlog::store
