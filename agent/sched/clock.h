// Time for the scheduler, injectable: the real clock (optionally running X times faster, for tests and the
// demo) or a manual clock that tests advance by hand.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace dmvlog::sched {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::time_point<std::chrono::system_clock, Duration>;

class Clock {
public:
    virtual ~Clock() = default;
    virtual TimePoint now() = 0;
    // Waits until now() >= t or wake() is called. Returns true if t was reached.
    virtual bool sleep_until(TimePoint t) = 0;
    // Ends a sleep_until early (shutdown, reload).
    virtual void wake() = 0;
    // How much faster than wall time this clock runs (1 = real time).
    virtual double scale() const { return 1.0; }
};

// Wall clock, optionally scaled: now() = origin + (wall - origin) * scale.
class SystemClock final : public Clock {
public:
    explicit SystemClock(double scale = 1.0);
    TimePoint now() override;
    bool sleep_until(TimePoint t) override;
    void wake() override;
    double scale() const override { return scale_; }

private:
    double scale_;
    std::chrono::system_clock::time_point origin_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool woken_ = false;
};

// A clock that only moves when told to: sleep_until returns false at once unless the time was reached.
class ManualClock final : public Clock {
public:
    explicit ManualClock(TimePoint start) : now_(start) {}
    TimePoint now() override;
    bool sleep_until(TimePoint t) override;
    void wake() override {}
    void advance(Duration d);
    void set(TimePoint t);

private:
    std::mutex mu_;
    TimePoint now_;
};

}  // namespace dmvlog::sched
