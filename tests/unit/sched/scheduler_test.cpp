#include "agent/sched/scheduler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <functional>
#include <stdexcept>
#include <thread>

namespace dmvlog::sched {
namespace {

using namespace std::chrono_literals;

// Holds submitted work until the test runs it, so a run can be kept "still going" across ticks.
class HeldExecutor final : public Executor {
public:
    void submit(std::function<void()> work) override { held.push_back(std::move(work)); }
    void run_all() {
        while (!held.empty()) {
            auto w = std::move(held.front());
            held.pop_front();
            w();
        }
    }
    std::deque<std::function<void()>> held;
};

TimePoint epoch() { return TimePoint(std::chrono::seconds(1'800'000'000)); }

TEST(Scheduler, RunsEachJobAtItsOwnIntervalForHoursOfFakeTime) {
    ManualClock clock(epoch());
    HeldExecutor exec;
    Scheduler s(clock, exec, 42);
    int fast = 0, slow = 0;
    auto f = s.add("requests_5s", 5s, 0s, [&] { ++fast; });
    auto g = s.add("requests_1m", 60s, 0s, [&] { ++slow; });
    // Three hours, polled every second.
    for (int i = 0; i <= 3 * 3600; ++i) {
        s.poll();
        exec.run_all();
        clock.advance(1s);
    }
    EXPECT_EQ(fast, 3 * 3600 / 5 + 1);
    EXPECT_EQ(slow, 3 * 60 + 1);
    EXPECT_EQ(s.stats(f).skipped_busy, 0u);
    EXPECT_EQ(s.stats(g).missed, 0u);
}

TEST(Scheduler, PollReturnsTheNextDueTime) {
    ManualClock clock(epoch());
    HeldExecutor exec;
    Scheduler s(clock, exec, 1);
    s.add("a", 5s, 0s, [] {});
    s.add("b", 7s, 0s, [] {});
    EXPECT_EQ(s.poll(), epoch() + 5s);
    clock.advance(5s);
    EXPECT_EQ(s.poll(), epoch() + 7s);
}

TEST(Scheduler, SkipsAndCountsATickWhileThePreviousRunIsStillGoing) {
    ManualClock clock(epoch());
    HeldExecutor exec;
    Scheduler s(clock, exec, 7);
    int runs = 0;
    auto id = s.add("slow", 5s, 0s, [&] { ++runs; });
    s.poll();                       // starts run 1 and holds it
    ASSERT_EQ(exec.held.size(), 1u);
    for (int i = 0; i < 3; ++i) {   // three more ticks while run 1 is still going
        clock.advance(5s);
        s.poll();
    }
    EXPECT_EQ(exec.held.size(), 1u) << "busy ticks must not be queued";
    EXPECT_EQ(s.stats(id).skipped_busy, 3u);
    EXPECT_TRUE(s.stats(id).running);
    exec.run_all();
    EXPECT_EQ(runs, 1);
    EXPECT_FALSE(s.stats(id).running);
    clock.advance(5s);
    s.poll();
    exec.run_all();
    EXPECT_EQ(runs, 2);
    EXPECT_EQ(s.stats(id).runs, 2u);
}

TEST(Scheduler, SplayStaysWithinItsBoundsAndSpreadsStarts) {
    ManualClock clock(epoch());
    HeldExecutor exec;
    Scheduler s(clock, exec, 12345);
    std::vector<Scheduler::JobId> ids;
    for (int i = 0; i < 200; ++i) ids.push_back(s.add("job", 60s, 10s, [] {}));
    TimePoint lo = TimePoint::max(), hi = TimePoint::min();
    for (auto id : ids) {
        auto first = s.stats(id).first_due;
        EXPECT_GE(first, epoch());
        EXPECT_LE(first, epoch() + 10s);
        lo = std::min(lo, first);
        hi = std::max(hi, first);
    }
    EXPECT_GT(hi - lo, 5s) << "200 jobs with a 10 s splay should not start together";
}

TEST(Scheduler, KeepsItsGridAndCountsMissedTicksAfterALongPause) {
    ManualClock clock(epoch());
    HeldExecutor exec;
    Scheduler s(clock, exec, 3);
    auto id = s.add("a", 10s, 0s, [] {});
    s.poll();
    exec.run_all();
    clock.advance(35s);   // e.g. the host was suspended: ticks at 10, 20, 30 were not seen
    s.poll();
    exec.run_all();
    auto st = s.stats(id);
    EXPECT_EQ(st.runs, 2u);
    EXPECT_EQ(st.missed, 2u);
    EXPECT_EQ(st.next_due, epoch() + 40s);
}

TEST(Scheduler, SetIntervalBacksAJobOff) {
    ManualClock clock(epoch());
    HeldExecutor exec;
    Scheduler s(clock, exec, 3);
    int runs = 0;
    auto id = s.add("a", 10s, 0s, [&] { ++runs; });
    s.poll();
    exec.run_all();
    s.set_interval(id, 60s);
    for (int i = 0; i < 120; ++i) {
        clock.advance(1s);
        s.poll();
        exec.run_all();
    }
    // First run at 0, next at 10 (already scheduled), then every 60 s: 70. (130 is beyond 120.)
    EXPECT_EQ(runs, 3);
}

TEST(Scheduler, AThrowingJobKeepsItsSchedule) {
    ManualClock clock(epoch());
    HeldExecutor exec;
    Scheduler s(clock, exec, 3);
    int calls = 0;
    auto id = s.add("a", 1s, 0s, [&] { ++calls; throw std::runtime_error("boom"); });
    for (int i = 0; i < 5; ++i) {
        s.poll();
        exec.run_all();
        clock.advance(1s);
    }
    EXPECT_EQ(calls, 5);
    EXPECT_FALSE(s.stats(id).running);
}

TEST(SystemClock, ScaledClockRunsFaster) {
    SystemClock fast(100.0);
    auto t0 = fast.now();
    std::this_thread::sleep_for(20ms);
    auto elapsed = fast.now() - t0;
    EXPECT_GE(elapsed, 1500ms);  // 20 ms x 100 = 2 s, with slack for the machine
    auto start = std::chrono::steady_clock::now();
    fast.sleep_until(fast.now() + 5s);   // 50 ms of wall time
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST(SystemClock, WakeEndsASleepEarly) {
    SystemClock clock;
    std::thread t([&] {
        std::this_thread::sleep_for(50ms);
        clock.wake();
    });
    auto start = std::chrono::steady_clock::now();
    bool reached = clock.sleep_until(clock.now() + 30s);
    t.join();
    EXPECT_FALSE(reached);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

}  // namespace
}  // namespace dmvlog::sched

namespace dmvlog::sched {
namespace {

TEST(Scheduler, TriggerMakesAJobDueNow) {
    ManualClock clock(TimePoint(std::chrono::seconds(1'800'000'000)));
    HeldExecutor exec;
    Scheduler s(clock, exec, 3);
    int runs = 0;
    auto id = s.add("server_info", std::chrono::hours(1), std::chrono::seconds(0), [&] { ++runs; });
    s.poll();
    exec.run_all();
    clock.advance(std::chrono::minutes(10));
    s.poll();
    exec.run_all();
    EXPECT_EQ(runs, 1);
    s.trigger(id);
    s.poll();
    exec.run_all();
    EXPECT_EQ(runs, 2);
}

}  // namespace
}  // namespace dmvlog::sched

namespace dmvlog::sched {
namespace {

TEST(Scheduler, HeartbeatRunsOnThePollingThreadAtTheFirstPollThenEveryPeriod) {
    ManualClock clock(TimePoint(std::chrono::seconds(1'800'000'000)));
    HeldExecutor exec;
    Scheduler s(clock, exec, 5);
    s.add("requests_1m", std::chrono::minutes(1), std::chrono::seconds(0), [] {});
    int beats = 0;
    std::thread::id beat_thread;
    s.set_heartbeat(std::chrono::seconds(15), [&] {
        ++beats;
        beat_thread = std::this_thread::get_id();
    });
    const auto start = clock.now();
    // The next due time is the heartbeat's (15 s), not the job's (60 s).
    EXPECT_EQ(s.poll(), start + std::chrono::seconds(15));
    EXPECT_EQ(beats, 1);
    EXPECT_EQ(beat_thread, std::this_thread::get_id());
    EXPECT_EQ(exec.held.size(), 1u) << "the job went to the executor; the heartbeat did not";
    clock.advance(std::chrono::seconds(14));
    s.poll();
    EXPECT_EQ(beats, 1);
    clock.advance(std::chrono::seconds(1));
    s.poll();
    EXPECT_EQ(beats, 2);
    // A loop that does not poll gives no heartbeat however much time passes.
    clock.advance(std::chrono::minutes(5));
    EXPECT_EQ(beats, 2);
    s.poll();
    EXPECT_EQ(beats, 3) << "one beat for a late poll, not one per period missed";
}

TEST(Scheduler, HeartbeatWakesRunWithoutAnyJobDue) {
    SystemClock clock;
    HeldExecutor exec;
    Scheduler s(clock, exec, 6);
    s.add("daily", std::chrono::hours(24), std::chrono::seconds(0), [] {});
    std::atomic<int> beats{0};
    s.set_heartbeat(std::chrono::milliseconds(20), [&] {
        if (++beats == 5) s.stop();
    });
    auto start = std::chrono::steady_clock::now();
    s.run();
    EXPECT_EQ(beats.load(), 5);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace dmvlog::sched
