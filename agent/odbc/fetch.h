// Reading one row into dmvlog::Value with SQLGetData: no bound buffers, long values read in chunks so
// nothing is ever truncated. How each SQL type is fetched (see fetch.cpp for why):
//
//   tinyint smallint int bigint bit         SQL_C_SBIGINT           -> int64
//   decimal numeric money smallmoney        SQL_C_CHAR              -> Decimal (exact digits, "0.5" not ".5")
//   float real                              SQL_C_DOUBLE            -> double
//   char varchar nchar nvarchar (n, max),   SQL_C_WCHAR, chunked    -> std::string UTF-8
//     text ntext xml sql_variant, unknown
//   binary varbinary (n, max), image,       SQL_C_BINARY, chunked   -> Bytes
//     timestamp/rowversion
//   datetime smalldatetime datetime2 date   SQL_C_TYPE_TIMESTAMP    -> Timestamp (wall value taken as UTC)
//   datetimeoffset (-155)                   SQL_C_BINARY as         -> Timestamp, has_offset, UTC ticks
//                                             SQL_SS_TIMESTAMPOFFSET_STRUCT
//   time (-154)                             SQL_C_BINARY as         -> std::string "HH:MM:SS.fffffff"
//                                             SQL_SS_TIME2_STRUCT
//   uniqueidentifier                        SQL_C_GUID              -> std::string "XXXXXXXX-XXXX-..." (upper)
//   NULL of any type                                                -> std::monostate
#pragma once

#include <sql.h>
#include <sqlext.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/value.h"
#include "agent/odbc/call.h"
#include "agent/odbc/result.h"

namespace dmvlog::odbc {

// SQL Server specific SQL types as FreeTDS (and Microsoft's driver) report them.
inline constexpr SQLSMALLINT kSqlSsVariant = -150;
inline constexpr SQLSMALLINT kSqlSsXml = -152;
inline constexpr SQLSMALLINT kSqlSsTime2 = -154;
inline constexpr SQLSMALLINT kSqlSsTimestampOffset = -155;

// The layouts Microsoft documents for SQL_C_BINARY reads of datetimeoffset and time (FreeTDS 1.3 fills
// them the same way, measured; it rejects the C type SQL_C_SS_TIMESTAMPOFFSET itself).
struct SsTimestampOffset {
    SQLSMALLINT year;
    SQLUSMALLINT month;
    SQLUSMALLINT day;
    SQLUSMALLINT hour;
    SQLUSMALLINT minute;
    SQLUSMALLINT second;
    SQLUINTEGER fraction;  // ns
    SQLSMALLINT timezone_hour;
    SQLSMALLINT timezone_minute;  // same sign as timezone_hour
};
struct SsTime2 {
    SQLUSMALLINT hour;
    SQLUSMALLINT minute;
    SQLUSMALLINT second;
    SQLUINTEGER fraction;  // ns
};
static_assert(sizeof(SsTimestampOffset) == 20);
static_assert(sizeof(SsTime2) == 12);

enum class FetchKind { integer, decimal, floating, text, binary, timestamp, timestamp_offset, time_of_day, guid };

FetchKind fetch_kind(SQLSMALLINT sql_type);
std::string_view to_string(FetchKind k);

// Pure conversions, exposed for tests.
std::string normalize_decimal(std::string_view driver_text);  // ".5" -> "0.5", "-.5" -> "-0.5", trims spaces
std::string format_guid(const SQLGUID& g);                     // "6F9619FF-8B86-D011-B42D-00C04FC964FF"
// A TIMESTAMP_STRUCT (fraction in ns, truncated to 100 ns) as a Timestamp without offset; nullopt if invalid.
std::optional<Timestamp> timestamp_from_struct(const SQL_TIMESTAMP_STRUCT& t);

// A datetimeoffset: utc_ticks normalised to UTC, offset_minutes kept, has_offset true; nullopt if invalid.
std::optional<Timestamp> timestamp_from_struct(const SsTimestampOffset& t);
// A time as "HH:MM:SS.fffffff"; nullopt if invalid.
std::optional<std::string> time_from_struct(const SsTime2& t);

// Reads the current row of a statement column by column, in order. Keeps its chunk buffers between rows.
class RowReader {
public:
    RowReader(SQLHSTMT stmt, const std::vector<ColumnInfo>& columns, const CallSite& site);
    Row read();

private:
    Value read_integer(SQLUSMALLINT col);
    Value read_double(SQLUSMALLINT col);
    Value read_text(SQLUSMALLINT col);
    Value read_binary(SQLUSMALLINT col);
    Value read_timestamp(SQLUSMALLINT col);
    Value read_guid(SQLUSMALLINT col);
    Value read_timestamp_offset(SQLUSMALLINT col);
    Value read_time(SQLUSMALLINT col);
    // A fixed-size SQL_C_BINARY value; false for NULL. Throws unless exactly size bytes come.
    bool read_struct(SQLUSMALLINT col, void* out, std::size_t size, std::string_view what);
    // Short ASCII text (decimal); nullopt for NULL.
    std::optional<std::string> read_short_char(SQLUSMALLINT col);
    Error conversion_error(SQLUSMALLINT col, std::string_view what, std::string_view text) const;

    SQLHSTMT stmt_;
    const std::vector<ColumnInfo>& columns_;
    CallSite site_;  // without messages: 01004 (data truncated) is the normal way chunked reads proceed
    std::vector<FetchKind> kinds_;
    std::vector<SQLWCHAR> wide_;
    std::vector<std::uint8_t> bytes_;
};

}  // namespace dmvlog::odbc
