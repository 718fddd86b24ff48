// Where scheduled work runs: a fixed pool of worker threads, or (in tests) wherever the test decides.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dmvlog::sched {

class Executor {
public:
    virtual ~Executor() = default;
    virtual void submit(std::function<void()> work) = 0;
};

// A fixed number of worker threads taking work in submission order.
class ThreadPool final : public Executor {
public:
    explicit ThreadPool(unsigned threads);
    ~ThreadPool() override;
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    void submit(std::function<void()> work) override;
    // Stops taking work, finishes what is queued and running, joins the threads.
    void shutdown();
    std::size_t queued() const;

private:
    void worker();

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> queue_;
    std::vector<std::thread> threads_;
    bool stopping_ = false;
};

}  // namespace dmvlog::sched
