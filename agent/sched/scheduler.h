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

    // A periodic callback run on the thread that calls poll()/run() (never on the executor): every `every`
    // of clock time, and at the first poll. It proves the loop itself is alive (the systemd watchdog) and
    // refreshes what the loop reports (status). One heartbeat; setting it again replaces it.
    void set_heartbeat(Duration every, std::function<void()> fn);

    // Starts every job that is due at clock.now(), runs the heartbeat when it is due; returns when the next
    // job (or heartbeat) is due.
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

    TimePoint poll_jobs();  // with mu_ held

    Clock& clock_;
    Executor& executor_;
    mutable std::mutex mu_;
    std::vector<std::unique_ptr<Job>> jobs_;
    std::mt19937_64 rng_;
    std::atomic<bool> stop_{false};
    std::function<void()> heartbeat_;
    Duration heartbeat_every_{0};
    TimePoint heartbeat_due_{};
};

}  // namespace dmvlog::sched
