// Runs jobs at their own intervals. A tick that comes while the job's previous run is still going is
// skipped and counted, never queued. Start times are spread by a random splay so that jobs with the same
// interval do not all fire on the same second. Time comes from an injectable Clock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "agent/sched/clock.h"
#include "agent/sched/executor.h"

namespace dmvlog::sched {

struct JobStats {
    std::uint64_t runs = 0;          // started runs
    std::uint64_t skipped_busy = 0;  // ticks skipped because the previous run was still going
    std::uint64_t missed = 0;        // ticks that passed while the scheduler could not look (host suspended)
    TimePoint first_due{};
    TimePoint next_due{};
    TimePoint last_start{};
    Duration interval{};
    bool running = false;
};

class Scheduler {
public:
    using JobId = std::size_t;

    Scheduler(Clock& clock, Executor& executor, std::uint64_t seed = std::random_device{}());
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Adds a job; its first run is at now + a random offset in [0, splay]. Returns its id.
    JobId add(std::string name, Duration interval, Duration splay, std::function<void()> work);
    // Changes a job's interval from its next tick on (used to back off a collector over its budget).
    void set_interval(JobId id, Duration interval);

    // Makes a job due now (e.g. server_info right after a reconnect); wakes the scheduler.
    void trigger(JobId id);

    // Starts every job that is due at clock.now(); returns when the next job is due.
    TimePoint poll();
    // Calls poll() and sleeps until the next due time, until stop() is called.
    void run();
    void stop();

    JobStats stats(JobId id) const;
    const std::string& name(JobId id) const;
    std::size_t size() const;

private:
    struct Job {
        std::string name;
        std::function<void()> work;
        JobStats stats;
        std::atomic<bool> running{false};
    };

    Clock& clock_;
    Executor& executor_;
    mutable std::mutex mu_;
    std::vector<std::unique_ptr<Job>> jobs_;
    std::mt19937_64 rng_;
    std::atomic<bool> stop_{false};
};

}  // namespace dmvlog::sched
