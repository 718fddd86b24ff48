#include "agent/store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <optional>
#include <fmt/format.h>

#include "agent/core/time_format.h"

namespace dmvlog::store {
namespace {

namespace fs = std::filesystem;

class SqliteStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("dmvlog_store_test_" + std::to_string(::getpid()) + "_" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir);
        path = (dir / "sub" / "store.db").string();
    }
    void TearDown() override { fs::remove_all(dir); }

    static TableSpec spec() {
        TableSpec t;
        t.name = "requests_test";
        t.collector = "requests_test";
        t.columns = {{"session_id", collect::StorageClass::integer},
                     {"wait_type", collect::StorageClass::text},
                     {"start_time", collect::StorageClass::timestamp},
                     {"query_hash", collect::StorageClass::blob},
                     {"batch_text_hash", collect::StorageClass::integer}};
        return t;
    }

    static Snapshot snapshot(const std::string& at) {
        Snapshot s;
        s.instance = "prod1";
        s.collector = "requests_test";
        s.table = "requests_test";
        s.collected_at = *parse_timestamp(at);
        s.utc_offset_minutes = 540;
        auto h = text_hash("SELECT 1");
        s.rows.push_back({Value{std::int64_t{51}}, Value{std::string("LCK_M_X")},
                          Value{*parse_timestamp("2026-11-23 10:00:00.1234567")},
                          Value{Bytes{0x01, 0x02, 0xff}}, Value{h}});
        s.rows.push_back({Value{std::int64_t{52}}, Value{}, Value{}, Value{}, Value{h}});
        s.texts.push_back({h, "SELECT 1"});
        return s;
    }

    static RunRecord run() {
        RunRecord r;
        r.instance = "prod1";
        r.collector = "requests_test";
        r.started_at = *parse_timestamp("2026-11-23 10:00:01");
        r.duration_ms = 12.5;
        r.rows = 2;
        r.bytes = 100;
        r.status = "ok";
        return r;
    }

    long long count(SqliteStore& s, const std::string& sql) {
        sqlite3_stmt* st = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(s.handle(), sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
        long long n = -1;
        if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return n;
    }

    fs::path dir;
    std::string path;
};

TEST_F(SqliteStoreTest, CreatesFolderSchemaAndWalMode) {
    SqliteStore s(path);
    EXPECT_EQ(s.schema_version(), 0);
    s.install({spec()});
    EXPECT_GE(s.schema_version(), 1);
    EXPECT_TRUE(fs::exists(path));
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(s.handle(), "PRAGMA journal_mode", -1, &st, nullptr);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
    sqlite3_finalize(st);
    EXPECT_EQ(count(s, "SELECT count(*) FROM collector_tables WHERE table_name='requests_test'"), 1);
}

TEST_F(SqliteStoreTest, WritesRowsWithOneTimestampAndTextOnce) {
    SqliteStore s(path);
    s.install({spec()});
    EXPECT_TRUE(s.write(snapshot("2026-11-23 10:00:00.5000000"), run()));
    EXPECT_TRUE(s.write(snapshot("2026-11-23 10:00:05.5000000"), run()));
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test"), 4);
    EXPECT_EQ(count(s, "SELECT count(DISTINCT collected_at) FROM requests_test"), 2);
    EXPECT_EQ(count(s, "SELECT count(*) FROM sql_text"), 1) << "text is stored once";
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test WHERE wait_type IS NULL AND start_time IS NULL"), 2);
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test WHERE start_time = '2026-11-23 10:00:00.1234567'"), 2);
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test WHERE utc_offset_minutes = 540"), 4);
    EXPECT_EQ(count(s, "SELECT length(query_hash) FROM requests_test WHERE session_id = 51 LIMIT 1"), 3);
    EXPECT_EQ(count(s, "SELECT count(*) FROM collector_runs"), 2);
}

TEST_F(SqliteStoreTest, ASnapshotWrittenTwiceLandsOnce) {
    SqliteStore s(path);
    s.install({spec()});
    EXPECT_TRUE(s.write(snapshot("2026-11-23 10:00:00"), run()));
    EXPECT_FALSE(s.write(snapshot("2026-11-23 10:00:00"), run()));
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test"), 2);
    EXPECT_EQ(count(s, "SELECT count(*) FROM snapshots"), 1);
    EXPECT_EQ(count(s, "SELECT count(*) FROM collector_runs"), 1);
}

TEST_F(SqliteStoreTest, ASnapshotInPartsLandsWholeOnceAndAReplayedPartIsNotWrittenAgain) {
    SqliteStore s(path);
    s.install({spec()});
    auto first = snapshot("2026-11-23 10:00:00");      // rows 0-1, with the text
    auto second = snapshot("2026-11-23 10:00:00");     // rows 2-3, the text already sent
    second.part_offset = 2;
    second.texts.clear();
    auto last = snapshot("2026-11-23 10:00:00");       // rows 4-5 and the run
    last.part_offset = 4;
    last.texts.clear();
    EXPECT_TRUE(s.write(first, RunRecord{}));
    EXPECT_TRUE(s.write(second, RunRecord{}));
    EXPECT_EQ(count(s, "SELECT row_count FROM snapshots"), 4) << "the snapshots row counts the rows written so far";
    EXPECT_FALSE(s.write(second, RunRecord{})) << "a replayed part";
    EXPECT_FALSE(s.write(first, RunRecord{})) << "a replayed first part";
    EXPECT_TRUE(s.write(last, run()));
    EXPECT_FALSE(s.write(last, run()));
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test"), 6);
    EXPECT_EQ(count(s, "SELECT count(DISTINCT collected_at) FROM requests_test"), 1);
    EXPECT_EQ(count(s, "SELECT count(*) FROM snapshots"), 1);
    EXPECT_EQ(count(s, "SELECT row_count FROM snapshots"), 6);
    EXPECT_EQ(count(s, "SELECT count(*) FROM collector_runs"), 1) << "the run comes with the last part only";
    EXPECT_EQ(count(s, "SELECT count(*) FROM sql_text"), 1);
}

TEST_F(SqliteStoreTest, APartWhoseEarlierPartsAreMissingStillLands) {
    SqliteStore s(path);
    s.install({spec()});
    auto third = snapshot("2026-11-23 10:00:00");
    third.part_offset = 4;      // parts 0-3 lost (a damaged spool record)
    EXPECT_TRUE(s.write(third, run()));
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test"), 2);
    EXPECT_EQ(count(s, "SELECT row_count FROM snapshots"), 6);
    EXPECT_FALSE(s.write(third, run()));
    // A later part after a gap extends it.
    auto fifth = snapshot("2026-11-23 10:00:00");
    fifth.part_offset = 8;
    EXPECT_TRUE(s.write(fifth, RunRecord{}));
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test"), 4);
    EXPECT_EQ(count(s, "SELECT row_count FROM snapshots"), 10);
}

TEST_F(SqliteStoreTest, AFailedWriteLeavesNothingBehind) {
    SqliteStore s(path);
    s.install({spec()});
    auto snap = snapshot("2026-11-23 10:00:00");
    snap.table = "not_installed";
    EXPECT_THROW(s.write(snap, run()), StoreError);
    EXPECT_EQ(count(s, "SELECT count(*) FROM snapshots"), 0);
}

TEST_F(SqliteStoreTest, InstallAddsColumnsNewlyDeclaredAndKeepsData) {
    {
        SqliteStore s(path);
        s.install({spec()});
        s.write(snapshot("2026-11-23 10:00:00"), run());
    }
    SqliteStore s(path);
    auto t = spec();
    t.columns.push_back({"dop", collect::StorageClass::integer});
    s.install({t});
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test WHERE dop IS NULL"), 2);
    EXPECT_EQ(count(s, "SELECT max(version) FROM schema_version"), s.schema_version());
}

TEST_F(SqliteStoreTest, RunSummariesGivePercentilesAndLastStatus) {
    SqliteStore s(path);
    s.install({spec()});
    for (int i = 1; i <= 20; ++i) {
        auto r = run();
        r.started_at.utc_ticks += i * kTicksPerSecond;
        r.duration_ms = i;
        r.status = i == 20 ? "failed" : "ok";
        r.error = i == 20 ? "boom" : "";
        s.record_run(r);
    }
    auto sums = s.run_summaries();
    ASSERT_EQ(sums.size(), 1u);
    EXPECT_EQ(sums[0].runs, 20);
    EXPECT_EQ(sums[0].failures, 1);
    EXPECT_EQ(sums[0].last_status, "failed");
    EXPECT_EQ(sums[0].last_error, "boom");
    EXPECT_NEAR(sums[0].p50_ms, 11, 1);
    EXPECT_NEAR(sums[0].p95_ms, 19, 1);
}

TEST_F(SqliteStoreTest, DdlPrintsCoreAndCollectorTables) {
    auto ddl = SqliteStore::ddl({spec()});
    EXPECT_NE(ddl.find("CREATE TABLE IF NOT EXISTS snapshots"), std::string::npos);
    EXPECT_NE(ddl.find("CREATE TABLE IF NOT EXISTS dictionary"), std::string::npos);
    EXPECT_NE(ddl.find("CREATE TABLE IF NOT EXISTS \"requests_test_data\""), std::string::npos);
    EXPECT_NE(ddl.find("CREATE VIEW \"requests_test\""), std::string::npos);
    EXPECT_NE(ddl.find("\"batch_text_hash\" INTEGER"), std::string::npos);
    EXPECT_NE(ddl.find("\"start_time\" INTEGER"), std::string::npos) << "times are ticks in the rows";
}

// The same table with names and handles through the dictionary, as table_spec() declares them.
TableSpec dense_spec() {
    TableSpec t;
    t.name = "requests_test";
    t.collector = "requests_test";
    t.columns = {{"session_id", collect::StorageClass::integer},
                 {"wait_type", collect::StorageClass::text, true},
                 {"start_time", collect::StorageClass::timestamp},
                 {"plan_handle", collect::StorageClass::blob, true},
                 {"batch_text_hash", collect::StorageClass::integer}};
    return t;
}

TEST_F(SqliteStoreTest, RowsKeepSnapshotIdsTicksAndDictionaryIdsAndTheViewGivesTheValuesBack) {
    SqliteStore s(path);
    s.install({dense_spec()});
    const auto h = text_hash("SELECT 1");
    for (int k = 0; k < 3; ++k) {
        auto snap = snapshot(fmt::format("2026-11-23 10:00:0{}.5000000", k));
        snap.rows = {{Value{std::int64_t{51}}, Value{std::string("LCK_M_X")}, Value{*parse_timestamp("2026-11-23 10:00:00.1234567")},
                      Value{Bytes(64, 0xAB)}, Value{h}},
                     {Value{std::int64_t{52}}, Value{std::string("PAGEIOLATCH_SH")}, Value{*parse_timestamp("1900-01-01 00:00:00.0000001")},
                      Value{Bytes(64, 0xCD)}, Value{}},
                     {Value{std::int64_t{53}}, Value{}, Value{}, Value{}, Value{}}};
        ASSERT_TRUE(s.write(snap, run()));
    }
    // Stored densely: each name and handle once, rows by snapshot id, times as 100 ns ticks.
    EXPECT_EQ(count(s, "SELECT count(*) FROM dictionary"), 4);
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test_data"), 9);
    EXPECT_EQ(count(s, "SELECT count(DISTINCT snapshot_id) FROM requests_test_data"), 3);
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test_data WHERE typeof(wait_type) = 'integer'"), 6);
    EXPECT_EQ(count(s, "SELECT start_time FROM requests_test_data WHERE session_id = 51 LIMIT 1"),
              parse_timestamp("2026-11-23 10:00:00.1234567")->utc_ticks);
    // The view: the declared shape with the values as they were written.
    std::string ab64;
    for (int i = 0; i < 64; ++i) ab64 += "AB";
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test WHERE instance = 'prod1' AND utc_offset_minutes = 540"), 9);
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test WHERE collected_at = '2026-11-23 10:00:01.5000000'"), 3);
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test WHERE wait_type = 'LCK_M_X' AND "
                       "start_time = '2026-11-23 10:00:00.1234567' AND plan_handle = x'" + ab64 + "'"),
              3);
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test WHERE typeof(plan_handle) = 'blob' AND length(plan_handle) = 64"), 6);
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test WHERE start_time = '1900-01-01 00:00:00.0000001'"), 3)
        << "a time before 1970";
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test WHERE session_id = 53 AND wait_type IS NULL AND "
                       "start_time IS NULL AND plan_handle IS NULL AND batch_text_hash IS NULL"),
              3);
}

TEST_F(SqliteStoreTest, ANameAddedByAWriteThatFailedIsAddedAgainByTheNextWrite) {
    SqliteStore s(path);
    s.install({dense_spec()});
    ASSERT_EQ(sqlite3_exec(s.handle(),
                           "CREATE TRIGGER boom BEFORE INSERT ON requests_test_data WHEN NEW.session_id = 99 "
                           "BEGIN SELECT RAISE(ABORT, 'boom'); END",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    auto snap = snapshot("2026-11-23 10:00:00");
    snap.rows = {{Value{std::int64_t{51}}, Value{std::string("NEW_WAIT")}, Value{}, Value{}, Value{}},
                 {Value{std::int64_t{99}}, Value{}, Value{}, Value{}, Value{}}};
    EXPECT_THROW(s.write(snap, run()), StoreError);
    EXPECT_EQ(count(s, "SELECT count(*) FROM dictionary"), 0) << "rolled back with the rows";
    ASSERT_EQ(sqlite3_exec(s.handle(), "DROP TRIGGER boom", nullptr, nullptr, nullptr), SQLITE_OK);
    snap.rows.pop_back();
    EXPECT_TRUE(s.write(snap, run()));
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test WHERE wait_type = 'NEW_WAIT'"), 1);
}

TEST_F(SqliteStoreTest, RetentionDeletesTheNamesAndHandlesNoRowRefersToAnyMore) {
    SqliteStore s(path);
    s.install({dense_spec()});
    auto day = [](const char* d) { return parse_timestamp(d)->utc_ticks / kTicksPerDay; };
    auto row = [](std::int64_t session, const char* wait, std::optional<std::uint8_t> handle) {
        return Row{Value{session}, Value{std::string(wait)}, Value{},
                   handle ? Value{Bytes(64, *handle)} : Value{}, Value{}};
    };
    s.set_day_for_test(day("2026-01-01"));
    auto jan = snapshot("2026-01-01 10:00:00");
    jan.rows = {row(51, "OLD_WAIT", 0x01), row(52, "SHARED_WAIT", std::nullopt)};
    ASSERT_TRUE(s.write(jan, run()));
    s.set_day_for_test(day("2026-06-01"));
    auto jun = snapshot("2026-06-01 10:00:00");
    jun.rows = {row(53, "SHARED_WAIT", std::nullopt), row(54, "NEW_WAIT", 0x02)};
    ASSERT_TRUE(s.write(jun, run()));
    EXPECT_EQ(count(s, "SELECT count(*) FROM dictionary"), 5);

    // Retention removes January; what only January's rows used goes from the dictionary with them.
    auto r = s.purge("requests_test", "requests_test", *parse_timestamp("2026-03-01 00:00:00"), 20);
    EXPECT_EQ(r.snapshots, 1);
    EXPECT_EQ(r.dictionary, 2) << "OLD_WAIT and the handle 0x0101...";
    EXPECT_EQ(count(s, "SELECT count(*) FROM dictionary WHERE value IN ('SHARED_WAIT', 'NEW_WAIT')"), 2);
    EXPECT_EQ(count(s, "SELECT count(*) FROM dictionary"), 3);
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test WHERE wait_type IN ('SHARED_WAIT', 'NEW_WAIT')"), 2);
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test WHERE plan_handle IS NOT NULL"), 1);

    // A name that went comes back as a new entry (the connection forgot the old id).
    s.set_day_for_test(day("2026-06-02"));
    auto later = snapshot("2026-06-02 10:00:00");
    later.rows = {row(55, "OLD_WAIT", 0x01)};
    ASSERT_TRUE(s.write(later, run()));
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test WHERE wait_type = 'OLD_WAIT' AND length(plan_handle) = 64"), 1);
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test WHERE wait_type IS NULL"), 0) << "no row refers to a deleted entry";
}

TEST_F(SqliteStoreTest, AStoreOfTheEarlierLayoutMovesItsRowsOnInstall) {
    {
        // The earlier layout: instance, collected_at and utc_offset_minutes on every row, times as text.
        SqliteStore s(path);
        s.install({});
        const char* old =
            "CREATE TABLE requests_test (instance TEXT NOT NULL, collected_at TEXT NOT NULL, utc_offset_minutes "
            "INTEGER NOT NULL, session_id INTEGER, wait_type TEXT, start_time TEXT, plan_handle BLOB);"
            "CREATE INDEX requests_test_by_time ON requests_test (instance, collected_at);"
            "INSERT INTO snapshots (instance, collector, collected_at, utc_offset_minutes, row_count, written_at) "
            "VALUES ('prod1', 'requests_test', '2026-11-23 10:00:00.0000000', 60, 2, '2026-11-23 10:00:01.0000000');"
            "INSERT INTO requests_test VALUES ('prod1', '2026-11-23 10:00:00.0000000', 60, 51, 'LCK_M_X', "
            "'2026-11-23 09:59:58.1234567', x'0102');"
            "INSERT INTO requests_test VALUES ('prod1', '2026-11-23 10:00:00.0000000', 60, 52, NULL, NULL, NULL);"
            // a row whose snapshot row is missing
            "INSERT INTO requests_test VALUES ('prod2', '2026-11-23 10:00:05.0000000', 0, 53, 'LCK_M_X', "
            "'1900-01-01 00:00:00.0000000', NULL);";
        ASSERT_EQ(sqlite3_exec(s.handle(), old, nullptr, nullptr, nullptr), SQLITE_OK);
    }
    SqliteStore s(path);
    s.install({dense_spec()});
    EXPECT_EQ(count(s, "SELECT count(*) FROM sqlite_master WHERE name = 'requests_test' AND type = 'view'"), 1);
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test_data"), 3);
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test"), 3);
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test WHERE instance = 'prod1' AND utc_offset_minutes = 60 AND "
                       "collected_at = '2026-11-23 10:00:00.0000000'"),
              2);
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test WHERE session_id = 51 AND wait_type = 'LCK_M_X' AND "
                       "start_time = '2026-11-23 09:59:58.1234567' AND plan_handle = x'0102'"),
              1);
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test WHERE instance = 'prod2' AND start_time = "
                       "'1900-01-01 00:00:00.0000000'"),
              1)
        << "a row without its snapshot row gets one";
    EXPECT_EQ(count(s, "SELECT count(*) FROM dictionary WHERE value = 'LCK_M_X'"), 1);
    EXPECT_EQ(count(s, "SELECT count(*) FROM dictionary WHERE last_used IS NULL"), 0)
        << "moved names count as used on the day of the move";
    // and the store goes on as usual
    EXPECT_TRUE(s.write(snapshot("2026-11-23 10:01:00"), run()));
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test"), 5);
}

TEST_F(SqliteStoreTest, PurgeDeletesOldSnapshotsInSmallStepsAndKeepsTheRest) {
    SqliteStore s(path);
    s.install({spec()});
    for (int m = 0; m < 50; ++m) {
        auto at = *parse_timestamp("2026-11-01 00:00:00");
        at.utc_ticks += static_cast<std::int64_t>(m) * kTicksPerMinute;
        auto snap = snapshot("2026-11-01 00:00:00");
        snap.collected_at = at;
        auto r = run();
        r.started_at = at;
        ASSERT_TRUE(s.write(snap, r));
    }
    auto cutoff = *parse_timestamp("2026-11-01 00:30:00");
    PurgeResult step = s.purge("requests_test", "requests_test", cutoff, 20);
    EXPECT_EQ(step.snapshots, 20);
    EXPECT_EQ(step.rows, 40);
    EXPECT_TRUE(step.more);
    step = s.purge("requests_test", "requests_test", cutoff, 20);
    EXPECT_EQ(step.snapshots, 10);
    EXPECT_FALSE(step.more);
    EXPECT_EQ(count(s, "SELECT count(*) FROM snapshots"), 20);
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test"), 40);
    EXPECT_EQ(count(s, "SELECT count(*) FROM requests_test WHERE collected_at < '2026-11-01 00:30:00'"), 0);
    EXPECT_EQ(count(s, "SELECT count(*) FROM collector_runs"), 20);
    EXPECT_EQ(s.purge("requests_test", "requests_test", cutoff, 20).snapshots, 0);
    EXPECT_THROW(s.purge("x", "not_installed", cutoff, 20), StoreError);
}

TEST(TextHash, IsStableAndSpreads) {
    EXPECT_EQ(text_hash("SELECT 1"), text_hash("SELECT 1"));
    EXPECT_NE(text_hash("SELECT 1"), text_hash("SELECT 2"));
    EXPECT_EQ(text_hash(""), static_cast<std::int64_t>(1469598103934665603ull));
}

}  // namespace
}  // namespace dmvlog::store
