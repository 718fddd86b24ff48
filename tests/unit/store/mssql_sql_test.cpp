// The SQL Server store's statements (agent/store/mssql_sql.h). That they parse as T-SQL is checked by the
// grammar in CI (ctest sql.store_statements); here: their shape.
#include <gtest/gtest.h>

#include <algorithm>

#include "agent/collect/declaration.h"
#include "agent/store/mssql_sql.h"

namespace dmvlog::store {
namespace {

std::size_t markers(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '?')); }

TEST(MssqlSql, EveryStatementIsTagged) {
    for (const auto& s : mssql_sql::core()) EXPECT_EQ(s.sql.rfind("/* dmvlog:store */ ", 0), 0u) << s.name;
}

TEST(MssqlSql, MultiRowInsertsStayUnderTheParameterLimit) {
    for (const auto& d : collect::load_builtin()) {
        if (d.is_xe()) continue;
        const auto t = table_spec(d);
        const auto per = mssql_sql::rows_per_insert(t);
        const auto sql = mssql_sql::insert_rows(t, per);
        EXPECT_EQ(markers(sql), per * (t.columns.size() + 3)) << t.name;
        EXPECT_LE(markers(sql), 2100u) << t.name;
        EXPECT_GE(per, 1u);
        EXPECT_EQ(markers(mssql_sql::insert_rows(t)), t.columns.size() + 3);
    }
}

TEST(MssqlSql, NamesAreQuotedAsIdentifiers) {
    TableSpec t;
    t.name = "odd]name";
    t.collector = "odd";
    t.columns = {{"a b", collect::StorageClass::integer}, {"when", collect::StorageClass::timestamp}};
    const auto ddl = mssql_sql::create_table(t);
    EXPECT_NE(ddl.find("CREATE TABLE dbo.[odd]]name]"), std::string::npos) << ddl;
    EXPECT_NE(ddl.find("[a b] bigint NULL"), std::string::npos) << ddl;
    EXPECT_NE(ddl.find("[when] datetime2(7) NULL"), std::string::npos) << ddl;
    EXPECT_NE(ddl.find("IF OBJECT_ID(N'dbo.[odd]]name]', N'U') IS NULL"), std::string::npos) << ddl;
    EXPECT_NE(ddl.find("CREATE CLUSTERED INDEX [odd]]name_by_time] ON dbo.[odd]]name] (instance, collected_at)"), std::string::npos)
        << ddl;
    EXPECT_NE(mssql_sql::add_column(t, t.columns[0]).find("IF COL_LENGTH(N'dbo.[odd]]name]', N'a b') IS NULL"), std::string::npos);
}

TEST(MssqlSql, TheSnapshotInsertIsIdempotent) {
    const auto& s = mssql_sql::get("insert snapshot");
    EXPECT_NE(s.find("WHERE NOT EXISTS (SELECT 1 FROM dbo.snapshots WITH (UPDLOCK, HOLDLOCK)"), std::string::npos);
    EXPECT_EQ(markers(s), 10u);
    EXPECT_THROW(mssql_sql::get("no such statement"), std::logic_error);
}

}  // namespace
}  // namespace dmvlog::store
