#include "agent/store/writer.h"

#include <spdlog/spdlog.h>

#include "agent/core/backoff.h"
#include "agent/core/time_format.h"

namespace dmvlog::store {

Writer::Writer(Store& store, std::size_t max_queue) : store_(store), max_queue_(max_queue ? max_queue : 1) {
    thread_ = std::thread([this] { loop(); });
}

Writer::~Writer() { stop(std::chrono::milliseconds(0)); }

void Writer::submit(Snapshot snapshot, RunRecord run) {
    {
        std::lock_guard lock(mu_);
        if (queue_.size() >= max_queue_) {
            queue_.pop_front();
            ++stats_.dropped;
            spdlog::error("store writer: queue full ({} items), dropped the oldest snapshot", max_queue_);
        }
        queue_.push_back(Item{std::move(snapshot), std::move(run)});
    }
    cv_.notify_one();
}

void Writer::submit(RunRecord run) {
    {
        std::lock_guard lock(mu_);
        if (queue_.size() >= max_queue_) {
            queue_.pop_front();
            ++stats_.dropped;
        }
        queue_.push_back(Item{std::nullopt, std::move(run)});
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
    return drained_.wait_for(lock, timeout, [this] { return queue_.empty() && !busy_; });
}

void Writer::stop(std::chrono::milliseconds timeout) {
    if (!thread_.joinable()) return;
    flush(timeout);
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
    return s;
}

void Writer::loop() {
    Backoff backoff(std::chrono::milliseconds(200), std::chrono::milliseconds(10000));
    std::unique_lock lock(mu_);
    for (;;) {
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping and drained
        if (stopping_ && stats_.failures > 0 && !stats_.last_error.empty()) return;  // store still failing at stop
        Item item = std::move(queue_.front());
        queue_.pop_front();
        busy_ = true;
        lock.unlock();
        std::string error;
        bool duplicate = false;
        PurgeResult purged;
        const auto t0 = std::chrono::steady_clock::now();
        try {
            if (item.purge) purged = store_.purge(item.purge->collector, item.purge->table, item.purge->cutoff, 20);
            else if (item.snapshot) duplicate = !store_.write(*item.snapshot, item.run);
            else store_.record_run(item.run);
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
            }
            if (queue_.empty()) drained_.notify_all();
            continue;
        }
        if (error.empty()) {
            backoff.reset();
            stats_.last_error.clear();
            if (!item.snapshot) ++stats_.runs;
            else if (duplicate) ++stats_.duplicates;
            else ++stats_.written;
            if (queue_.empty()) drained_.notify_all();
            continue;
        }
        // Keep the item at the front and retry after a pause (or give up at stop).
        ++stats_.failures;
        stats_.last_error = error;
        queue_.push_front(std::move(item));
        if (stopping_) return;
        auto wait = backoff.next();
        spdlog::warn("store write failed, retrying in {} ms: {}", wait.count(), error);
        cv_.wait_for(lock, wait, [this] { return stopping_; });
    }
}

}  // namespace dmvlog::store
