// The store writer with a spool, against a real SQLite store made unwritable by another connection's
// exclusive lock (what a second process, a backup or a long transaction does to the agent).
#include "agent/store/writer.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "agent/store/sqlite_store.h"

namespace dmvlog::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class WriterTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("dmvlog_writer_test_" + std::to_string(::getpid()) + "_" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir);
        fs::create_directories(dir);
        db = (dir / "store.db").string();
        store = std::make_unique<SqliteStore>(db, 50ms);
        store->install({spec()});
    }
    void TearDown() override {
        unlock();
        store.reset();
        fs::remove_all(dir);
    }

    static TableSpec spec() {
        TableSpec t;
        t.name = "waits_test";
        t.collector = "waits_test";
        t.columns = {{"wait_type", collect::StorageClass::text}, {"wait_ms", collect::StorageClass::integer}};
        return t;
    }
    static Snapshot snapshot(int n) {
        Snapshot s;
        s.instance = "prod1";
        s.collector = "waits_test";
        s.table = "waits_test";
        s.collected_at = Timestamp{17'000'000'000'000'000LL + n * 10'000'000LL, 0, false};
        s.rows.push_back({Value{std::string("LCK_M_X")}, Value{std::int64_t{n}}});
        return s;
    }
    static RunRecord run(int n) {
        return RunRecord{"prod1", "waits_test", snapshot(n).collected_at, 1.0, 1, 10, "ok", "", ""};
    }
    std::unique_ptr<Spool> spool() const {
        Spool::Options o;
        o.dir = dir / "spool";
        return std::make_unique<Spool>(o);
    }

    // Another connection takes the database's exclusive lock: the store's writes fail with "database is locked".
    void lock() {
        ASSERT_EQ(sqlite3_open(db.c_str(), &locker), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(locker, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
    }
    void unlock() {
        if (!locker) return;
        sqlite3_exec(locker, "ROLLBACK", nullptr, nullptr, nullptr);
        sqlite3_close(locker);
        locker = nullptr;
    }
    long long scalar(const std::string& sql) {
        sqlite3* c = nullptr;
        sqlite3_open_v2(db.c_str(), &c, SQLITE_OPEN_READONLY, nullptr);
        sqlite3_stmt* st = nullptr;
        long long v = -1;
        if (sqlite3_prepare_v2(c, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(c);
        return v;
    }
    static bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
        const auto until = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < until) {
            if (done()) return true;
            std::this_thread::sleep_for(10ms);
        }
        return done();
    }

    fs::path dir;
    std::string db;
    std::unique_ptr<SqliteStore> store;
    sqlite3* locker = nullptr;
};

TEST_F(WriterTest, WhileTheStoreIsLockedSnapshotsGoToTheSpoolAndLandInOrderAfter) {
    Writer writer(*store, spool());
    writer.submit(snapshot(0), run(0));
    ASSERT_TRUE(writer.flush(5s));
    lock();
    for (int i = 1; i <= 20; ++i) writer.submit(snapshot(i), run(i));
    writer.submit(RunRecord{"prod1", "waits_test", snapshot(21).collected_at, 1.0, 0, 0, "failed", "timeout", "t"});
    ASSERT_TRUE(wait_until([&] { return writer.stats().spool_records == 21; }))
        << "spooled: " << writer.stats().spool_records << ", in memory: " << writer.stats().queued;
    EXPECT_FALSE(writer.flush(100ms));
    EXPECT_GT(writer.stats().failures, 0u);
    EXPECT_EQ(writer.stats().queued, 0u) << "what the store refused waits on disk, not in memory";
    EXPECT_GT(writer.stats().spool_bytes, 0u);
    unlock();
    ASSERT_TRUE(writer.flush(30s)) << writer.stats().last_error;
    auto st = writer.stats();
    EXPECT_EQ(st.written, 21u);
    EXPECT_EQ(st.runs, 1u);
    EXPECT_EQ(st.spool_records, 0u);
    EXPECT_EQ(st.spool_bytes, 0u);
    EXPECT_EQ(scalar("SELECT count(*) FROM snapshots"), 21);
    EXPECT_EQ(scalar("SELECT count(*) FROM waits_test"), 21);
    EXPECT_EQ(scalar("SELECT count(*) FROM collector_runs"), 22);
    // Written in the order collected: snapshot ids grow with collected_at.
    EXPECT_EQ(scalar("SELECT count(*) FROM snapshots a JOIN snapshots b ON a.rowid < b.rowid AND a.collected_at > b.collected_at"), 0);
}

TEST_F(WriterTest, AStopWhileTheStoreIsLockedKeepsEverythingForTheNextStart) {
    lock();
    {
        Writer writer(*store, spool());
        for (int i = 0; i < 10; ++i) writer.submit(snapshot(i), run(i));
        ASSERT_TRUE(wait_until([&] { return writer.stats().failures > 0; }));
        writer.stop(0ms);
        EXPECT_EQ(writer.stats().spool_records, 10u);
    }
    unlock();
    Writer writer(*store, spool());   // the next start replays the spool
    ASSERT_TRUE(writer.flush(30s)) << writer.stats().last_error;
    EXPECT_EQ(writer.stats().written, 10u);
    EXPECT_EQ(scalar("SELECT count(*) FROM snapshots"), 10);
}

TEST_F(WriterTest, AStopWhileTheStoreIsLockedDoesNotWaitForPurges) {
    lock();
    Writer writer(*store, spool());
    writer.submit(snapshot(1), run(1));
    ASSERT_TRUE(wait_until([&] { return writer.stats().spool_records == 1; }));
    writer.submit_purge("waits_test", "waits_test", snapshot(0).collected_at);
    writer.submit(snapshot(2), run(2));
    const auto t0 = std::chrono::steady_clock::now();
    writer.stop(5s);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << "with a spool, a stop does not wait for a failing store";
    EXPECT_EQ(writer.stats().spool_records, 2u);
    EXPECT_EQ(writer.stats().queued, 0u) << "a purge step left at stop is dropped (the next start submits it again)";
}

TEST_F(WriterTest, ARetentionStepThatFailsFirstDoesNotHoldTheSnapshotsBehindItInMemory) {
    // The retention pass comes due just as the store locks: its step is put off, the snapshots go to the spool.
    lock();
    Writer writer(*store, spool());
    writer.submit_purge("waits_test", "waits_test", snapshot(0).collected_at);
    for (int i = 1; i <= 5; ++i) writer.submit(snapshot(i), run(i));
    ASSERT_TRUE(wait_until([&] { return writer.stats().spool_records == 5; }))
        << "spooled: " << writer.stats().spool_records << ", in memory: " << writer.stats().queued;
    EXPECT_LE(writer.stats().queued, 1u) << "only the retention step may wait in memory";
    unlock();
    ASSERT_TRUE(writer.flush(30s)) << writer.stats().last_error;
    EXPECT_EQ(scalar("SELECT count(*) FROM snapshots"), 5);
}

TEST_F(WriterTest, WithASpoolASnapshotIsOnDiskBeforeSubmitReturns) {
    // Write-ahead: a kill -9 right after submit() (the store slow or locked) loses nothing.
    lock();
    Writer writer(*store, spool());
    writer.submit(snapshot(1), run(1));
    EXPECT_EQ(writer.stats().spool_records, 1u) << "appended (fdatasync) by submit itself";
    writer.submit(snapshot(2), run(2));
    EXPECT_EQ(writer.stats().spool_records, 2u);
    EXPECT_EQ(writer.stats().queued, 0u);
    unlock();
    ASSERT_TRUE(writer.flush(30s)) << writer.stats().last_error;
    EXPECT_EQ(writer.stats().spool_records, 0u) << "acknowledged once committed";
    EXPECT_EQ(scalar("SELECT count(*) FROM snapshots"), 2);
}

TEST_F(WriterTest, ASpooledSnapshotTheStoreAlreadyHasLandsOnce) {
    // A kill -9 between the store's commit and the spool's acknowledgement: the record is replayed.
    ASSERT_TRUE(store->write(snapshot(1), run(1)));
    {
        auto s = spool();
        s->append(SpoolRecord{snapshot(1), run(1)});
        s->append(SpoolRecord{snapshot(2), run(2)});
    }
    Writer writer(*store, spool());
    ASSERT_TRUE(writer.flush(30s)) << writer.stats().last_error;
    EXPECT_EQ(writer.stats().duplicates, 1u);
    EXPECT_EQ(writer.stats().written, 1u);
    EXPECT_EQ(scalar("SELECT count(*) FROM snapshots"), 2);
    EXPECT_EQ(scalar("SELECT count(*) FROM waits_test"), 2);
    EXPECT_EQ(scalar("SELECT count(*) FROM collector_runs"), 2);
}

TEST_F(WriterTest, TheSpooledPartsOfASnapshotReplayedAfterACrashLandOnceAndWhole) {
    // A large answer in three parts; the first two reached the store before a kill -9 that left all three in the
    // spool (the head not yet moved past them).
    auto part = [](int offset, bool last) {
        Snapshot s = snapshot(1);
        s.rows.clear();
        for (int i = 0; i < 2; ++i) s.rows.push_back({Value{std::string("LCK_M_X")}, Value{std::int64_t{offset + i}}});
        s.part_offset = offset;
        RunRecord r;   // the run goes with the last part
        if (last) r = RunRecord{"prod1", "waits_test", snapshot(1).collected_at, 1.0, 6, 60, "ok", "", ""};
        return SpoolRecord{std::move(s), std::move(r)};
    };
    ASSERT_TRUE(store->write(*part(0, false).snapshot, part(0, false).run));
    ASSERT_TRUE(store->write(*part(2, false).snapshot, part(2, false).run));
    {
        auto s = spool();
        for (int offset : {0, 2, 4}) s->append(part(offset, offset == 4));
    }
    Writer writer(*store, spool());
    ASSERT_TRUE(writer.flush(30s)) << writer.stats().last_error;
    EXPECT_EQ(writer.stats().duplicates, 2u);
    EXPECT_EQ(writer.stats().written, 1u);
    EXPECT_EQ(scalar("SELECT count(*) FROM snapshots"), 1);
    EXPECT_EQ(scalar("SELECT row_count FROM snapshots"), 6);
    EXPECT_EQ(scalar("SELECT count(*) FROM waits_test"), 6);
    EXPECT_EQ(scalar("SELECT count(DISTINCT wait_ms) FROM waits_test"), 6) << "each row once";
    EXPECT_EQ(scalar("SELECT count(*) FROM collector_runs"), 1);
}

TEST_F(WriterTest, ReplaySpeed) {
    // Figures for docs/benchmarks.md ("Store faults"): appending to the spool and replaying it into SQLite.
    constexpr int kRecords = 1000;
    auto s = spool();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kRecords; ++i) s->append(SpoolRecord{snapshot(i), run(i)});
    const auto t1 = std::chrono::steady_clock::now();
    s.reset();
    Writer writer(*store, spool());
    ASSERT_TRUE(writer.flush(120s)) << writer.stats().last_error;
    const auto t2 = std::chrono::steady_clock::now();
    EXPECT_EQ(writer.stats().written, static_cast<std::uint64_t>(kRecords));
    EXPECT_EQ(scalar("SELECT count(*) FROM snapshots"), kRecords);
    const double append_s = std::chrono::duration<double>(t1 - t0).count();
    const double replay_s = std::chrono::duration<double>(t2 - t1).count();
    std::printf("[ figures  ] spool append (fdatasync each): %.0f records/s; replay into SQLite: %.0f records/s\n",
                kRecords / append_s, kRecords / replay_s);
}

TEST_F(WriterTest, WithoutASpoolFailedWritesWaitInMemory) {
    Writer writer(*store);
    lock();
    for (int i = 0; i < 5; ++i) writer.submit(snapshot(i), run(i));
    ASSERT_TRUE(wait_until([&] { return writer.stats().failures > 0; }));
    EXPECT_EQ(writer.stats().spool_records, 0u);
    EXPECT_GE(writer.stats().queued, 4u);
    unlock();
    ASSERT_TRUE(writer.flush(30s));
    EXPECT_EQ(scalar("SELECT count(*) FROM snapshots"), 5);
}

TEST_F(WriterTest, ASnapshotTheSpoolCannotTakeWaitsInMemoryWhole) {
    // A spool too small for this snapshot: the append fails in submit and again each time the writer tries to
    // spill it while the store is locked; the snapshot must come through those failures with every row.
    Spool::Options o;
    o.dir = dir / "spool";
    o.max_bytes = 4096;
    Writer writer(*store, std::make_unique<Spool>(o));
    Snapshot big = snapshot(1);
    big.rows.clear();
    for (int i = 0; i < 200; ++i) big.rows.push_back({Value{std::string(40, 'w')}, Value{std::int64_t{i}}});
    lock();
    writer.submit(big, run(1));
    ASSERT_TRUE(wait_until([&] { return writer.stats().failures >= 2; }));   // spilled (and failed) since
    EXPECT_EQ(writer.stats().spool_records, 0u);
    unlock();
    ASSERT_TRUE(writer.flush(30s));
    EXPECT_EQ(scalar("SELECT count(*) FROM waits_test"), 200);
    EXPECT_EQ(scalar("SELECT row_count FROM snapshots"), 200);
}

}  // namespace
}  // namespace dmvlog::store
