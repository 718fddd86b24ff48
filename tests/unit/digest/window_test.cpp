// The digest's default window: the last complete clock hour in a time zone, across daylight-saving changes
// and in zones whose offset is not whole hours; and its label.
#include <gtest/gtest.h>

#include "agent/core/time_format.h"
#include "agent/digest/digest.h"

namespace dmvlog::digest {
namespace {

std::int64_t t(const std::string& utc) { return parse_timestamp(utc)->utc_ticks; }
std::string s(std::int64_t ticks) { return format_timestamp(Timestamp{ticks, 0, false}).substr(0, 19); }

TEST(LastCompleteHour, UtcIsTheHourBeforeNow) {
    query::Zone utc;
    auto w = last_complete_hour(utc, t("2026-11-23 14:05:10"));
    EXPECT_EQ(s(w.from), "2026-11-23 13:00:00");
    EXPECT_EQ(s(w.to), "2026-11-23 14:00:00");
    EXPECT_TRUE(w.notes.empty());
    auto on = last_complete_hour(utc, t("2026-11-23 14:00:00"));   // exactly on the hour: that hour just ended
    EXPECT_EQ(s(on.from), "2026-11-23 13:00:00");
    EXPECT_EQ(s(on.to), "2026-11-23 14:00:00");
}

TEST(LastCompleteHour, HalfHourZoneHasItsOwnClockHours) {
    query::Zone india("Asia/Kolkata");   // +05:30
    auto w = last_complete_hour(india, t("2026-11-23 08:45:00"));   // 14:15 local
    EXPECT_EQ(s(w.from), "2026-11-23 07:30:00");                     // 13:00 local
    EXPECT_EQ(s(w.to), "2026-11-23 08:30:00");                       // 14:00 local
    EXPECT_EQ(window_label(w, india), "2026-11-23 13:00–14:00 IST");
}

TEST(LastCompleteHour, SpringForwardHourIsOneRealHour) {
    query::Zone berlin("Europe/Berlin");   // 2026-03-29 02:00 CET -> 03:00 CEST (01:00 UTC)
    auto w = last_complete_hour(berlin, t("2026-03-29 01:20:00"));   // 03:20 CEST
    EXPECT_EQ(s(w.from), "2026-03-29 00:00:00");                       // 01:00 CET
    EXPECT_EQ(s(w.to), "2026-03-29 01:00:00");                         // 03:00 CEST
    EXPECT_EQ(w.to - w.from, 3600 * kTicksPerSecond);
    EXPECT_EQ(window_label(w, berlin), "2026-03-29 01:00 CET–03:00 CEST");
}

TEST(LastCompleteHour, FallBackHoursFollowEachOtherWithoutOverlap) {
    query::Zone berlin("Europe/Berlin");   // 2026-10-25 03:00 CEST -> 02:00 CET (01:00 UTC): 02:00-03:00 twice
    auto first = last_complete_hour(berlin, t("2026-10-25 01:10:00"));    // 02:10 CET (second pass)
    EXPECT_EQ(s(first.from), "2026-10-25 00:00:00");                       // 02:00 CEST
    EXPECT_EQ(s(first.to), "2026-10-25 01:00:00");                         // 03:00 CEST = 02:00 CET
    auto second = last_complete_hour(berlin, t("2026-10-25 02:10:00"));   // 03:10 CET
    EXPECT_EQ(s(second.from), "2026-10-25 01:00:00");                      // 02:00 CET
    EXPECT_EQ(s(second.to), "2026-10-25 02:00:00");                        // 03:00 CET
    EXPECT_EQ(first.to, second.from);
    EXPECT_EQ(window_label(first, berlin), "2026-10-25 02:00 CEST–02:00 CET");
    EXPECT_EQ(window_label(second, berlin), "2026-10-25 02:00–03:00 CET");
}

TEST(WindowLabel, SecondsAndDatesWhenNeeded) {
    query::Zone utc;
    query::Window w{t("2026-11-23 23:30:15"), t("2026-11-24 00:30:15"), false, {}};
    EXPECT_EQ(window_label(w, utc), "2026-11-23 23:30:15 UTC – 2026-11-24 00:30:15 UTC");
}

TEST(Format, Names) {
    EXPECT_EQ(parse_format("text"), Format::text);
    EXPECT_EQ(parse_format("markdown"), Format::markdown);
    EXPECT_EQ(parse_format("html"), Format::html);
    EXPECT_EQ(parse_format("json"), Format::json);
    EXPECT_FALSE(parse_format("pdf"));
}

}  // namespace
}  // namespace dmvlog::digest
