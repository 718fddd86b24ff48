#include "agent/sched/scheduler.h"

#include <algorithm>

namespace dmvlog::sched {

Scheduler::Scheduler(Clock& clock, Executor& executor, std::uint64_t seed)
    : clock_(clock), executor_(executor), rng_(seed) {}

Scheduler::JobId Scheduler::add(std::string name, Duration interval, Duration splay, std::function<void()> work) {
    std::lock_guard lock(mu_);
    auto job = std::make_unique<Job>();
    job->name = std::move(name);
    job->work = std::move(work);
    job->stats.interval = interval > Duration::zero() ? interval : Duration(1);
    Duration offset{0};
    if (splay > Duration::zero()) {
        std::uniform_int_distribution<Duration::rep> dist(0, splay.count());
        offset = Duration(dist(rng_));
    }
    job->stats.first_due = clock_.now() + offset;
    job->stats.next_due = job->stats.first_due;
    jobs_.push_back(std::move(job));
    return jobs_.size() - 1;
}

void Scheduler::set_interval(JobId id, Duration interval) {
    std::lock_guard lock(mu_);
    auto& s = jobs_.at(id)->stats;
    s.interval = interval > Duration::zero() ? interval : Duration(1);
}

void Scheduler::trigger(JobId id) {
    {
        std::lock_guard lock(mu_);
        auto& s = jobs_.at(id)->stats;
        s.next_due = std::min(s.next_due, clock_.now());
    }
    clock_.wake();
}

void Scheduler::set_heartbeat(Duration every, std::function<void()> fn) {
    std::lock_guard lock(mu_);
    heartbeat_ = std::move(fn);
    heartbeat_every_ = every > Duration::zero() ? every : Duration(1);
    heartbeat_due_ = TimePoint::min();  // at the first poll
}

TimePoint Scheduler::poll() {
    std::function<void()> beat;
    TimePoint next = TimePoint::max();
    {
        std::lock_guard lock(mu_);
        next = poll_jobs();
        if (heartbeat_) {
            const TimePoint now = clock_.now();
            if (heartbeat_due_ <= now) {
                beat = heartbeat_;
                heartbeat_due_ = now + heartbeat_every_;
            }
            next = std::min(next, heartbeat_due_);
        }
    }
    // Outside the lock: the heartbeat may read stats().
    if (beat) {
        try {
            beat();
        } catch (...) {
            // A heartbeat reports its own failures; it must never stop the schedule.
        }
    }
    return next;
}

TimePoint Scheduler::poll_jobs() {
    const TimePoint now = clock_.now();
    TimePoint next = TimePoint::max();
    for (auto& jp : jobs_) {
        Job& job = *jp;
        auto& s = job.stats;
        if (s.next_due <= now) {
            if (job.running.load()) {
                ++s.skipped_busy;
            } else {
                job.running = true;
                ++s.runs;
                s.last_start = now;
                Job* raw = &job;
                executor_.submit([raw] {
                    try {
                        raw->work();
                    } catch (...) {
                        // Work reports its own failures; a throw must never stop the schedule.
                    }
                    raw->running = false;
                });
            }
            // Next tick on the job's own grid (no drift); ticks that passed unseen are counted as missed.
            s.next_due += s.interval;
            if (s.next_due <= now) {
                auto behind = (now - s.next_due) / s.interval + 1;
                s.missed += static_cast<std::uint64_t>(behind);
                s.next_due += s.interval * behind;
            }
        }
        next = std::min(next, s.next_due);
    }
    return next;
}

void Scheduler::run() {
    while (!stop_.load()) {
        TimePoint next = poll();
        if (stop_.load()) break;
        if (next == TimePoint::max()) next = clock_.now() + std::chrono::seconds(1);
        clock_.sleep_until(next);
    }
}

void Scheduler::stop() {
    stop_ = true;
    clock_.wake();
}

JobStats Scheduler::stats(JobId id) const {
    std::lock_guard lock(mu_);
    JobStats s = jobs_.at(id)->stats;
    s.running = jobs_.at(id)->running.load();
    return s;
}

const std::string& Scheduler::name(JobId id) const {
    std::lock_guard lock(mu_);
    return jobs_.at(id)->name;
}

std::size_t Scheduler::size() const {
    std::lock_guard lock(mu_);
    return jobs_.size();
}

}  // namespace dmvlog::sched
