// The store writer's retention accounting: what each collector's purge deleted, and "behind" when a pass is
// due while the previous one has not finished.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "agent/core/time_format.h"
#include "agent/store/sqlite_store.h"
#include "agent/store/writer.h"

namespace dmvlog::store {
namespace {

namespace fs = std::filesystem;

class WriterRetentionTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("dmvlog_writer_retention_" + std::to_string(::getpid()) + "_" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir);
        fs::create_directories(dir);
        store = std::make_unique<SqliteStore>((dir / "s.db").string(), std::chrono::milliseconds(5000));
        TableSpec t;
        t.name = "t_test";
        t.collector = "t_test";
        t.columns = {{"n", collect::StorageClass::integer}};
        store->install({t});
    }
    void TearDown() override {
        store.reset();
        fs::remove_all(dir);
    }
    Snapshot snapshot(const std::string& at) const {
        Snapshot s;
        s.instance = "sql1";
        s.collector = "t_test";
        s.table = "t_test";
        s.collected_at = *parse_timestamp(at);
        s.rows.push_back({Value{std::int64_t{1}}});
        s.rows.push_back({Value{std::int64_t{2}}});
        return s;
    }
    fs::path dir;
    std::unique_ptr<SqliteStore> store;
};

TEST_F(WriterRetentionTest, CountsWhatEachCollectorsPurgeDeletedAndIsNotBehindAfterAFinishedPass) {
    Writer w(*store);
    for (int i = 0; i < 45; ++i) w.submit(snapshot(fmt::format("2026-01-01 00:{:02}:00", i)), RunRecord{});
    w.submit(snapshot("2026-01-02 00:00:00"), RunRecord{});
    ASSERT_TRUE(w.flush(std::chrono::seconds(10)));
    const Timestamp cutoff = *parse_timestamp("2026-01-01 12:00:00");
    EXPECT_TRUE(store->oldest_before("t_test", "t_test", cutoff).has_value());
    w.submit_purge("t_test", "t_test", cutoff);
    ASSERT_TRUE(w.flush(std::chrono::seconds(10)));
    const auto st = w.stats();
    ASSERT_EQ(st.retention.count("t_test"), 1u);
    const auto& r = st.retention.at("t_test");
    EXPECT_EQ(r.snapshots, 45u) << "in steps of 20, one pass";
    EXPECT_EQ(r.rows, 90u);
    EXPECT_EQ(r.passes, 1u);
    EXPECT_FALSE(r.behind);
    EXPECT_FALSE(store->oldest_before("t_test", "t_test", cutoff).has_value());
    EXPECT_EQ(store->oldest_before("t_test", "t_test", *parse_timestamp("2026-01-03 00:00:00")),
              std::optional<std::string>("2026-01-02 00:00:00.0000000"));
}

TEST_F(WriterRetentionTest, APassDueWhileThePreviousHasNotFinishedIsBehind) {
    Writer w(*store);
    const Timestamp cutoff = *parse_timestamp("2026-01-01 12:00:00");
    // A table that is not installed: the purge fails and is retried (kept at the front of the queue), as when
    // the store cannot be written; the next pass then finds the previous one still there.
    w.submit_purge("stuck", "not_installed", cutoff);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    bool behind = false;
    while (!behind && std::chrono::steady_clock::now() < deadline) {
        if (w.stats().failures > 0) w.submit_purge("stuck", "not_installed", cutoff);
        behind = w.stats().retention["stuck"].behind;
        if (!behind) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(behind);
    EXPECT_FALSE(w.stats().last_error.empty());
    w.stop(std::chrono::milliseconds(0));
}

}  // namespace
}  // namespace dmvlog::store
