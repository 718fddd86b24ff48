// Durations in configuration and declarations: "500ms", "5s", "1m", "2h", "7d".
#include "agent/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dmvlog::config {
namespace {

using namespace std::chrono_literals;

TEST(Duration, Units) {
    EXPECT_EQ(parse_duration("500ms"), 500ms);
    EXPECT_EQ(parse_duration("5s"), 5s);
    EXPECT_EQ(parse_duration("1m"), 1min);
    EXPECT_EQ(parse_duration("2h"), 2h);
    EXPECT_EQ(parse_duration("7d"), std::chrono::hours(7 * 24));
    EXPECT_EQ(parse_duration("0s"), 0ms);
    EXPECT_EQ(parse_duration("0090s"), 90s);
}

TEST(Duration, SignIsAcceptedSoCallersCanCheckRanges) {
    EXPECT_EQ(parse_duration("-5s"), -5s);
    EXPECT_EQ(parse_duration("+5s"), 5s);
}

TEST(Duration, Invalid) {
    for (const char* bad : {"", "5", "s", "5 s", " 5s", "5s ", "5S", "1.5s", "5sec", "5min", "1h30m", "-", "ms", "5us"}) {
        EXPECT_THROW(parse_duration(bad), std::invalid_argument) << bad;
    }
}

TEST(Duration, MessagesSayWhatIsWrong) {
    try {
        parse_duration("5");
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(),
                     "invalid duration \"5\": the unit is missing; a duration is an integer and a unit: ms, s, m, h or "
                     "d, e.g. \"500ms\", \"5s\", \"7d\"");
    }
    try {
        parse_duration("5min");
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr("unknown unit 'min'"));
    }
}

TEST(Duration, Overflow) {
    EXPECT_THROW(parse_duration("99999999999999999999ms"), std::invalid_argument);
    EXPECT_THROW(parse_duration("9223372036854775807d"), std::invalid_argument);
    EXPECT_EQ(parse_duration("9223372036854775807ms").count(), 9223372036854775807LL);
}

TEST(Duration, Format) {
    EXPECT_EQ(format_duration(0ms), "0s");
    EXPECT_EQ(format_duration(500ms), "500ms");
    EXPECT_EQ(format_duration(1500ms), "1500ms");
    EXPECT_EQ(format_duration(5s), "5s");
    EXPECT_EQ(format_duration(90s), "90s");
    EXPECT_EQ(format_duration(2min), "2m");
    EXPECT_EQ(format_duration(3h), "3h");
    EXPECT_EQ(format_duration(std::chrono::hours(48)), "2d");
    EXPECT_EQ(format_duration(-5s), "-5s");
    for (const char* text : {"500ms", "5s", "1m", "2h", "7d"}) EXPECT_EQ(format_duration(parse_duration(text)), text);
}

}  // namespace
}  // namespace dmvlog::config
