// select_ring_events (agent/blocking/ring_buffer.h): what one read of a ring buffer adds after the bookmark.
#include "agent/blocking/ring_buffer.h"

#include <gtest/gtest.h>

namespace dmvlog::blocking {
namespace {

using Events = std::vector<RingEvent>;

RingEvent ev(std::int64_t ticks, std::int64_t hash) { return RingEvent{ticks, hash}; }

// Stores what a selection takes (by hash), as the store would, and returns the new bookmark.
RingBookmark apply(const Events& buffer, const RingBookmark& bm, std::vector<std::int64_t>& stored) {
    auto sel = select_ring_events(buffer, bm);
    for (auto i : sel.take) stored.push_back(buffer[i].hash);
    return sel.next;
}

TEST(RingBuffer, FirstReadTakesEverythingAndBookmarksTheNewestTime) {
    Events buf{ev(10, 1), ev(10, 2), ev(20, 3), ev(20, 4)};
    auto sel = select_ring_events(buf, {});
    EXPECT_EQ(sel.take, (std::vector<std::size_t>{0, 1, 2, 3}));
    EXPECT_EQ(sel.next.ticks, 20);
    EXPECT_EQ(sel.next.hashes, (std::vector<std::int64_t>{3, 4}));
    EXPECT_FALSE(sel.possible_loss);
}

TEST(RingBuffer, EventsSharingATimestampAcrossTwoReadsAreEachTakenOnce) {
    // read 1 sees two reports of the pass at t=20; the pass's third report is written after the read
    std::vector<std::int64_t> stored;
    auto bm = apply(Events{ev(10, 1), ev(20, 2), ev(20, 3)}, {}, stored);
    // read 2: the same buffer plus the late report at t=20 and a newer one
    bm = apply(Events{ev(10, 1), ev(20, 2), ev(20, 3), ev(20, 4), ev(30, 5)}, bm, stored);
    EXPECT_EQ(stored, (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
    EXPECT_EQ(bm.ticks, 30);
    EXPECT_EQ(bm.hashes, (std::vector<std::int64_t>{5}));
    // read 3: nothing new
    auto sel = select_ring_events(Events{ev(20, 4), ev(30, 5)}, bm);
    EXPECT_TRUE(sel.take.empty());
    EXPECT_EQ(sel.older, 1);
    EXPECT_EQ(sel.repeated, 1);
    EXPECT_EQ(sel.next, bm);
}

TEST(RingBuffer, GreaterOrEqualNotGreater) {
    // An event at exactly the bookmark's time that was not read before is taken (a '>' rule would lose it).
    RingBookmark bm{20, {2}};
    auto sel = select_ring_events(Events{ev(20, 2), ev(20, 7)}, bm);
    EXPECT_EQ(sel.take, (std::vector<std::size_t>{1}));
    EXPECT_EQ(sel.next.ticks, 20);
    EXPECT_EQ(sel.next.hashes, (std::vector<std::int64_t>{2, 7}));  // both are read at that time now
    EXPECT_EQ(sel.repeated, 1);
}

TEST(RingBuffer, AWrappedBufferTakesWhatIsNewAndSaysPossibleLoss) {
    std::vector<std::int64_t> stored;
    auto bm = apply(Events{ev(10, 1), ev(20, 2)}, {}, stored);
    // the buffer (max 3 events) wrapped: 10, 20 and whatever came between 20 and 40 are gone
    auto sel = select_ring_events(Events{ev(40, 4), ev(50, 5), ev(50, 6)}, bm);
    EXPECT_EQ(sel.take, (std::vector<std::size_t>{0, 1, 2}));
    EXPECT_TRUE(sel.possible_loss);
    EXPECT_EQ(sel.next.ticks, 50);
    EXPECT_EQ(sel.next.hashes, (std::vector<std::int64_t>{5, 6}));
}

TEST(RingBuffer, AWrapThatKeepsTheBookmarksTimeIsNoLoss) {
    // the oldest event left is at the bookmark's time: every later event is still there
    auto sel = select_ring_events(Events{ev(20, 3), ev(30, 4)}, RingBookmark{20, {2, 3}});
    EXPECT_FALSE(sel.possible_loss);
    EXPECT_EQ(sel.take, (std::vector<std::size_t>{1}));
}

TEST(RingBuffer, EmptyBufferKeepsTheBookmark) {
    RingBookmark bm{20, {2}};
    auto sel = select_ring_events({}, bm);
    EXPECT_TRUE(sel.take.empty());
    EXPECT_FALSE(sel.possible_loss);
    EXPECT_EQ(sel.next, bm);
}

TEST(RingBuffer, EventsWithoutATimestampAreOfferedAndDoNotMoveTheBookmark) {
    RingBookmark bm{20, {2}};
    Events buf{RingEvent{std::nullopt, 9}, ev(20, 2)};
    auto sel = select_ring_events(buf, bm);
    EXPECT_EQ(sel.take, (std::vector<std::size_t>{0}));
    EXPECT_EQ(sel.next, bm);
}

}  // namespace
}  // namespace dmvlog::blocking
