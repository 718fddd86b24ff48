#include "agent/core/backoff.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace dmvlog
