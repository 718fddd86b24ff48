#include "agent/odbc/fetch.h"

#include <algorithm>
#include <cstdio>

#include "agent/core/time_format.h"
#include "agent/core/utf.h"

// Why text is fetched as SQL_C_WCHAR rather than SQL_C_CHAR with ClientCharset=UTF-8 (measured with FreeTDS
// 1.3.17 against the simulator's selftest_types, chunks of 1,000 bytes):
// - SQL_C_CHAR depends on the ClientCharset of the connection string: without it FreeTDS converts to
//   ISO-8859-1 and Japanese comes back as '?'. With it, the text is right (the 100,000-character value gave
//   its 134,048 UTF-8 bytes) but the driver cannot tell the length in advance (SQL_NO_TOTAL on every chunk).
// - SQL_C_WCHAR is what SQL Server sends for n-types and xml, is independent of ClientCharset, reports the
//   total length on the first chunk (one allocation), and a surrogate pair split between two chunks is
//   rejoined because the whole value is converted to UTF-8 once, at the end.
// datetimeoffset and time are read as SQL_C_BINARY into Microsoft's documented structs (FreeTDS fills
// them; it rejects SQL_C_SS_TIMESTAMPOFFSET), which needs no text parsing. time is returned as text
// "HH:MM:SS.fffffff" because Value has no time-of-day type and a Timestamp on 1970-01-01 would read as an
// instant in the stores.

namespace dmvlog::odbc {

namespace {

constexpr std::size_t kWideChunkUnits = 16 * 1024;  // UTF-16 units per SQLGetData call (32 KiB)
constexpr std::size_t kByteChunk = 32 * 1024;

}  // namespace

FetchKind fetch_kind(SQLSMALLINT sql_type) {
    switch (sql_type) {
        case SQL_BIT:
        case SQL_TINYINT:
        case SQL_SMALLINT:
        case SQL_INTEGER:
        case SQL_BIGINT:
            return FetchKind::integer;
        case SQL_DECIMAL:
        case SQL_NUMERIC:
            return FetchKind::decimal;
        case SQL_FLOAT:
        case SQL_REAL:
        case SQL_DOUBLE:
            return FetchKind::floating;
        case SQL_BINARY:
        case SQL_VARBINARY:
        case SQL_LONGVARBINARY:
            return FetchKind::binary;
        case SQL_TYPE_TIMESTAMP:
        case SQL_TIMESTAMP:
        case SQL_TYPE_DATE:
        case SQL_DATE:
            return FetchKind::timestamp;
        case kSqlSsTimestampOffset:
            return FetchKind::timestamp_offset;
        case kSqlSsTime2:
        case SQL_TYPE_TIME:
        case SQL_TIME:
            return FetchKind::time_of_day;
        case SQL_GUID:
            return FetchKind::guid;
        default:  // char, varchar, nchar, nvarchar, text, ntext, xml, sql_variant and anything unknown
            return FetchKind::text;
    }
}

std::string_view to_string(FetchKind k) {
    switch (k) {
        case FetchKind::integer: return "integer";
        case FetchKind::decimal: return "decimal";
        case FetchKind::floating: return "floating";
        case FetchKind::text: return "text";
        case FetchKind::binary: return "binary";
        case FetchKind::timestamp: return "timestamp";
        case FetchKind::timestamp_offset: return "timestamp_offset";
        case FetchKind::time_of_day: return "time_of_day";
        case FetchKind::guid: return "guid";
    }
    return "text";
}

std::string normalize_decimal(std::string_view text) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    std::string out;
    out.reserve(text.size() + 1);
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
        if (text.front() == '-') out.push_back('-');
        text.remove_prefix(1);
    }
    if (text.empty() || text.front() == '.') out.push_back('0');
    out.append(text);
    return out;
}

std::string format_guid(const SQLGUID& g) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X",
                  static_cast<unsigned>(g.Data1), static_cast<unsigned>(g.Data2), static_cast<unsigned>(g.Data3),
                  g.Data4[0], g.Data4[1], g.Data4[2], g.Data4[3], g.Data4[4], g.Data4[5], g.Data4[6], g.Data4[7]);
    return buf;
}

std::optional<Timestamp> timestamp_from_struct(const SQL_TIMESTAMP_STRUCT& t) {
    CivilTime c;
    c.year = t.year;
    c.month = t.month;
    c.day = t.day;
    c.hour = t.hour;
    c.minute = t.minute;
    c.second = t.second;
    if (t.fraction >= 1'000'000'000u) return std::nullopt;
    c.ticks = static_cast<std::int32_t>(t.fraction / 100);
    if (!is_valid_civil(c)) return std::nullopt;
    return timestamp_from_wall(c, 0, false);
}

std::optional<Timestamp> timestamp_from_struct(const SsTimestampOffset& t) {
    CivilTime c;
    c.year = t.year;
    c.month = t.month;
    c.day = t.day;
    c.hour = t.hour;
    c.minute = t.minute;
    c.second = t.second;
    if (t.fraction >= 1'000'000'000u) return std::nullopt;
    c.ticks = static_cast<std::int32_t>(t.fraction / 100);
    if (!is_valid_civil(c)) return std::nullopt;
    if (t.timezone_hour < -14 || t.timezone_hour > 14 || t.timezone_minute < -59 || t.timezone_minute > 59)
        return std::nullopt;
    if ((t.timezone_hour > 0 && t.timezone_minute < 0) || (t.timezone_hour < 0 && t.timezone_minute > 0))
        return std::nullopt;
    const int offset = t.timezone_hour * 60 + t.timezone_minute;
    if (offset < -14 * 60 || offset > 14 * 60) return std::nullopt;
    return timestamp_from_wall(c, offset, true);
}

std::optional<std::string> time_from_struct(const SsTime2& t) {
    if (t.hour > 23 || t.minute > 59 || t.second > 59 || t.fraction >= 1'000'000'000u) return std::nullopt;
    const std::int64_t ticks =
        (static_cast<std::int64_t>(t.hour) * 3600 + t.minute * 60 + t.second) * kTicksPerSecond + t.fraction / 100;
    return format_time_of_day(ticks);
}

RowReader::RowReader(SQLHSTMT stmt, const std::vector<ColumnInfo>& columns, const CallSite& site)
    : stmt_(stmt), columns_(columns), site_(site) {
    site_.messages = nullptr;
    kinds_.reserve(columns.size());
    for (const auto& c : columns) kinds_.push_back(fetch_kind(c.sql_type));
}

Row RowReader::read() {
    Row row;
    row.reserve(columns_.size());
    for (std::size_t i = 0; i < columns_.size(); ++i) {
        const auto col = static_cast<SQLUSMALLINT>(i + 1);
        switch (kinds_[i]) {
            case FetchKind::integer:
                row.push_back(read_integer(col));
                break;
            case FetchKind::floating:
                row.push_back(read_double(col));
                break;
            case FetchKind::text:
                row.push_back(read_text(col));
                break;
            case FetchKind::binary:
                row.push_back(read_binary(col));
                break;
            case FetchKind::timestamp:
                row.push_back(read_timestamp(col));
                break;
            case FetchKind::guid:
                row.push_back(read_guid(col));
                break;
            case FetchKind::decimal: {
                auto text = read_short_char(col);
                if (!text) {
                    row.emplace_back();
                } else {
                    row.emplace_back(Decimal{normalize_decimal(*text)});
                }
                break;
            }
            case FetchKind::timestamp_offset:
                row.push_back(read_timestamp_offset(col));
                break;
            case FetchKind::time_of_day:
                row.push_back(read_time(col));
                break;
        }
    }
    return row;
}

Value RowReader::read_integer(SQLUSMALLINT col) {
    SQLBIGINT v = 0;
    SQLLEN ind = 0;
    check(SQLGetData(stmt_, col, SQL_C_SBIGINT, &v, sizeof v, &ind), site_, "SQLGetData");
    if (ind == SQL_NULL_DATA) return std::monostate{};
    return static_cast<std::int64_t>(v);
}

Value RowReader::read_double(SQLUSMALLINT col) {
    SQLDOUBLE v = 0;
    SQLLEN ind = 0;
    check(SQLGetData(stmt_, col, SQL_C_DOUBLE, &v, sizeof v, &ind), site_, "SQLGetData");
    if (ind == SQL_NULL_DATA) return std::monostate{};
    return static_cast<double>(v);
}

Value RowReader::read_timestamp(SQLUSMALLINT col) {
    SQL_TIMESTAMP_STRUCT t{};
    SQLLEN ind = 0;
    check(SQLGetData(stmt_, col, SQL_C_TYPE_TIMESTAMP, &t, sizeof t, &ind), site_, "SQLGetData");
    if (ind == SQL_NULL_DATA) return std::monostate{};
    auto ts = timestamp_from_struct(t);
    if (!ts) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "%d-%u-%u %u:%u:%u fraction %lu", t.year, t.month, t.day, t.hour, t.minute,
                      t.second, static_cast<unsigned long>(t.fraction));
        throw conversion_error(col, "timestamp", buf);
    }
    return *ts;
}

Value RowReader::read_guid(SQLUSMALLINT col) {
    SQLGUID g{};
    SQLLEN ind = 0;
    check(SQLGetData(stmt_, col, SQL_C_GUID, &g, sizeof g, &ind), site_, "SQLGetData");
    if (ind == SQL_NULL_DATA) return std::monostate{};
    return format_guid(g);
}

bool RowReader::read_struct(SQLUSMALLINT col, void* out, std::size_t size, std::string_view what) {
    SQLLEN ind = 0;
    check(SQLGetData(stmt_, col, SQL_C_BINARY, out, static_cast<SQLLEN>(size), &ind), site_, "SQLGetData");
    if (ind == SQL_NULL_DATA) return false;
    if (ind != static_cast<SQLLEN>(size))
        throw conversion_error(col, what, std::to_string(ind) + " bytes instead of " + std::to_string(size));
    return true;
}

Value RowReader::read_timestamp_offset(SQLUSMALLINT col) {
    SsTimestampOffset t{};
    if (!read_struct(col, &t, sizeof t, "datetimeoffset")) return std::monostate{};
    auto ts = timestamp_from_struct(t);
    if (!ts) {
        char buf[128];
        std::snprintf(buf, sizeof buf, "%d-%u-%u %u:%u:%u fraction %lu offset %d:%d", t.year, t.month, t.day, t.hour,
                      t.minute, t.second, static_cast<unsigned long>(t.fraction), t.timezone_hour, t.timezone_minute);
        throw conversion_error(col, "datetimeoffset", buf);
    }
    return *ts;
}

Value RowReader::read_time(SQLUSMALLINT col) {
    SsTime2 t{};
    if (!read_struct(col, &t, sizeof t, "time")) return std::monostate{};
    auto text = time_from_struct(t);
    if (!text) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "%u:%u:%u fraction %lu", t.hour, t.minute, t.second,
                      static_cast<unsigned long>(t.fraction));
        throw conversion_error(col, "time", buf);
    }
    return *text;
}

std::optional<std::string> RowReader::read_short_char(SQLUSMALLINT col) {
    char buf[128];
    SQLLEN ind = 0;
    const SQLRETURN rc = check(SQLGetData(stmt_, col, SQL_C_CHAR, buf, sizeof buf, &ind), site_, "SQLGetData");
    if (ind == SQL_NULL_DATA) return std::nullopt;
    if (rc == SQL_SUCCESS_WITH_INFO && (ind == SQL_NO_TOTAL || ind >= static_cast<SQLLEN>(sizeof buf)))
        throw conversion_error(col, "short text", std::string_view(buf, sizeof buf - 1));
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(std::max<SQLLEN>(ind, 0)), sizeof buf - 1);
    return std::string(buf, n);
}

Value RowReader::read_text(SQLUSMALLINT col) {
    if (wide_.empty()) wide_.resize(kWideChunkUnits + 1);
    const std::size_t cap = wide_.size() - 1;  // units per call, leaving room for the terminator
    std::u16string acc;
    bool first = true;
    for (;;) {
        SQLLEN ind = 0;
        const SQLRETURN rc = check(SQLGetData(stmt_, col, SQL_C_WCHAR, wide_.data(),
                                              static_cast<SQLLEN>(wide_.size() * sizeof(SQLWCHAR)), &ind),
                                   site_, "SQLGetData");
        if (rc == SQL_NO_DATA) break;  // everything was returned by the previous call
        if (ind == SQL_NULL_DATA) return std::monostate{};
        std::size_t got = cap;
        if (ind != SQL_NO_TOTAL) got = std::min(cap, static_cast<std::size_t>(ind) / sizeof(SQLWCHAR));
        if (first && ind != SQL_NO_TOTAL) acc.reserve(static_cast<std::size_t>(ind) / sizeof(SQLWCHAR));
        first = false;
        for (std::size_t i = 0; i < got; ++i) acc.push_back(static_cast<char16_t>(wide_[i]));
        if (rc == SQL_SUCCESS) break;  // the last (or only) chunk
        // SQL_SUCCESS_WITH_INFO: 01004, more to come -- unless the whole remaining value fitted, in which
        // case the info was about something else.
        if (ind != SQL_NO_TOTAL && static_cast<std::size_t>(ind) / sizeof(SQLWCHAR) <= cap) break;
    }
    return utf16_to_utf8(acc);
}

Value RowReader::read_binary(SQLUSMALLINT col) {
    if (bytes_.empty()) bytes_.resize(kByteChunk);
    const std::size_t cap = bytes_.size();
    Bytes acc;
    bool first = true;
    for (;;) {
        SQLLEN ind = 0;
        const SQLRETURN rc = check(
            SQLGetData(stmt_, col, SQL_C_BINARY, bytes_.data(), static_cast<SQLLEN>(cap), &ind), site_, "SQLGetData");
        if (rc == SQL_NO_DATA) break;
        if (ind == SQL_NULL_DATA) return std::monostate{};
        std::size_t got = cap;
        if (ind != SQL_NO_TOTAL) got = std::min(cap, static_cast<std::size_t>(ind));
        if (first && ind != SQL_NO_TOTAL) acc.reserve(static_cast<std::size_t>(ind));
        first = false;
        acc.insert(acc.end(), bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(got));
        if (rc == SQL_SUCCESS) break;
        if (ind != SQL_NO_TOTAL && static_cast<std::size_t>(ind) <= cap) break;
    }
    return acc;
}

Error RowReader::conversion_error(SQLUSMALLINT col, std::string_view what, std::string_view text) const {
    const std::string& name = columns_[col - 1].name;
    return make_error("SQLGetData", std::string(site_.context),
                      "column " + std::to_string(col) + " '" + name + "': cannot read " + std::string(what) +
                          " from '" + std::string(text) + "'",
                      "22018");
}

}  // namespace dmvlog::odbc
