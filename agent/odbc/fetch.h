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
//   datetimeoffset (-155)                   SQL_C_CHAR, parsed      -> Timestamp, has_offset, UTC ticks
//   time (-154)                             SQL_C_CHAR, parsed      -> std::string "HH:MM:SS.fffffff"
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

enum class FetchKind { integer, decimal, floating, text, binary, timestamp, timestamp_offset, time_of_day, guid };

FetchKind fetch_kind(SQLSMALLINT sql_type);
std::string_view to_string(FetchKind k);

// Pure conversions, exposed for tests.
std::string normalize_decimal(std::string_view driver_text);  // ".5" -> "0.5", "-.5" -> "-0.5", trims spaces
std::string format_guid(const SQLGUID& g);                     // "6F9619FF-8B86-D011-B42D-00C04FC964FF"
// A TIMESTAMP_STRUCT (fraction in ns, truncated to 100 ns) as a Timestamp without offset; nullopt if invalid.
std::optional<Timestamp> timestamp_from_struct(const SQL_TIMESTAMP_STRUCT& t);

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
    // Short ASCII text (decimal, datetimeoffset, time); nullopt for NULL.
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
