#include "agent/odbc/fetch.h"

#include <gtest/gtest.h>

#include <cstring>

#include "agent/core/time_format.h"

namespace dmvlog::odbc {
namespace {

TEST(FetchKind, EverySqlServerType) {
    EXPECT_EQ(fetch_kind(SQL_BIT), FetchKind::integer);
    EXPECT_EQ(fetch_kind(SQL_TINYINT), FetchKind::integer);
    EXPECT_EQ(fetch_kind(SQL_SMALLINT), FetchKind::integer);
    EXPECT_EQ(fetch_kind(SQL_INTEGER), FetchKind::integer);
    EXPECT_EQ(fetch_kind(SQL_BIGINT), FetchKind::integer);
    EXPECT_EQ(fetch_kind(SQL_DECIMAL), FetchKind::decimal);  // also money with FreeTDS
    EXPECT_EQ(fetch_kind(SQL_NUMERIC), FetchKind::decimal);
    EXPECT_EQ(fetch_kind(SQL_FLOAT), FetchKind::floating);
    EXPECT_EQ(fetch_kind(SQL_REAL), FetchKind::floating);
    EXPECT_EQ(fetch_kind(SQL_DOUBLE), FetchKind::floating);
    for (int t : {SQL_CHAR, SQL_VARCHAR, SQL_LONGVARCHAR, SQL_WCHAR, SQL_WVARCHAR, SQL_WLONGVARCHAR, int{kSqlSsXml},
                  int{kSqlSsVariant}, -9999})
        EXPECT_EQ(fetch_kind(static_cast<SQLSMALLINT>(t)), FetchKind::text) << t;
    EXPECT_EQ(fetch_kind(SQL_BINARY), FetchKind::binary);
    EXPECT_EQ(fetch_kind(SQL_VARBINARY), FetchKind::binary);
    EXPECT_EQ(fetch_kind(SQL_LONGVARBINARY), FetchKind::binary);
    EXPECT_EQ(fetch_kind(SQL_TYPE_TIMESTAMP), FetchKind::timestamp);
    EXPECT_EQ(fetch_kind(SQL_TYPE_DATE), FetchKind::timestamp);
    EXPECT_EQ(fetch_kind(kSqlSsTimestampOffset), FetchKind::timestamp_offset);
    EXPECT_EQ(fetch_kind(kSqlSsTime2), FetchKind::time_of_day);
    EXPECT_EQ(fetch_kind(SQL_GUID), FetchKind::guid);
    EXPECT_EQ(to_string(FetchKind::timestamp_offset), "timestamp_offset");
    EXPECT_EQ(to_string(FetchKind::guid), "guid");
}

TEST(FetchConvert, DecimalTextKeepsEveryDigit) {
    EXPECT_EQ(normalize_decimal("-1234567890123456789012345678.0123456789"),
              "-1234567890123456789012345678.0123456789");
    EXPECT_EQ(normalize_decimal("12.3400"), "12.3400");
    EXPECT_EQ(normalize_decimal(".5"), "0.5");
    EXPECT_EQ(normalize_decimal("-.5"), "-0.5");
    EXPECT_EQ(normalize_decimal("+7"), "7");
    EXPECT_EQ(normalize_decimal("  42 "), "42");
    EXPECT_EQ(normalize_decimal("0"), "0");
}

TEST(FetchConvert, GuidIsUppercaseWithDashes) {
    SQLGUID g{};
    g.Data1 = 0x6F9619FF;
    g.Data2 = 0x8B86;
    g.Data3 = 0xD011;
    const unsigned char d4[8] = {0xB4, 0x2D, 0x00, 0xC0, 0x4F, 0xC9, 0x64, 0xFF};
    for (int i = 0; i < 8; ++i) g.Data4[i] = d4[i];
    EXPECT_EQ(format_guid(g), "6F9619FF-8B86-D011-B42D-00C04FC964FF");
    EXPECT_EQ(format_guid(SQLGUID{}), "00000000-0000-0000-0000-000000000000");
}

TEST(FetchConvert, TimestampStructKeeps100ns) {
    SQL_TIMESTAMP_STRUCT t{2026, 11, 23, 12, 34, 56, 123'456'700};
    const auto ts = timestamp_from_struct(t);
    ASSERT_TRUE(ts);
    EXPECT_FALSE(ts->has_offset);
    EXPECT_EQ(format_timestamp(*ts), "2026-11-23 12:34:56.1234567");
    t.fraction = 123'456'789;  // below 100 ns is dropped
    EXPECT_EQ(format_timestamp(*timestamp_from_struct(t)), "2026-11-23 12:34:56.1234567");
    t.fraction = 1'000'000'000;
    EXPECT_FALSE(timestamp_from_struct(t));
    t = SQL_TIMESTAMP_STRUCT{2026, 2, 30, 0, 0, 0, 0};
    EXPECT_FALSE(timestamp_from_struct(t));
    t = SQL_TIMESTAMP_STRUCT{2026, 11, 23, 0, 0, 0, 0};  // a date
    EXPECT_EQ(format_timestamp(*timestamp_from_struct(t)), "2026-11-23 00:00:00.0000000");
}

TEST(FetchConvert, TimestampOffsetStructIsNormalisedToUtc) {
    // the bytes FreeTDS returned for 2026-11-23 12:34:56.1234567 +09:00 (measured)
    const unsigned char raw[20] = {0xea, 0x07, 0x0b, 0x00, 0x17, 0x00, 0x0c, 0x00, 0x22, 0x00,
                                   0x38, 0x00, 0xbc, 0xcc, 0x5b, 0x07, 0x09, 0x00, 0x00, 0x00};
    SsTimestampOffset t{};
    std::memcpy(&t, raw, sizeof t);
    const auto ts = timestamp_from_struct(t);
    ASSERT_TRUE(ts);
    EXPECT_TRUE(ts->has_offset);
    EXPECT_EQ(ts->offset_minutes, 540);
    EXPECT_EQ(format_timestamp(*ts), "2026-11-23 03:34:56.1234567");
    EXPECT_EQ(format_timestamp_with_offset(*ts), "2026-11-23 12:34:56.1234567 +09:00");

    SsTimestampOffset w{2026, 1, 1, 0, 15, 0, 0, -5, -30};
    const auto ws = timestamp_from_struct(w);
    ASSERT_TRUE(ws);
    EXPECT_EQ(ws->offset_minutes, -330);
    EXPECT_EQ(format_timestamp(*ws), "2026-01-01 05:45:00.0000000");

    SsTimestampOffset zero{2026, 1, 1, 0, 0, 0, 0, 0, 0};
    ASSERT_TRUE(timestamp_from_struct(zero));
    EXPECT_TRUE(timestamp_from_struct(zero)->has_offset);  // +00:00 is an offset

    SsTimestampOffset mixed{2026, 1, 1, 0, 0, 0, 0, 5, -30};  // signs disagree
    EXPECT_FALSE(timestamp_from_struct(mixed));
    SsTimestampOffset far{2026, 1, 1, 0, 0, 0, 0, 15, 0};
    EXPECT_FALSE(timestamp_from_struct(far));
    SsTimestampOffset bad_day{2026, 4, 31, 0, 0, 0, 0, 0, 0};
    EXPECT_FALSE(timestamp_from_struct(bad_day));
}

TEST(FetchConvert, TimeStructAsText) {
    EXPECT_EQ(time_from_struct(SsTime2{12, 34, 56, 123'456'700}), "12:34:56.1234567");
    EXPECT_EQ(time_from_struct(SsTime2{0, 0, 0, 0}), "00:00:00.0000000");
    EXPECT_EQ(time_from_struct(SsTime2{23, 59, 59, 999'999'900}), "23:59:59.9999999");
    EXPECT_FALSE(time_from_struct(SsTime2{24, 0, 0, 0}));
    EXPECT_FALSE(time_from_struct(SsTime2{0, 0, 0, 1'000'000'000}));
}

}  // namespace
}  // namespace dmvlog::odbc
