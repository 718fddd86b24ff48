// Full-jitter exponential backoff: the n-th retry waits a random time in [0, min(cap, base * 2^n)].
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace dmvlog {

class Backoff {
public:
    using Duration = std::chrono::milliseconds;

    Backoff(Duration base = Duration(1000), Duration cap = Duration(60000), std::uint64_t seed = std::random_device{}())
        : base_(base), cap_(cap), rng_(seed) {}

    // The wait before the next attempt; each call counts one more failure.
    Duration next() {
        const auto ceiling = ceiling_for(failures_);
        ++failures_;
        std::uniform_int_distribution<Duration::rep> dist(0, ceiling.count());
        return Duration(dist(rng_));
    }
    // The upper bound of the wait after `failures` failures.
    Duration ceiling_for(int failures) const {
        const int shift = std::min(failures, 30);
        const auto grown = base_.count() * (std::int64_t{1} << shift);
        return Duration(std::min<std::int64_t>(grown, cap_.count()));
    }
    void reset() { failures_ = 0; }
    int failures() const { return failures_; }

private:
    Duration base_, cap_;
    int failures_ = 0;
    std::mt19937_64 rng_;
};

}  // namespace dmvlog
