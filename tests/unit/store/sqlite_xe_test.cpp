// SqliteStore::write_xe / read_xe_bookmark (agent/store/sqlite_xe.cpp) and the XeJob helpers.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "agent/blocking/xe_job.h"
#include "agent/blocking/xe_setup.h"
#include "agent/core/time_format.h"
#include "agent/store/sqlite_store.h"

namespace dmvlog::store {
namespace {

namespace fs = std::filesystem;

std::string bpr_event(const std::string& utc, int loop, int blocked, int blocking, int wait_ms) {
    return fmt::format(
        R"x(<event name="blocked_process_report" package="sqlserver" timestamp="{0}"><data name="duration"><value>{4}000</value></data>)x"
        R"x(<data name="database_id"><value>7</value></data><data name="lock_mode"><value>4</value><text>U</text></data>)x"
        R"x(<data name="blocked_process"><value><blocked-process-report monitorLoop="{1}"><blocked-process>)x"
        R"x(<process id="process{2}" waitresource="KEY: 7:72057594045595648 (8194443284a0)" waittime="{4}" spid="{2}" sbid="0" ecid="0" )x"
        R"x(status="suspended" lockMode="U" loginname="app" hostname="WEB01" clientapp="Shop" isolationlevel="read committed (2)" )x"
        R"x(currentdb="7"><executionStack><frame line="1" stmtstart="0" sqlhandle="0x0200"/></executionStack>)x"
        R"x(<inputbuf>UPDATE dbo.Orders SET Status = 2 WHERE OrderId = 1</inputbuf></process></blocked-process>)x"
        R"x(<blocking-process><process status="sleeping" spid="{3}" sbid="0" ecid="0" trancount="1" lasttranstarted="2026-11-23T09:59:00.000" )x"
        R"x(loginname="etl_loader" hostname="BATCH01" clientapp="Nightly Loader" transactionname="user_transaction" currentdb="7">)x"
        R"x(<executionStack/><inputbuf>BEGIN TRAN; UPDATE dbo.Orders SET Status = 1</inputbuf></process></blocking-process>)x"
        R"x(</blocked-process-report></value></data></event>)x",
        utc, loop, blocked, blocking, wait_ms);
}

std::string read_corpus(const std::string& name) {
    std::ifstream in(std::string(DMVLOG_SOURCE_DIR) + "/tests/xe/corpus/" + name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

XeEventRow row_of(const std::string& xml, const std::string& file, std::int64_t offset) {
    XeEventRow r;
    r.raw_xml = xml;
    r.file_name = file;
    r.file_offset = offset;
    r.event = xe::parse_event(xml);
    r.object_name = r.event.name;
    return r;
}

class SqliteXeTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("dmvlog_xe_store_test_" + std::to_string(::getpid()) + "_" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir);
        path = (dir / "store.db").string();
        store = std::make_unique<SqliteStore>(path);
        store->install({});
    }
    void TearDown() override {
        store.reset();
        fs::remove_all(dir);
    }
    long long scalar(const std::string& sql) {
        sqlite3_stmt* s = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(store->handle(), sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
        long long v = -1;
        if (sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        return v;
    }
    std::string text(const std::string& sql) {
        sqlite3_stmt* s = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(store->handle(), sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
        std::string v;
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
            v = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
        return v;
    }
    static RunRecord run() {
        RunRecord r;
        r.instance = "prod1";
        r.collector = "blocking_events";
        r.started_at = *parse_timestamp("2026-11-23 10:01:00");
        r.status = "ok";
        return r;
    }
    XeBatch batch(std::vector<XeEventRow> events, std::string file, std::int64_t offset) {
        XeBatch b;
        b.instance = "prod1";
        b.source = "dmvlog_blocking";
        b.collected_at = *parse_timestamp("2026-11-23 10:01:00");
        b.events = std::move(events);
        b.bookmark.file_name = std::move(file);
        b.bookmark.file_offset = offset;
        return b;
    }

    fs::path dir;
    std::string path;
    std::unique_ptr<SqliteStore> store;
};

TEST_F(SqliteXeTest, NoBookmarkAtFirst) {
    auto b = store->read_xe_bookmark("prod1", "dmvlog_blocking");
    EXPECT_FALSE(b.file_name);
    EXPECT_FALSE(b.file_offset);
}

TEST_F(SqliteXeTest, EventsRowsBookmarkAndRunInOneWrite) {
    std::vector<XeEventRow> events;
    for (int pass = 0; pass < 3; ++pass) {
        auto t = fmt::format("2026-11-23T10:00:{:02d}.000Z", 5 + pass * 5);
        events.push_back(row_of(bpr_event(t, 100 + pass, 60, 55, 5000 + pass * 5000), "f_0_1.xel", 5120));
        events.push_back(row_of(bpr_event(t, 100 + pass, 61, 55, 4000 + pass * 5000), "f_0_1.xel", 5120));
    }
    auto dl = xe::parse_all(read_corpus("deadlock_keylock.xml"), {.keep_raw = true});
    ASSERT_FALSE(dl.empty());
    events.push_back(row_of(dl[0].raw_xml, "f_0_1.xel", 5632));
    events.push_back(row_of("<event name=\"blocked_process_report\" timestamp=\"2026-11-23T10:00:30.000Z\"><data", "f_0_1.xel", 5632));

    auto r = store->write_xe(batch(events, "f_0_1.xel", 5632), run());
    EXPECT_EQ(r.events_new, 8);
    EXPECT_EQ(r.events_duplicate, 0);
    EXPECT_EQ(r.parse_errors, 1);
    EXPECT_EQ(r.reports, 6);
    EXPECT_EQ(r.deadlocks, 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM xe_events"), 8);
    EXPECT_EQ(scalar("SELECT count(*) FROM xe_events WHERE parse_error IS NOT NULL"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM blocked_process_reports WHERE head_blocker = 1"), 6);
    EXPECT_EQ(scalar("SELECT count(*) FROM deadlocks WHERE victims <> ''"), 1);
    EXPECT_GE(scalar("SELECT count(*) FROM deadlock_processes WHERE victim = 1"), 1);
    EXPECT_GE(scalar("SELECT count(*) FROM deadlock_resources"), 1);
    // input buffers once in sql_text
    EXPECT_EQ(scalar("SELECT count(*) FROM sql_text t JOIN blocked_process_reports b ON b.blocking_input_buffer_hash = t.hash "
                     "GROUP BY t.hash"), 6);
    EXPECT_EQ(scalar("SELECT count(DISTINCT blocking_input_buffer_hash) FROM blocked_process_reports"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM collector_runs WHERE collector = 'blocking_events'"), 1);
    auto b = store->read_xe_bookmark("prod1", "dmvlog_blocking");
    EXPECT_EQ(b.file_name.value_or(""), "f_0_1.xel");
    EXPECT_EQ(b.file_offset.value_or(0), 5632);
    EXPECT_EQ(b.events_read, 8);

    // one episode: head 55, two sessions, first wait began at 10:00:00
    EXPECT_EQ(scalar("SELECT count(*) FROM blocking_episodes"), 1);
    EXPECT_EQ(scalar("SELECT head_spid FROM blocking_episodes"), 55);
    EXPECT_EQ(text("SELECT head_login || '/' || head_host || '/' || head_app FROM blocking_episodes"),
              "etl_loader/BATCH01/Nightly Loader");
    EXPECT_EQ(scalar("SELECT sessions_blocked FROM blocking_episodes"), 2);
    EXPECT_EQ(text("SELECT start_time FROM blocking_episodes"), "2026-11-23 10:00:00.0000000");
    EXPECT_EQ(text("SELECT end_time FROM blocking_episodes"), "2026-11-23 10:00:15.0000000");
}

TEST_F(SqliteXeTest, ReWriteOfTheSameEventsLandsOnce) {
    std::vector<XeEventRow> first{row_of(bpr_event("2026-11-23T10:00:05.000Z", 1, 60, 55, 5000), "f_0_1.xel", 5120)};
    store->write_xe(batch(first, "f_0_1.xel", 5120), run());
    // a re-read from the start (the bookmark file rolled away) returns it again, with a new one
    std::vector<XeEventRow> again{first[0], row_of(bpr_event("2026-11-23T10:00:10.000Z", 2, 60, 55, 10000), "f_0_2.xel", 5120)};
    auto r = store->write_xe(batch(again, "f_0_2.xel", 5120), run());
    EXPECT_EQ(r.events_new, 1);
    EXPECT_EQ(r.events_duplicate, 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM xe_events"), 2);
    EXPECT_EQ(scalar("SELECT count(*) FROM blocked_process_reports"), 2);
    EXPECT_EQ(scalar("SELECT count(*) FROM (SELECT content_hash FROM xe_events GROUP BY content_hash HAVING count(*) > 1)"), 0);
    // the episode was rebuilt, not duplicated: one episode over both passes
    EXPECT_EQ(scalar("SELECT count(*) FROM blocking_episodes"), 1);
    EXPECT_EQ(scalar("SELECT monitor_passes FROM blocking_episodes"), 2);
    EXPECT_EQ(store->read_xe_bookmark("prod1", "dmvlog_blocking").file_name.value_or(""), "f_0_2.xel");
}

TEST_F(SqliteXeTest, FailedWriteLeavesNothing) {
    std::vector<XeEventRow> events{row_of(bpr_event("2026-11-23T10:00:05.000Z", 1, 60, 55, 5000), "f_0_1.xel", 5120)};
    sqlite3_exec(store->handle(), "DROP TABLE blocking_episodes;",
                 nullptr, nullptr, nullptr);
    EXPECT_THROW(store->write_xe(batch(events, "f_0_1.xel", 5120), run()), StoreError);
    EXPECT_EQ(scalar("SELECT count(*) FROM xe_events"), 0);
    EXPECT_EQ(scalar("SELECT count(*) FROM xe_bookmarks"), 0);
    EXPECT_EQ(scalar("SELECT count(*) FROM collector_runs"), 0);
    EXPECT_FALSE(store->read_xe_bookmark("prod1", "dmvlog_blocking").file_name);
}

TEST_F(SqliteXeTest, RingBufferBookmarkKeepsTimeHashesAndLosses) {
    auto b = batch({row_of(bpr_event("2026-11-23T10:00:05.000Z", 1, 60, 55, 5000), "", 0)}, "", 0);
    b.source = "blocked_process";
    b.bookmark = XeBookmark{};
    b.bookmark.event_ticks = parse_timestamp("2026-11-23 10:00:05")->utc_ticks;
    b.bookmark.event_hashes = {-5, 42};
    b.possible_losses = 1;
    store->write_xe(b, run());
    auto got = store->read_xe_bookmark("prod1", "blocked_process");
    EXPECT_FALSE(got.file_name);
    EXPECT_EQ(got.event_ticks, b.bookmark.event_ticks);
    EXPECT_EQ(got.event_hashes, (std::vector<std::int64_t>{-5, 42}));
    EXPECT_EQ(got.possible_losses, 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM xe_events WHERE file_name IS NULL AND file_offset IS NULL"), 1);
    b.events.clear();
    store->write_xe(b, run());
    EXPECT_EQ(store->read_xe_bookmark("prod1", "blocked_process").possible_losses, 2);
    // the event_file bookmark of another source is its own
    EXPECT_FALSE(store->read_xe_bookmark("prod1", "dmvlog_blocking").event_ticks);
}

TEST_F(SqliteXeTest, TheSameReportAndDeadlockFromAnotherSourceAreStoredOnce) {
    const std::string report = bpr_event("2026-11-23T10:00:05.000Z", 7, 60, 55, 5000);
    const std::string graph = read_corpus("deadlock_keylock.xml");
    auto deadlock = [&](const std::string& type) {
        return "<event name=\"xml_deadlock_report\" package=\"sqlserver\" timestamp=\"2026-11-23T10:00:07.000Z\">"
               "<data name=\"xml_report\">" + type + "<value>" + graph + "</value></data></event>";
    };
    store->write_xe(batch({row_of(report, "f_0_1.xel", 5120), row_of(deadlock(""), "f_0_1.xel", 5120)}, "f_0_1.xel", 5120),
                    run());
    ASSERT_EQ(scalar("SELECT count(*) FROM deadlocks"), 1);
    // as a ring buffer renders them: the same events with other XML (a <type> in each <data>)
    std::string other_report = report;
    other_report.replace(other_report.find("<data name=\"duration\">"), 22, "<data name=\"duration\"><type name=\"uint64\" package=\"package0\"/>");
    std::string other_dl = deadlock("<type name=\"xml\" package=\"package0\"/>");
    auto b = batch({row_of(other_report, "", 0), row_of(other_dl, "", 0),
                    row_of(bpr_event("2026-11-23T10:00:05.000Z", 7, 61, 55, 5000), "", 0)}, "", 0);
    b.source = "blocked_process";
    auto r = store->write_xe(b, run());
    EXPECT_EQ(r.events_new, 1);        // only the report of another blocked session
    EXPECT_EQ(r.events_duplicate, 2);
    EXPECT_EQ(scalar("SELECT count(*) FROM blocked_process_reports"), 2);
    EXPECT_EQ(scalar("SELECT count(*) FROM deadlocks"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM xe_events"), 3);
}

TEST_F(SqliteXeTest, LastTranStartedIsStoredInUtc) {
    auto b = batch({row_of(bpr_event("2026-11-23T10:00:05.000Z", 1, 60, 55, 5000), "f_0_1.xel", 5120)}, "f_0_1.xel", 5120);
    b.utc_offset_minutes = 540;  // the server runs at UTC+9: its 09:59 local is 00:59 UTC
    store->write_xe(b, run());
    EXPECT_EQ(text("SELECT blocking_last_tran_started FROM blocked_process_reports"), "2026-11-23 00:59:00.0000000");
    EXPECT_EQ(text("SELECT head_last_tran_started FROM blocking_episodes"), "2026-11-23 00:59:00.0000000");
    EXPECT_EQ(report_time_utc(std::string("2026-11-23T09:59:00.123"), -300), "2026-11-23 14:59:00.1230000");
    EXPECT_EQ(report_time_utc(std::string("1900-01-01T00:00:00"), 60), std::nullopt);  // SQL Server's zero date
    EXPECT_EQ(report_time_utc(std::string("garbage"), 60), "garbage");
    EXPECT_EQ(report_time_utc(std::nullopt, 60), std::nullopt);
}

TEST_F(SqliteXeTest, RetentionPurgesByEventTimeNeverTheBookmark) {
    auto dl = xe::parse_all(read_corpus("deadlock_keylock.xml"), {.keep_raw = true});
    ASSERT_FALSE(dl.empty());
    std::vector<XeEventRow> events;
    for (int pass = 0; pass < 3; ++pass)
        events.push_back(row_of(bpr_event(fmt::format("2026-11-2{}T10:00:05.000Z", pass + 1), pass, 60, 55 + pass, 5000), "f", 5120));
    events.push_back(row_of(dl[0].raw_xml, "f", 5120));
    events.push_back(row_of("<event name=\"blocked_process_report\"><data", "f", 5120));  // no time: collected_at
    store->write_xe(batch(events, "f", 5120), run());
    ASSERT_EQ(scalar("SELECT count(*) FROM blocking_episodes"), 3);
    // before 2026-11-21 10:00:06: the first report and its episode go
    auto r = store->purge("blocking_events", std::string(kXeTable), *parse_timestamp("2026-11-21 10:00:06"), 20);
    EXPECT_EQ(scalar("SELECT count(*) FROM blocked_process_reports"), 2);
    EXPECT_EQ(scalar("SELECT count(*) FROM blocking_episodes"), 2);
    EXPECT_FALSE(r.more);
    // everything older than far in the future: all XE rows, the run record; the bookmark stays
    r = store->purge_xe("blocking_events", *parse_timestamp("2100-01-01"), 1);
    EXPECT_TRUE(r.more);
    for (int i = 0; i < 10 && r.more; ++i) r = store->purge_xe("blocking_events", *parse_timestamp("2100-01-01"), 1);
    for (const char* t : {"xe_events", "blocked_process_reports", "deadlocks", "deadlock_processes", "deadlock_resources",
                          "blocking_episodes", "collector_runs"})
        EXPECT_EQ(scalar(std::string("SELECT count(*) FROM ") + t), 0) << t;
    EXPECT_EQ(store->read_xe_bookmark("prod1", "dmvlog_blocking").file_name.value_or(""), "f");
}

TEST(XeJobHelpers, ReadPathAddsTheWildcard) {
    EXPECT_EQ(blocking::read_path("/var/opt/mssql/log/dmvlog_blocking.xel"), "/var/opt/mssql/log/dmvlog_blocking*.xel");
    EXPECT_EQ(blocking::read_path("C:\\XE\\b*.xel"), "C:\\XE\\b*.xel");
}

TEST(XeJobHelpers, TopCutDropsTheLastSharedOffset) {
    using O = std::vector<std::pair<std::string, std::int64_t>>;
    O rows{{"a", 1}, {"a", 1}, {"a", 2}, {"a", 3}, {"a", 3}};
    EXPECT_EQ(blocking::rows_to_keep(rows, 5), 3u);    // capped: the buffer at 3 may be cut
    EXPECT_EQ(blocking::rows_to_keep(rows, 6), 5u);    // not capped: all
    EXPECT_EQ(blocking::rows_to_keep(O{{"a", 3}, {"a", 3}}, 2), 2u);  // one buffer only: take it
    EXPECT_EQ(blocking::rows_to_keep(O{{"a", 3}, {"b", 3}}, 2), 1u);  // same offset, other file: a different buffer
    EXPECT_EQ(blocking::rows_to_keep(O{}, 5), 0u);
}

TEST(XeSetup, SessionDdl) {
    config::Xe xe;
    auto sql = blocking::session_setup_sql(xe);
    EXPECT_NE(sql.find("IF NOT EXISTS (SELECT 1 FROM sys.server_event_sessions WHERE name = N'dmvlog_blocking')"), std::string::npos);
    EXPECT_NE(sql.find("CREATE EVENT SESSION [dmvlog_blocking] ON SERVER"), std::string::npos);
    EXPECT_NE(sql.find("ADD EVENT sqlserver.blocked_process_report,"), std::string::npos);
    EXPECT_NE(sql.find("ADD EVENT sqlserver.xml_deadlock_report"), std::string::npos);
    EXPECT_NE(sql.find("filename = N'/var/opt/mssql/log/dmvlog_blocking.xel', max_file_size = (64), max_rollover_files = (8)"),
              std::string::npos);
    EXPECT_NE(sql.find("STARTUP_STATE = ON"), std::string::npos);
    EXPECT_NE(sql.find("ALTER EVENT SESSION [dmvlog_blocking] ON SERVER STATE = START;"), std::string::npos);
    EXPECT_EQ(sql.find("sp_configure"), std::string::npos);
    xe.path = "/x/o'brien.xel";
    EXPECT_NE(blocking::session_setup_sql(xe).find("N'/x/o''brien.xel'"), std::string::npos);
    EXPECT_NE(blocking::threshold_sql(5).find("EXEC sp_configure 'blocked process threshold (s)', 5;"), std::string::npos);
    EXPECT_THROW(blocking::threshold_sql(-1), std::invalid_argument);
}

}  // namespace
}  // namespace dmvlog::store
