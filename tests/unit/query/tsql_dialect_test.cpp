// The analysis SQL in SQL Server's dialect (agent/query/tsql_dialect.h). The whole translated set is also
// parsed by the T-SQL grammar in CI (ctest sql.store_statements).
#include <gtest/gtest.h>

#include "agent/query/tsql_dialect.h"

namespace dmvlog::query {
namespace {

TEST(TsqlDialect, NamedParametersBecomeMarkersInOrderRepeatedNamesTwice) {
    std::vector<std::string> names;
    auto s = to_tsql("SELECT a FROM t WHERE i = :instance AND x >= :from AND y < :from AND z = 'a:b'", names);
    EXPECT_EQ(s, "SELECT a FROM t WHERE i = ? AND x >= ? AND y < ? AND z = 'a:b'");
    EXPECT_EQ(names, (std::vector<std::string>{":instance", ":from", ":from"}));
}

TEST(TsqlDialect, ConcatenationBecomesConcat) {
    std::vector<std::string> names;
    EXPECT_EQ(to_tsql("SELECT collected_at, database_id || ':' || file_id AS file_key FROM file_io", names),
              "SELECT collected_at, CONCAT(database_id, ':', file_id) AS file_key FROM file_io");
    EXPECT_EQ(to_tsql("SELECT r.a || '-' || r.b FROM r", names), "SELECT CONCAT(r.a, '-', r.b) FROM r");
}

TEST(TsqlDialect, LimitBecomesFetchOrGoesInASubquery) {
    std::vector<std::string> names;
    EXPECT_EQ(to_tsql("SELECT a FROM t ORDER BY b DESC LIMIT 1\n", names),
              "SELECT a FROM t ORDER BY b DESC\nOFFSET 0 ROWS FETCH NEXT 1 ROWS ONLY");
    EXPECT_EQ(to_tsql("SELECT a FROM t ORDER BY b LIMIT :top", names), "SELECT a FROM t ORDER BY b\nOFFSET 0 ROWS FETCH NEXT ? ROWS ONLY");
    EXPECT_EQ(to_tsql("SELECT count(*) FROM (SELECT 1 AS one FROM t WHERE i = :instance LIMIT 1) AS r", names),
              "SELECT count(*) FROM (SELECT 1 AS one FROM t WHERE i = ?) AS r");
}

TEST(TsqlDialect, CommentsAreDropped) {
    std::vector<std::string> names;
    EXPECT_EQ(to_tsql("-- why\nSELECT a -- the a\nFROM t", names), "\nSELECT a \nFROM t");
}

TEST(TsqlDialect, EveryAnalysisStatementIsTranslated) {
    const auto all = analysis_in_tsql();
    EXPECT_NE(all.find("-- sql/analysis/top_queries.sql: rows"), std::string::npos);
    EXPECT_EQ(all.find(" LIMIT "), std::string::npos);
    EXPECT_EQ(all.find("||"), std::string::npos);
    EXPECT_EQ(all.find(":instance"), std::string::npos);
    EXPECT_NE(all.find("@p1"), std::string::npos);
}

}  // namespace
}  // namespace dmvlog::query
