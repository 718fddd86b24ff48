#include "agent/sched/executor.h"

namespace dmvlog::sched {

ThreadPool::ThreadPool(unsigned threads) {
    if (threads == 0) threads = 1;
    threads_.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { worker(); });
}

ThreadPool::~ThreadPool() { shutdown(); }

void ThreadPool::submit(std::function<void()> work) {
    {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        queue_.push_back(std::move(work));
    }
    cv_.notify_one();
}

void ThreadPool::shutdown() {
    {
        std::lock_guard lock(mu_);
        if (stopping_ && threads_.empty()) return;
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
    threads_.clear();
}

std::size_t ThreadPool::queued() const {
    std::lock_guard lock(mu_);
    return queue_.size();
}

void ThreadPool::worker() {
    for (;;) {
        std::function<void()> work;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;
            work = std::move(queue_.front());
            queue_.pop_front();
        }
        work();
    }
}

}  // namespace dmvlog::sched
