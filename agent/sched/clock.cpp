#include "agent/sched/clock.h"

namespace dmvlog::sched {

SystemClock::SystemClock(double scale) : scale_(scale > 0 ? scale : 1.0), origin_(std::chrono::system_clock::now()) {}

TimePoint SystemClock::now() {
    auto wall = std::chrono::system_clock::now();
    if (scale_ == 1.0) return std::chrono::time_point_cast<Duration>(wall);
    auto elapsed = std::chrono::duration_cast<Duration>(wall - origin_);
    auto scaled = Duration(static_cast<Duration::rep>(static_cast<double>(elapsed.count()) * scale_));
    return std::chrono::time_point_cast<Duration>(origin_) + scaled;
}

bool SystemClock::sleep_until(TimePoint t) {
    std::unique_lock lock(mu_);
    for (;;) {
        if (woken_) {
            woken_ = false;
            return false;
        }
        auto current = now();
        if (current >= t) return true;
        auto wall_wait = Duration(static_cast<Duration::rep>(static_cast<double>((t - current).count()) / scale_));
        cv_.wait_for(lock, wall_wait);
    }
}

void SystemClock::wake() {
    {
        std::lock_guard lock(mu_);
        woken_ = true;
    }
    cv_.notify_all();
}

TimePoint ManualClock::now() {
    std::lock_guard lock(mu_);
    return now_;
}

bool ManualClock::sleep_until(TimePoint t) {
    std::lock_guard lock(mu_);
    return now_ >= t;
}

void ManualClock::advance(Duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
}

void ManualClock::set(TimePoint t) {
    std::lock_guard lock(mu_);
    now_ = t;
}

}  // namespace dmvlog::sched
