#include "agent/core/time_format.h"

#include <gtest/gtest.h>

namespace dmvlog {
namespace {

Timestamp utc(std::int64_t ticks) { return Timestamp{ticks, 0, false}; }

TEST(TimeFormat, Epoch) {
    EXPECT_EQ(format_timestamp(utc(0)), "1970-01-01 00:00:00.0000000");
    EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
    EXPECT_EQ(civil_from_ticks(0), (CivilTime{1970, 1, 1, 0, 0, 0, 0}));
}

TEST(TimeFormat, HundredNanosecondPrecision) {
    // 2026-11-23 12:34:56.1234567 UTC
    const CivilTime c{2026, 11, 23, 12, 34, 56, 1234567};
    const std::int64_t t = ticks_from_civil(c);
    EXPECT_EQ(t % kTicksPerSecond, 1234567);
    EXPECT_EQ(format_timestamp(utc(t)), "2026-11-23 12:34:56.1234567");
    EXPECT_EQ(format_timestamp(utc(t + 1)), "2026-11-23 12:34:56.1234568");
    EXPECT_EQ(civil_from_ticks(t), c);
    // known value: 2026-11-23T12:34:56Z is 1795437296 s after the epoch
    EXPECT_EQ(t, 1'795'437'296LL * kTicksPerSecond + 1234567);
}

TEST(TimeFormat, BeforeTheEpochAndTheRangeEnds) {
    EXPECT_EQ(format_timestamp(utc(-1)), "1969-12-31 23:59:59.9999999");
    const CivilTime first{1, 1, 1, 0, 0, 0, 0};
    const CivilTime last{9999, 12, 31, 23, 59, 59, 9999999};
    EXPECT_EQ(format_timestamp(utc(ticks_from_civil(first))), "0001-01-01 00:00:00.0000000");
    EXPECT_EQ(format_timestamp(utc(ticks_from_civil(last))), "9999-12-31 23:59:59.9999999");
    EXPECT_EQ(civil_from_ticks(ticks_from_civil(first)), first);
    EXPECT_EQ(civil_from_ticks(ticks_from_civil(last)), last);
    EXPECT_EQ(format_timestamp(utc(ticks_from_civil(CivilTime{1900, 1, 1, 0, 0, 0, 0}))), "1900-01-01 00:00:00.0000000");
}

TEST(TimeFormat, LeapYears) {
    EXPECT_EQ(days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28), 2);  // 2000 is leap
    EXPECT_EQ(days_from_civil(1900, 3, 1) - days_from_civil(1900, 2, 28), 1);  // 1900 is not
    EXPECT_EQ(days_from_civil(2024, 3, 1) - days_from_civil(2024, 2, 28), 2);
    EXPECT_TRUE(is_valid_civil(CivilTime{2024, 2, 29, 0, 0, 0, 0}));
    EXPECT_FALSE(is_valid_civil(CivilTime{2023, 2, 29, 0, 0, 0, 0}));
    EXPECT_FALSE(is_valid_civil(CivilTime{2023, 4, 31, 0, 0, 0, 0}));
    EXPECT_FALSE(is_valid_civil(CivilTime{2023, 13, 1, 0, 0, 0, 0}));
    EXPECT_FALSE(is_valid_civil(CivilTime{0, 1, 1, 0, 0, 0, 0}));
    EXPECT_FALSE(is_valid_civil(CivilTime{2023, 1, 1, 24, 0, 0, 0}));
    EXPECT_FALSE(is_valid_civil(CivilTime{2023, 1, 1, 0, 0, 0, 10'000'000}));
}

TEST(TimeFormat, EveryDayRoundTrips) {
    for (std::int64_t d = days_from_civil(1899, 1, 1); d < days_from_civil(2101, 1, 1); d += 1) {
        const std::int64_t t = d * kTicksPerDay + 12'345;
        ASSERT_EQ(ticks_from_civil(civil_from_ticks(t)), t) << d;
        ASSERT_EQ(parse_timestamp(format_timestamp(utc(t))), utc(t)) << d;
    }
}

TEST(TimeFormat, OffsetIsNormalisedToUtc) {
    // 2026-11-23 12:34:56.1234567 +09:00 is 03:34:56.1234567 UTC
    const Timestamp t = timestamp_from_wall(CivilTime{2026, 11, 23, 12, 34, 56, 1234567}, 540, true);
    EXPECT_EQ(format_timestamp(t), "2026-11-23 03:34:56.1234567");
    EXPECT_EQ(format_timestamp_with_offset(t), "2026-11-23 12:34:56.1234567 +09:00");
    EXPECT_EQ(t.offset_minutes, 540);
    EXPECT_TRUE(t.has_offset);

    const Timestamp w = timestamp_from_wall(CivilTime{2026, 1, 1, 0, 15, 0, 0}, -330, true);
    EXPECT_EQ(format_timestamp(w), "2026-01-01 05:45:00.0000000");
    EXPECT_EQ(format_timestamp_with_offset(w), "2026-01-01 00:15:00.0000000 -05:30");
    EXPECT_EQ(format_timestamp_with_offset(utc(0)), "1970-01-01 00:00:00.0000000 +00:00");
}

TEST(TimeFormat, ParseForms) {
    const Timestamp base = utc(ticks_from_civil(CivilTime{2026, 11, 23, 12, 34, 56, 0}));
    EXPECT_EQ(parse_timestamp("2026-11-23 12:34:56"), base);
    EXPECT_EQ(parse_timestamp("2026-11-23T12:34:56"), base);
    EXPECT_EQ(parse_timestamp("2026-11-23T12:34:56Z"), base);
    EXPECT_EQ(parse_timestamp("2026-11-23 12:34:56.1234567"), utc(base.utc_ticks + 1234567));
    EXPECT_EQ(parse_timestamp("2026-11-23 12:34:56.5"), utc(base.utc_ticks + 5'000'000));
    EXPECT_EQ(parse_timestamp("2026-11-23 12:34:56.500"), utc(base.utc_ticks + 5'000'000));
    EXPECT_EQ(parse_timestamp("2026-11-23 12:34:56.123456789"), utc(base.utc_ticks + 1234567));  // below 100 ns dropped
    EXPECT_EQ(parse_timestamp("2026-11-23 12:34"), utc(base.utc_ticks - 56 * kTicksPerSecond));
    EXPECT_EQ(parse_timestamp("2026-11-23"), utc(ticks_from_civil(CivilTime{2026, 11, 23, 0, 0, 0, 0})));
}

TEST(TimeFormat, ParseOffsets) {
    const auto a = parse_timestamp("2026-11-23 12:34:56.1234567 +09:00");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->has_offset);
    EXPECT_EQ(a->offset_minutes, 540);
    EXPECT_EQ(format_timestamp(*a), "2026-11-23 03:34:56.1234567");

    const auto b = parse_timestamp("2026-11-23T12:34:56-05:30");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->offset_minutes, -330);
    EXPECT_EQ(format_timestamp(*b), "2026-11-23 18:04:56.0000000");

    const auto c = parse_timestamp("2026-01-01 00:00:00 +00:00");
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->has_offset);
    EXPECT_EQ(c->offset_minutes, 0);

    const auto d = parse_timestamp("2026-01-01 01:00:00 +14:00");  // crosses back into the previous year
    ASSERT_TRUE(d);
    EXPECT_EQ(format_timestamp(*d), "2025-12-31 11:00:00.0000000");
}

TEST(TimeFormat, RoundTrips) {
    for (const char* text : {"2026-11-23 12:34:56.1234567", "0001-01-01 00:00:00.0000000", "9999-12-31 23:59:59.9999999",
                             "1969-07-20 20:17:40.0000001"}) {
        const auto t = parse_timestamp(text);
        ASSERT_TRUE(t) << text;
        EXPECT_EQ(format_timestamp(*t), text);
    }
    for (const char* text : {"2026-11-23 12:34:56.1234567 +09:00", "2026-11-23 12:34:56.0000000 -08:00",
                             "2000-02-29 23:59:59.9999999 -14:00"}) {
        const auto t = parse_timestamp(text);
        ASSERT_TRUE(t) << text;
        EXPECT_EQ(format_timestamp_with_offset(*t), text);
        EXPECT_EQ(parse_timestamp(format_timestamp_with_offset(*t)), t);
    }
}

TEST(TimeFormat, RejectsMalformedText) {
    for (const char* text :
         {"", "2026", "2026-11", "2026-1-23", "26-11-23", "2026-11-23 1:00:00", "2026-11-23 12:34:5",
          "2026-11-23 12:34:56.", "2026-11-23 12:34:56.1234567890", "2026-02-30", "2026-13-01", "2026-11-23 24:00:00",
          "2026-11-23 12:60:00", "2026-11-23 12:34:60", "2026-11-23 12:34:56 +15:00", "2026-11-23 12:34:56 +09",
          "2026-11-23 12:34:56 +09:60", "2026-11-23 12:34:56 junk", "2026-11-23 12:34:56Zjunk", "0000-01-01",
          " 2026-11-23", "2026-11-23 "}) {
        EXPECT_FALSE(parse_timestamp(text).has_value()) << "accepted: '" << text << "'";
    }
}

TEST(TimeFormat, TimeOfDay) {
    EXPECT_EQ(format_time_of_day(0), "00:00:00.0000000");
    EXPECT_EQ(format_time_of_day(kTicksPerDay - 1), "23:59:59.9999999");
    EXPECT_EQ(format_time_of_day((12 * 3600 + 34 * 60 + 56) * kTicksPerSecond + 1234567), "12:34:56.1234567");
    EXPECT_EQ(parse_time_of_day("12:34:56.1234567"), (12 * 3600 + 34 * 60 + 56) * kTicksPerSecond + 1234567);
    EXPECT_EQ(parse_time_of_day("00:00:00"), 0);
    EXPECT_EQ(parse_time_of_day("23:59:59.9"), (86399) * kTicksPerSecond + 9'000'000);
    EXPECT_FALSE(parse_time_of_day("24:00:00"));
    EXPECT_FALSE(parse_time_of_day("12:34"));
    EXPECT_FALSE(parse_time_of_day("12:34:56.x"));
    EXPECT_FALSE(parse_time_of_day("12:34:56 "));
}

}  // namespace
}  // namespace dmvlog
