// What a batch returns: column descriptions and rows of dmvlog::Value, pushed into a ResultSink.
#pragma once

#include <sql.h>

#include <cstdint>
#include <string>
#include <vector>

#include "agent/core/value.h"

namespace dmvlog::odbc {

// One column as SQLDescribeCol reports it. sql_type is the ODBC SQL type: SQL_INTEGER, SQL_WVARCHAR, ...
// and FreeTDS's SQL Server specific ones: -152 xml, -154 time, -155 datetimeoffset, -150 sql_variant.
// column_size is 0 for the (max) types.
struct ColumnInfo {
    std::string name;
    SQLSMALLINT sql_type = 0;
    std::uint64_t column_size = 0;
    SQLSMALLINT decimal_digits = 0;
    bool nullable = true;  // SQL_NULLABLE_UNKNOWN counts as nullable
    friend bool operator==(const ColumnInfo&, const ColumnInfo&) = default;
};

// Receives every result set of one batch, in order: begin_result, row*, end_result(row_count) for each
// set that has columns (statements without a result set, such as SET or DECLARE, are skipped). When the
// batch fails part way an Error is thrown after whatever was already delivered; end_result is then not
// called for the set in progress.
struct ResultSink {
    virtual ~ResultSink() = default;
    virtual void begin_result(const std::vector<ColumnInfo>& columns) = 0;
    virtual void row(Row&& row) = 0;
    virtual void end_result(long long row_count) = 0;
};

struct ResultSet {
    std::vector<ColumnInfo> columns;
    std::vector<Row> rows;
    long long row_count = 0;  // rows fetched
};

// A sink that keeps everything (what Connection::query uses).
class CollectingSink final : public ResultSink {
public:
    void begin_result(const std::vector<ColumnInfo>& columns) override {
        sets_.push_back(ResultSet{columns, {}, 0});
    }
    void row(Row&& r) override { sets_.back().rows.push_back(std::move(r)); }
    void end_result(long long row_count) override { sets_.back().row_count = row_count; }
    std::vector<ResultSet>& sets() noexcept { return sets_; }

private:
    std::vector<ResultSet> sets_;
};

}  // namespace dmvlog::odbc
