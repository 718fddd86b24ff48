#include "agent/collect/snapshot_builder.h"

#include <gtest/gtest.h>

#include "agent/core/time_format.h"

namespace dmvlog::collect {
namespace {

CollectorDecl decl() {
    CollectorDecl d;
    d.name = "requests_test";
    d.table = "requests_test";
    d.declaration_file = "collectors/test.toml";
    d.columns = {parse_column("session_id smallint key"), parse_column("statement_start_offset int"),
                 parse_column("statement_end_offset int"), parse_column("wait_type nvarchar(60)"),
                 parse_column("batch_text nvarchar(max) text")};
    d.derived = {DerivedSlice{"statement_text", "batch_text", "statement_start_offset", "statement_end_offset"}};
    return d;
}

std::vector<odbc::ColumnInfo> clock_columns() {
    return {{"collected_at", 93, 27, 7, false}, {"utc_offset_minutes", 4, 10, 0, false},
            {"sqlserver_start_time", 93, 23, 3, false}};
}

Row clock_row() {
    return {Value{*parse_timestamp("2026-11-23 10:00:05.1234567")}, Value{std::int64_t{-300}},
            Value{*parse_timestamp("2026-11-01 00:00:00")}};
}

TEST(SnapshotBuilder, MapsColumnsByNameStoresTextOnceAndSlicesStatements) {
    auto d = decl();
    SnapshotBuilder b(d, "prod1");
    b.begin_result(clock_columns());
    b.row(clock_row());
    b.end_result(1);
    // Columns in a different order than declared, with one extra column the declaration does not know.
    b.begin_result({{"BATCH_TEXT", -10, 0, 0, true}, {"extra", 4, 10, 0, true}, {"session_id", 5, 5, 0, false},
                    {"wait_type", -9, 60, 0, true}, {"statement_start_offset", 4, 10, 0, true},
                    {"statement_end_offset", 4, 10, 0, true}});
    const std::string batch = "SELECT 1; SELECT 2;";
    // "SELECT 2;" starts at character 10 (byte 20) and ends at character 18 (byte 36).
    b.row({Value{batch}, Value{std::int64_t{9}}, Value{std::int64_t{51}}, Value{std::string("LCK_M_X")},
           Value{std::int64_t{20}}, Value{std::int64_t{36}}});
    b.row({Value{batch}, Value{std::int64_t{9}}, Value{std::int64_t{52}}, Value{}, Value{std::int64_t{0}},
           Value{std::int64_t{-1}}});
    b.row({Value{}, Value{}, Value{std::int64_t{53}}, Value{}, Value{}, Value{}});
    b.end_result(3);
    auto snap = b.take();
    EXPECT_EQ(snap.instance, "prod1");
    EXPECT_EQ(snap.table, "requests_test");
    EXPECT_EQ(format_timestamp(snap.collected_at), "2026-11-23 10:00:05.1234567");
    EXPECT_EQ(snap.utc_offset_minutes, -300);
    ASSERT_TRUE(snap.sqlserver_start_time.has_value());
    ASSERT_EQ(snap.rows.size(), 3u);
    ASSERT_EQ(snap.rows[0].size(), 6u);  // 5 declared + 1 derived
    EXPECT_EQ(std::get<std::int64_t>(snap.rows[0][0]), 51);
    EXPECT_EQ(std::get<std::string>(snap.rows[0][3]), "LCK_M_X");
    EXPECT_EQ(std::get<std::int64_t>(snap.rows[0][4]), store::text_hash(batch));
    EXPECT_EQ(std::get<std::int64_t>(snap.rows[0][5]), store::text_hash("SELECT 2;"));
    EXPECT_EQ(std::get<std::int64_t>(snap.rows[1][5]), store::text_hash(batch));
    EXPECT_TRUE(is_null(snap.rows[2][4]));
    EXPECT_TRUE(is_null(snap.rows[2][5]));
    // Three distinct texts (batch, "SELECT 2;"), each once although referenced by several rows.
    EXPECT_EQ(snap.texts.size(), 2u);
    EXPECT_GT(b.bytes(), 0);
}

// The clock result, then the row result's header with the declared columns in declared order.
void start_rows_in_declared_order(SnapshotBuilder& b) {
    b.begin_result(clock_columns());
    b.row(clock_row());
    b.end_result(1);
    b.begin_result({{"session_id", 5, 5, 0, false}, {"statement_start_offset", 4, 10, 0, true},
                    {"statement_end_offset", 4, 10, 0, true}, {"wait_type", -9, 60, 0, true},
                    {"batch_text", -10, 0, 0, true}});
}

TEST(SnapshotBuilder, ALargeAnswerGoesOutInPartsWithTheirOffsetsAndEachTextOnce) {
    auto d = decl();
    SnapshotBuilder b(d, "prod1");
    std::vector<store::Snapshot> parts;
    b.emit_parts(2, [&](store::Snapshot&& p) { parts.push_back(std::move(p)); });
    start_rows_in_declared_order(b);
    for (std::int64_t i = 0; i < 5; ++i)
        b.row({Value{51 + i}, Value{std::int64_t{0}}, Value{std::int64_t{-1}}, Value{},
               Value{std::string(i < 3 ? "SELECT 1;" : "SELECT 2;")}});
    b.end_result(5);
    EXPECT_EQ(b.rows(), 5);
    auto last = b.take();
    ASSERT_EQ(parts.size(), 2u) << "two parts of two rows went out while rows arrived; the fifth row is the last part";
    EXPECT_EQ(parts[0].part_offset, 0);
    EXPECT_EQ(parts[1].part_offset, 2);
    EXPECT_EQ(last.part_offset, 4);
    EXPECT_EQ(parts[0].rows.size(), 2u);
    EXPECT_EQ(parts[1].rows.size(), 2u);
    ASSERT_EQ(last.rows.size(), 1u);
    EXPECT_EQ(std::get<std::int64_t>(parts[1].rows[0][0]), 53);
    EXPECT_EQ(std::get<std::int64_t>(last.rows[0][0]), 55);
    for (const auto& p : parts) {
        EXPECT_EQ(format_timestamp(p.collected_at), "2026-11-23 10:00:05.1234567");
        EXPECT_EQ(p.instance, "prod1");
        EXPECT_EQ(p.table, "requests_test");
        EXPECT_EQ(p.utc_offset_minutes, -300);
    }
    // Each text goes with the first part that references it: "SELECT 1;" with the first, "SELECT 2;" with the
    // second (row 4); the last part references only "SELECT 2;", sent already.
    ASSERT_EQ(parts[0].texts.size(), 1u);
    EXPECT_EQ(parts[0].texts[0].second, "SELECT 1;");
    ASSERT_EQ(parts[1].texts.size(), 1u);
    EXPECT_EQ(parts[1].texts[0].second, "SELECT 2;");
    EXPECT_TRUE(last.texts.empty());
}

TEST(SnapshotBuilder, AnAnswerThatFitsInOnePartIsOneWholeSnapshot) {
    auto d = decl();
    SnapshotBuilder b(d, "prod1");
    int emitted = 0;
    b.emit_parts(2, [&](store::Snapshot&&) { ++emitted; });
    start_rows_in_declared_order(b);
    for (std::int64_t i = 0; i < 2; ++i) b.row({Value{51 + i}, Value{}, Value{}, Value{}, Value{}});
    b.end_result(2);
    auto snap = b.take();
    EXPECT_EQ(emitted, 0) << "exactly part-size rows need no part before the last";
    EXPECT_EQ(snap.part_offset, 0);
    EXPECT_EQ(snap.rows.size(), 2u);
}

TEST(SnapshotBuilder, AMissingDeclaredColumnIsAShapeErrorNamingIt) {
    auto d = decl();
    SnapshotBuilder b(d, "prod1");
    b.begin_result(clock_columns());
    b.row(clock_row());
    try {
        b.begin_result({{"session_id", 5, 5, 0, false}, {"batch_text", -10, 0, 0, true}});
        FAIL() << "expected ShapeError";
    } catch (const ShapeError& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("wait_type"), std::string::npos) << what;
        EXPECT_NE(what.find("requests_test"), std::string::npos) << what;
        EXPECT_NE(what.find("collectors/test.toml"), std::string::npos) << what;
    }
}

TEST(SnapshotBuilder, NoClockRowOrNoRowsIsAnError) {
    auto d = decl();
    SnapshotBuilder no_clock(d, "x");
    EXPECT_THROW(no_clock.take(), ShapeError);
    SnapshotBuilder no_rows(d, "x");
    no_rows.begin_result(clock_columns());
    no_rows.row(clock_row());
    EXPECT_THROW(no_rows.take(), ShapeError);
}

TEST(SnapshotBuilder, ServerLocalTimesAreStoredInUtc) {
    CollectorDecl d;
    d.name = "times";
    d.table = "times";
    d.columns = {parse_column("start_time datetime"), parse_column("event_time datetime2 utc")};
    SnapshotBuilder b(d, "x");
    b.begin_result(clock_columns());
    b.row(clock_row());  // the server is at UTC-05:00 and started 2026-11-01 00:00 local
    b.begin_result({{"start_time", 93, 23, 3, true}, {"event_time", 93, 27, 7, true}});
    b.row({Value{*parse_timestamp("2026-11-23 05:00:00")}, Value{*parse_timestamp("2026-11-23 10:00:00")}});
    auto snap = b.take();
    EXPECT_EQ(format_timestamp(std::get<Timestamp>(snap.rows[0][0])), "2026-11-23 10:00:00.0000000");
    EXPECT_EQ(format_timestamp(std::get<Timestamp>(snap.rows[0][1])), "2026-11-23 10:00:00.0000000") << "utc columns are kept";
    EXPECT_EQ(format_timestamp(*snap.sqlserver_start_time), "2026-11-01 05:00:00.0000000");
}

TEST(SnapshotBuilder, AnEmptyResultIsAValidSnapshot) {
    auto d = decl();
    SnapshotBuilder b(d, "x");
    b.begin_result(clock_columns());
    b.row(clock_row());
    b.begin_result({{"session_id", 5, 5, 0, false}, {"statement_start_offset", 4, 10, 0, true},
                    {"statement_end_offset", 4, 10, 0, true}, {"wait_type", -9, 60, 0, true},
                    {"batch_text", -10, 0, 0, true}});
    auto snap = b.take();
    EXPECT_TRUE(snap.rows.empty());
}

}  // namespace
}  // namespace dmvlog::collect
