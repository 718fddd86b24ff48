#include "agent/core/backoff.h"

#include <gtest/gtest.h>

#include <vector>

namespace dmvlog {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, CeilingDoublesUpToTheCap) {
    Backoff b(milliseconds(100), milliseconds(1000), 1);
    EXPECT_EQ(b.ceiling_for(0), milliseconds(100));
    EXPECT_EQ(b.ceiling_for(1), milliseconds(200));
    EXPECT_EQ(b.ceiling_for(3), milliseconds(800));
    EXPECT_EQ(b.ceiling_for(4), milliseconds(1000));
    EXPECT_EQ(b.ceiling_for(60), milliseconds(1000));
}

TEST(Backoff, WaitsAreJitteredWithinTheCeiling) {
    Backoff b(milliseconds(100), milliseconds(5000), 7);
    milliseconds lo = milliseconds::max(), hi = milliseconds::zero();
    for (int i = 0; i < 200; ++i) {
        int failures = b.failures();
        auto w = b.next();
        EXPECT_GE(w, milliseconds(0));
        EXPECT_LE(w, b.ceiling_for(failures));
        if (failures >= 6) {
            lo = std::min(lo, w);
            hi = std::max(hi, w);
        }
    }
    EXPECT_GT(hi - lo, milliseconds(1000)) << "full jitter spreads retries over the whole range";
    b.reset();
    EXPECT_EQ(b.failures(), 0);
    EXPECT_LE(b.next(), milliseconds(100));
}


// With the random source pinned, the wait is exactly draw(min(cap, base * 2^n)): the top of the range when
// the draw returns its ceiling, zero when it returns 0, and never above the cap however many failures.
TEST(Backoff, InjectedDrawSeesTheCappedExponentialCeiling) {
    std::vector<long long> ceilings;
    Backoff top(milliseconds(100), milliseconds(1000), [&](long long c) {
        ceilings.push_back(c);
        return c;
    });
    std::vector<long long> waits;
    for (int i = 0; i < 8; ++i) waits.push_back(top.next().count());
    EXPECT_EQ(waits, (std::vector<long long>{100, 200, 400, 800, 1000, 1000, 1000, 1000}));
    EXPECT_EQ(ceilings, waits);
    Backoff bottom(milliseconds(100), milliseconds(1000), [](long long) { return 0LL; });
    for (int i = 0; i < 5; ++i) EXPECT_EQ(bottom.next(), milliseconds(0));
    // A draw out of range is clamped into [0, ceiling].
    Backoff wild(milliseconds(100), milliseconds(1000), [](long long c) { return c * 10; });
    EXPECT_EQ(wild.next(), milliseconds(100));
    Backoff negative(milliseconds(100), milliseconds(1000), [](long long) { return -5LL; });
    EXPECT_EQ(negative.next(), milliseconds(0));
    top.reset();
    EXPECT_EQ(top.next(), milliseconds(100)) << "a success starts the exponent again";
}

// With a floor, every wait lies in [floor, ceiling]: the draw spreads over what is above the floor, and a
// floor above the ceiling is the ceiling (the refused-login backoff of collect/source.h: 30 s, 30 s x 2^n).
TEST(Backoff, AFloorKeepsEveryWaitLongEnough) {
    std::vector<long long> spans;
    Backoff low(milliseconds(300), milliseconds(2000), [&](long long span) {
        spans.push_back(span);
        return 0LL;
    });
    low.with_floor(milliseconds(300));
    std::vector<long long> waits;
    for (int i = 0; i < 5; ++i) waits.push_back(low.next().count());
    EXPECT_EQ(waits, (std::vector<long long>{300, 300, 300, 300, 300})) << "the lowest draw waits the floor";
    EXPECT_EQ(spans, (std::vector<long long>{0, 300, 900, 1700, 1700})) << "the draw covers [floor, ceiling]";
    Backoff high(milliseconds(300), milliseconds(2000), [](long long span) { return span; });
    high.with_floor(milliseconds(300));
    waits.clear();
    for (int i = 0; i < 5; ++i) waits.push_back(high.next().count());
    EXPECT_EQ(waits, (std::vector<long long>{300, 600, 1200, 2000, 2000})) << "the highest draw waits the ceiling";
    Backoff above(milliseconds(100), milliseconds(1000), [](long long span) { return span; });
    above.with_floor(milliseconds(5000));
    EXPECT_EQ(above.next(), milliseconds(100)) << "a floor above the ceiling is the ceiling";
    Backoff seeded(milliseconds(30000), milliseconds(600000), 11);
    seeded.with_floor(milliseconds(30000));
    for (int i = 0; i < 50; ++i) {
        const int failures = seeded.failures();
        const auto w = seeded.next();
        EXPECT_GE(w, milliseconds(30000));
        EXPECT_LE(w, seeded.ceiling_for(failures));
    }
}

}  // namespace
}  // namespace dmvlog
