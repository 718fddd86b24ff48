// Windows, time zones with daylight-saving gaps and overlaps, output formats, analysis SQL and views.
#include "tests/unit/query/fixture.h"

#include <nlohmann/json.hpp>

#include "agent/query/report.h"
#include "agent/query/sql.h"
#include "agent/query/time_window.h"

namespace dmvlog::query::testing {
namespace {

const std::int64_t kNow = 0;

TEST(TimeWindowTest, ExplicitZonesAreInstants) {
    Zone berlin("Europe/Berlin");
    EXPECT_EQ(parse_user_time("2026-03-10T10:00:00Z", berlin, kNow).utc_ticks, ticks("2026-03-10 10:00:00"));
    EXPECT_EQ(parse_user_time("2026-03-10T10:00+02:00", berlin, kNow).utc_ticks, ticks("2026-03-10 08:00:00"));
    EXPECT_EQ(parse_user_time("2026-03-10 10:00", berlin, kNow).utc_ticks, ticks("2026-03-10 09:00:00"));  // CET
    EXPECT_EQ(parse_user_time("2026-07-10 10:00", berlin, kNow).utc_ticks, ticks("2026-07-10 08:00:00"));  // CEST
    EXPECT_THROW(parse_user_time("yesterday", berlin, kNow), UsageError);
    EXPECT_THROW(Zone("Mars/Olympus"), UsageError);
}

TEST(TimeWindowTest, AGapMovesForwardAndSaysSo) {
    Zone berlin("Europe/Berlin");
    auto l = parse_user_time("2026-03-29 02:30", berlin, kNow);
    EXPECT_EQ(l.utc_ticks, ticks("2026-03-29 01:30:00"));  // = 03:30 CEST
    EXPECT_NE(l.note.find("02:30 does not exist in Europe/Berlin"), std::string::npos) << l.note;
    EXPECT_NE(l.note.find("using 03:30 CEST"), std::string::npos) << l.note;
    EXPECT_EQ(berlin.display(l.utc_ticks), "2026-03-29 03:30:00 CEST");
}

TEST(TimeWindowTest, AnOverlapTakesTheFirstAndSaysHowToPickTheSecond) {
    Zone berlin("Europe/Berlin");
    auto l = parse_user_time("2026-10-25 02:30", berlin, kNow);
    EXPECT_EQ(l.utc_ticks, ticks("2026-10-25 00:30:00"));  // 02:30 CEST
    EXPECT_NE(l.note.find("occurs twice"), std::string::npos) << l.note;
    EXPECT_NE(l.note.find("2026-10-25T02:30+01:00"), std::string::npos) << l.note;
    EXPECT_EQ(parse_user_time("2026-10-25T02:30+01:00", berlin, kNow).utc_ticks, ticks("2026-10-25 01:30:00"));
}

TEST(TimeWindowTest, Windows) {
    Zone utc;
    const std::int64_t now = ticks("2026-03-10 12:00:00");
    WindowArgs a;
    a.last = "1h";
    auto w = make_window(a, utc, now, false, false);
    EXPECT_EQ(w.from, ticks("2026-03-10 11:00:00"));
    EXPECT_EQ(w.to, now);
    WindowArgs b;
    b.from = "2026-03-10 10:00";
    b.to = "2026-03-10 09:00";
    EXPECT_THROW(make_window(b, utc, now, false, false), UsageError);
    WindowArgs c;
    c.at = "2026-03-10 10:00Z";
    EXPECT_THROW(make_window(c, utc, now, false, false), UsageError);
    auto p = make_window(c, utc, now, true, true);
    EXPECT_TRUE(p.is_point);
    EXPECT_THROW(make_window(a, utc, now, true, true), UsageError);
    WindowArgs d;
    d.from = "2026-03-29 02:30";
    d.to = "2026-03-29 05:00";
    auto g = make_window(d, Zone("Europe/Berlin"), now, false, false);
    ASSERT_EQ(g.notes.size(), 1u);
}

Report sample_report() {
    Report r;
    r.question = "top-queries";
    r.instances = {"prod1"};
    r.window.from = ticks("2026-03-10 10:00:00");
    r.window.to = ticks("2026-03-10 11:00:00");
    r.notes = {"a note"};
    Table t{"top", "Top", {{"rank", Kind::integer}, {"cpu_ms", Kind::real, 1}, {"at", Kind::time}, {"statement", Kind::text}}, {}, ""};
    t.add_row({std::int64_t{1}, 1234567.25, TimeCell{ticks("2026-03-10 10:30:00")},
               std::string("SELECT a,\n \"b\" FROM a_table_with_a_long_name WHERE x = 1 AND y = 2 AND z = 3")});
    t.add_row({std::int64_t{2}, Cell{}, TimeCell{ticks("2026-03-10 10:31:00")}, std::string("SELECT 2")});
    r.tables.push_back(t);
    return r;
}

TEST(ReportTest, TableFitsTheWidthWithAnEllipsis) {
    auto text = render(sample_report(), Format::table, Zone("Europe/Berlin"), 60);
    std::size_t pos = 0, line = 0;
    while ((pos = text.find('\n', line)) != std::string::npos) {
        auto l = text.substr(line, pos - line);
        if (l.rfind("top-queries", 0) != 0 && l.rfind("note", 0) != 0) {
            EXPECT_LE(display_width(l), 60u) << l;
        }
        line = pos + 1;
    }
    EXPECT_NE(text.find("\xE2\x80\xA6"), std::string::npos);
    EXPECT_NE(text.find("1,234,567.2"), std::string::npos);
    EXPECT_NE(text.find("2026-03-10 11:30:00 CET"), std::string::npos);
    EXPECT_EQ(fit("abcdef", 4), "abc\xE2\x80\xA6");
    EXPECT_EQ(fit("\xC3\xA4\xC3\xA4\xC3\xA4", 3), "\xC3\xA4\xC3\xA4\xC3\xA4");
}

TEST(ReportTest, CsvAndJsonAreComplete) {
    auto csv = render(sample_report(), Format::csv, Zone(), 0);
    EXPECT_NE(csv.find("rank,cpu_ms,at,statement\n"), std::string::npos);
    EXPECT_NE(csv.find("\"SELECT a,\n \"\"b\"\" FROM a_table_with_a_long_name WHERE x = 1 AND y = 2 AND z = 3\""), std::string::npos);
    EXPECT_NE(csv.find("2026-03-10T10:30:00.0000000Z"), std::string::npos);
    auto j = nlohmann::json::parse(render(sample_report(), Format::json, Zone("Europe/Berlin"), 0));
    EXPECT_EQ(j["window"]["from"], "2026-03-10T11:00:00.0000000+01:00");
    EXPECT_EQ(j["tables"][0]["rows"][0]["cpu_ms"], 1234567.25);
    EXPECT_TRUE(j["tables"][0]["rows"][1]["cpu_ms"].is_null());
    EXPECT_EQ(j["notes"][0], "a note");
}

TEST(AnalysisSqlTest, EveryQuestionFileSplitsIntoNamedStatements) {
    auto parts = split_sections("-- header\n-- name: a\nSELECT 1\n-- name: b\nSELECT 2\nFROM t\n");
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts["b"], "SELECT 2\nFROM t\n");
    EXPECT_NO_THROW(analysis_sql("top_queries", "rows"));
    EXPECT_THROW(analysis_sql("top_queries", "nope"), std::runtime_error);
}

class ViewsTest : public StoreFixture {};

TEST_F(ViewsTest, AnalysisStatementsPrepareAgainstTheInstalledSchema) {
    for (const char* file : {"common", "top_queries", "procedures", "running_at", "requests", "waits", "latches",
                             "spinlocks", "file_io", "perf_counters", "index_usage", "memory_grants", "stats_updates",
                             "tempdb", "blocking"}) {
        auto content = analysis_file(file);
        SqliteDb db(store->handle());
        for (const auto& [name, sql] : content) EXPECT_NO_THROW(Stmt(&db, sql)) << file << ": " << name;
    }
}

TEST_F(ViewsTest, DeltaViewsFollowTheRules) {
    auto w = [](std::int64_t ms) {
        return Cols{{"wait_type", s("LCK_M_X")}, {"wait_time_ms", i(ms)}, {"signal_wait_time_ms", i(0)}, {"waiting_tasks_count", i(1)}};
    };
    write("wait_stats", "2026-03-10 10:00:00", {w(1000)});
    write("wait_stats", "2026-03-10 10:01:00", {w(1100)});
    write("wait_stats", "2026-03-10 10:02:00", {w(30)});
    auto sum = [&](const std::string& sql) {
        SqliteDb db(store->handle());
        Stmt st(&db, sql);
        EXPECT_TRUE(st.step());
        return st.i64(0);
    };
    EXPECT_EQ(sum("SELECT sum(wait_ms) FROM waits_delta WHERE collected_at > '2026-03-10 10:00:00.0000000'"), 130);
    EXPECT_EQ(sum("SELECT sum(reset) FROM waits_delta"), 1);
    auto q = [](std::int64_t cpu, const std::string& creation) {
        return Cols{{"sql_handle", b(1, 20)}, {"plan_handle", b(1, 24)}, {"statement_start_offset", i(0)},
                    {"statement_end_offset", i(-1)}, {"creation_time", ts(creation)}, {"query_hash", b(7)},
                    {"execution_count", i(1)}, {"total_worker_time", i(cpu)}};
    };
    write("query_stats_full", "2026-03-10 09:00:00", {q(100, "2026-03-10 08:00:00")});
    write("query_stats", "2026-03-10 10:10:00", {q(400, "2026-03-10 08:00:00")});
    write("query_stats", "2026-03-10 10:20:00", {q(50, "2026-03-10 10:15:00")});
    EXPECT_EQ(sum("SELECT sum(cpu_us) FROM query_stats_delta WHERE collected_at > '2026-03-10 10:00:00.0000000' "
                  "AND (first_seen = 0 OR creation_time >= '2026-03-10 10:00:00.0000000')"),
              300 + 50);
    write("requests_5s", "2026-03-10 10:00:05", {{{"session_id", i(51)}, {"blocking_session_id", i(50)}, {"statement_text", s("UPDATE t")}},
                                                 {{"session_id", i(50)}, {"blocking_session_id", i(0)}, {"statement_text", s("SELECT 1")}}});
    EXPECT_EQ(sum("SELECT count(*) FROM blocked_requests WHERE blocker_statement = 'SELECT 1'"), 1);
}

}  // namespace
}  // namespace dmvlog::query::testing
