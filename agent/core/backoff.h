// Full-jitter exponential backoff: the n-th retry waits a random time in [floor, min(cap, base * 2^n)]
// (floor 0 unless given; a floor above the ceiling is the ceiling). The random draw is injectable (tests
// pin it); by default a seeded 64-bit Mersenne Twister.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>

namespace dmvlog {

class Backoff {
public:
    using Duration = std::chrono::milliseconds;
    // Returns a value in [0, ceiling] (milliseconds).
    using Draw = std::function<Duration::rep(Duration::rep ceiling)>;

    Backoff(Duration base = Duration(1000), Duration cap = Duration(60000), std::uint64_t seed = std::random_device{}())
        : base_(base), cap_(cap) {
        auto rng = std::make_shared<std::mt19937_64>(seed);
        draw_ = [rng](Duration::rep ceiling) {
            std::uniform_int_distribution<Duration::rep> dist(0, ceiling);
            return dist(*rng);
        };
    }
    Backoff(Duration base, Duration cap, Draw draw) : base_(base), cap_(cap), draw_(std::move(draw)) {}

    // Every wait is at least `floor` (at most the ceiling): for failures that a quick retry will not fix.
    Backoff& with_floor(Duration floor) {
        floor_ = std::max(floor, Duration(0));
        return *this;
    }

    // The wait before the next attempt; each call counts one more failure.
    Duration next() {
        const auto ceiling = ceiling_for(failures_);
        const auto floor = std::min(floor_, ceiling);
        ++failures_;
        const auto span = (ceiling - floor).count();
        return floor + Duration(std::clamp<Duration::rep>(draw_(span), 0, span));
    }
    // The upper bound of the wait after `failures` failures.
    Duration ceiling_for(int failures) const {
        const int shift = std::clamp(failures, 0, 30);
        const auto grown = base_.count() * (std::int64_t{1} << shift);
        return Duration(std::min<std::int64_t>(grown, cap_.count()));
    }
    void reset() { failures_ = 0; }
    int failures() const { return failures_; }

private:
    Duration base_, cap_;
    Duration floor_{0};
    int failures_ = 0;
    Draw draw_;
};

}  // namespace dmvlog
