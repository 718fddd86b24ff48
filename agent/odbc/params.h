// Binding dmvlog values to `?` parameter markers, one row or a parameter array of many (column-wise binding,
// SQL_ATTR_PARAMSET_SIZE). Types sent: bigint, float, nvarchar (text, times as 'YYYY-MM-DD HH:MM:SS.fffffff',
// decimals as their digits: the server converts them to the column's type), varbinary; NULL for monostate.
// A column whose values are of different kinds in one array is sent as text.
#pragma once

#include <sql.h>
#include <sqlext.h>

#include <cstddef>
#include <vector>

#include "agent/core/value.h"
#include "agent/odbc/call.h"

namespace dmvlog::odbc {

class ParamBinder {
public:
    // Binds rows[first, first + count) (every row with the same number of values) to stmt: a parameter array
    // when count > 1. The buffers live in this binder until the next bind() or its destruction.
    void bind(SQLHSTMT stmt, const std::vector<Row>& rows, std::size_t first, std::size_t count, const CallSite& site);

    // The rows of the next array starting at first: as many as fit in max_bytes of buffers (at least one,
    // at most max_rows).
    static std::size_t chunk(const std::vector<Row>& rows, std::size_t first, std::size_t max_bytes = 8u << 20,
                             std::size_t max_rows = 1000);

    // Status of each row after an array ran (SQL_PARAM_SUCCESS, SQL_PARAM_ERROR, ...).
    const std::vector<SQLUSMALLINT>& status() const { return status_; }
    SQLULEN processed() const { return processed_; }

private:
    enum class Kind { null, integer, real, text, binary };
    struct Column {
        Kind kind = Kind::null;
        std::size_t width = 0;            // bytes per element of buf (text: UTF-16 units * 2, with terminator)
        std::vector<SQLBIGINT> ints;
        std::vector<double> reals;
        std::vector<char> buf;            // text (SQLWCHAR) or binary elements, width bytes each
        std::vector<SQLLEN> ind;
    };
    std::vector<Column> columns_;
    std::vector<SQLUSMALLINT> status_;
    SQLULEN processed_ = 0;
};

}  // namespace dmvlog::odbc
