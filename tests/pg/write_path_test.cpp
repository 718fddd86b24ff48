// PgStore's write path on its own, against the server the ctest fixture starts (DMVLOG_TEST_PG): a replayed
// snapshot writes nothing and records no second run; SQL text is stored once across snapshots, also when it
// has quotes, backslashes and line breaks; retention of the XE table on a store without events purges
// nothing and does not fail (tests/pg/xe_test.cpp writes and purges events).
#include <gtest/gtest.h>

#include "pg_conninfo.h"
#include <libpq-fe.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "agent/core/time_format.h"
#include "agent/store/pg_store.h"
#include "agent/store/xe_store.h"

namespace dmvlog::test {
namespace {

std::string scalar(store::PgStore& st, const std::string& sql) {
    PGresult* r = PQexec(st.handle(), sql.c_str());
    std::string out = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) ? PQgetvalue(r, 0, 0) : "error";
    PQclear(r);
    return out;
}

TEST(PgStoreWrite, ReplaysTextAndXeRetention) {
    const std::string c = pg_conninfo();
    if (c.empty()) GTEST_SKIP() << "no PostgreSQL server: DMVLOG_TEST_PG names no conninfo file";
    {
        store::PgStore admin(c);
        PQclear(PQexec(admin.handle(), "DROP DATABASE IF EXISTS write_path_test WITH (FORCE)"));
        PQclear(PQexec(admin.handle(), "CREATE DATABASE write_path_test"));
    }
    store::PgStore st(c + " dbname=write_path_test");
    store::TableSpec spec{"t_demo", "demo", {{"n", collect::StorageClass::integer}, {"q_hash", collect::StorageClass::integer}}};
    st.install({spec});
    const std::string odd = "SELECT 'it''s' AS \"q\", E'a\\\\b'\r\n\t{x,y}";
    const auto t0 = parse_timestamp("2026-03-02 10:00:00")->utc_ticks;
    auto snapshot = [&](std::int64_t at) {
        store::Snapshot s;
        s.instance = "sql'01";
        s.collector = "demo";
        s.table = "t_demo";
        s.collected_at = Timestamp{at, 0, false};
        s.rows = {{std::int64_t{1}, store::text_hash(odd)}, {std::monostate{}, store::text_hash("plain")}};
        s.texts = {{store::text_hash(odd), odd}, {store::text_hash("plain"), "plain"}};
        return s;
    };
    store::RunRecord run;
    run.instance = "sql'01";
    run.collector = "demo";
    run.status = "ok";
    run.rows = 2;
    EXPECT_TRUE(st.write(snapshot(t0), run));
    EXPECT_FALSE(st.write(snapshot(t0), run)) << "a replay writes nothing";
    EXPECT_TRUE(st.write(snapshot(t0 + kTicksPerMinute), run));
    EXPECT_EQ(scalar(st, "SELECT count(*) FROM t_demo"), "4");
    EXPECT_EQ(scalar(st, "SELECT count(*) FROM snapshots"), "2");
    EXPECT_EQ(scalar(st, "SELECT count(*) FROM collector_runs"), "2");
    EXPECT_EQ(scalar(st, "SELECT count(*) FROM sql_text"), "2");
    EXPECT_EQ(scalar(st, "SELECT text FROM sql_text WHERE hash = " + std::to_string(store::text_hash(odd))), odd);
    EXPECT_EQ(scalar(st, "SELECT first_seen FROM sql_text WHERE text = 'plain'"), "2026-03-02 10:00:00.0000000");
    // A store that lost its connection's cache (a new agent) still finds the text there.
    store::PgStore again(c + " dbname=write_path_test");
    again.install({spec});
    EXPECT_TRUE(again.write(snapshot(t0 + 2 * kTicksPerMinute), run));
    EXPECT_EQ(scalar(st, "SELECT count(*) FROM sql_text"), "2");
    const auto purged = st.purge("blocking_events", std::string(store::kXeTable), Timestamp{t0, 0, false}, 20);
    EXPECT_EQ(purged.rows, 0);
    EXPECT_FALSE(purged.more);

    // A snapshot in parts: the later parts extend the first part's snapshots row; a replayed part writes
    // nothing; a part whose earlier parts are missing makes the row itself.
    const auto t3 = t0 + 3 * kTicksPerMinute;
    auto part = [&](std::int64_t at, std::int64_t offset) {
        auto s = snapshot(at);
        s.part_offset = offset;
        if (offset > 0) s.texts.clear();
        return s;
    };
    EXPECT_TRUE(st.write(part(t3, 0), store::RunRecord{}));
    EXPECT_TRUE(st.write(part(t3, 2), store::RunRecord{}));
    EXPECT_FALSE(st.write(part(t3, 2), store::RunRecord{})) << "a replayed part";
    EXPECT_FALSE(st.write(part(t3, 0), store::RunRecord{})) << "a replayed first part";
    EXPECT_TRUE(st.write(part(t3, 4), run));
    const std::string at3 = "'" + format_timestamp(Timestamp{t3, 0, false}) + "'";
    EXPECT_EQ(scalar(st, "SELECT count(*) FROM t_demo WHERE collected_at = " + at3), "6");
    EXPECT_EQ(scalar(st, "SELECT row_count FROM snapshots WHERE collected_at = " + at3), "6");
    EXPECT_EQ(scalar(st, "SELECT count(*) FROM collector_runs"), "4") << "the run comes with the last part only";
    const auto t4 = t0 + 4 * kTicksPerMinute;
    EXPECT_TRUE(st.write(part(t4, 6), run));
    EXPECT_EQ(scalar(st, "SELECT row_count FROM snapshots WHERE collected_at = '" +
                             format_timestamp(Timestamp{t4, 0, false}) + "'"),
              "8");
}

}  // namespace
}  // namespace dmvlog::test
