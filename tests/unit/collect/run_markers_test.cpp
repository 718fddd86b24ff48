#include "agent/collect/run_markers.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace dmvlog::collect {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class StateDir {
public:
    StateDir() {
        std::random_device rd;
        path_ = fs::temp_directory_path() / ("dmvlog_markers_" + std::to_string(::getpid()) + "_" + std::to_string(rd()));
    }
    ~StateDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

TEST(RunMarkers, AMarkerLivesWhileTheQueryRunsAndIsGoneAfter) {
    StateDir dir;
    RunMarkers m(dir.path());
    EXPECT_TRUE(fs::is_directory(dir.path() / "running"));
    EXPECT_TRUE(fs::is_directory(dir.path() / "quarantine"));
    struct stat st {};
    ASSERT_EQ(::stat((dir.path() / "running").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    EXPECT_TRUE(m.leftovers().empty());
    m.begin("prod-1", "wait_stats", "2024-05-01 10:00:00.0000000");
    ASSERT_TRUE(fs::exists(dir.path() / "running" / "prod-1@wait_stats"));
    auto left = m.leftovers();
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].instance, "prod-1");
    EXPECT_EQ(left[0].collector, "wait_stats");
    EXPECT_EQ(left[0].started_at, "2024-05-01 10:00:00.0000000");
    EXPECT_EQ(left[0].pid, static_cast<long>(::getpid()));
    EXPECT_EQ(left[0].boot_id, current_boot_id());
    m.end("prod-1", "wait_stats");
    EXPECT_TRUE(m.leftovers().empty());
    m.end("prod-1", "wait_stats");  // twice is harmless
}

TEST(RunMarkers, MarkersLeftBehindAreSeenByTheNextAgent) {
    StateDir dir;
    {
        RunMarkers died(dir.path());
        died.begin("a", "requests_5s", "t1");
        died.begin("b.x", "query_stats", "t2");
        died.begin("a", "file_io", "t3");
        died.end("a", "file_io");
    }
    // a half-written marker (the agent died while writing it) is not a run
    std::ofstream(dir.path() / "running" / "a@tasks.tmp") << "instance=a\n";
    std::ofstream(dir.path() / "running" / "no-separator") << "x";
    RunMarkers next(dir.path());
    auto left = next.leftovers();
    ASSERT_EQ(left.size(), 2u);
    EXPECT_EQ(left[0].instance, "a");
    EXPECT_EQ(left[0].collector, "requests_5s");
    EXPECT_EQ(left[1].instance, "b.x");
    EXPECT_EQ(left[1].collector, "query_stats");
    EXPECT_FALSE(fs::exists(dir.path() / "running" / "a@tasks.tmp"));
    next.discard(left[0]);
    ASSERT_EQ(next.leftovers().size(), 1u);
}

TEST(RunMarkers, QuarantineRecordsRoundTripAndAreForgotten) {
    StateDir dir;
    RunMarkers m(dir.path());
    EXPECT_FALSE(m.quarantine("a", "tasks"));
    QuarantineRecord r{"a", "tasks", 2h, 1'700'000'000'000, "the agent stopped\nwhile this query ran"};
    m.save(r);
    auto back = m.quarantine("a", "tasks");
    ASSERT_TRUE(back);
    EXPECT_EQ(back->length, 2h);
    EXPECT_EQ(back->until_unix_ms, 1'700'000'000'000);
    EXPECT_EQ(back->reason, "the agent stopped while this query ran") << "one line";
    m.save(QuarantineRecord{"b", "file_io", 1h, 5, "x"});
    auto all = RunMarkers(dir.path()).quarantines();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].instance, "a");
    EXPECT_EQ(all[1].collector, "file_io");
    m.forget("a", "tasks");
    EXPECT_FALSE(m.quarantine("a", "tasks"));
    EXPECT_EQ(m.quarantines().size(), 1u);
}

TEST(RunMarkers, AFolderThatCannotBeMadeIsNamed) {
    StateDir dir;
    fs::create_directories(dir.path());
    std::ofstream(dir.path() / "file") << "x";
    try {
        RunMarkers m(dir.path() / "file");
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("file/running"), std::string::npos) << e.what();
    }
}

TEST(NextQuarantine, StartsAtTheBaseAndDoublesUpToTheCap) {
    EXPECT_EQ(next_quarantine(std::nullopt, 1h), 1h);
    EXPECT_EQ(next_quarantine(1h, 1h), 2h);
    EXPECT_EQ(next_quarantine(2h, 1h), 4h);
    EXPECT_EQ(next_quarantine(16h, 1h), 24h);
    EXPECT_EQ(next_quarantine(24h, 1h), 24h);
    EXPECT_EQ(next_quarantine(std::nullopt, 0s), 0s) << "0s turns quarantine off";
    EXPECT_EQ(next_quarantine(1h, 0s), 0s);
    EXPECT_EQ(next_quarantine(std::nullopt, 48h), 48h) << "a base above the cap is kept";
    EXPECT_EQ(next_quarantine(48h, 48h), 48h);
    EXPECT_EQ(next_quarantine(30min, 1h), 1h) << "never shorter than the base";
    EXPECT_EQ(next_quarantine(std::nullopt, 1min, 3min), 1min);
    EXPECT_EQ(next_quarantine(2min, 1min, 3min), 3min);
}

}  // namespace
}  // namespace dmvlog::collect
