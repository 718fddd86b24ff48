// slice_statement: SQL Server's UTF-16 byte offsets applied to a UTF-8 batch.
#include "agent/collect/statement_slice.h"

#include <gtest/gtest.h>

namespace dmvlog::collect {
namespace {

constexpr std::optional<long long> kNull = std::nullopt;

// Character (UTF-16 code unit) index i is byte offset 2*i. The end offset is inclusive per Microsoft's formula:
// SUBSTRING(text, start/2 + 1, (end - start)/2 + 1).
const std::string kAscii = "SELECT 1; SELECT 2; SELECT 3;";  // "SELECT 2;" is code units 10..18

TEST(SliceStatement, Ascii) {
    EXPECT_EQ(slice_statement(kAscii, 20, 36), "SELECT 2;");
    EXPECT_EQ(slice_statement(kAscii, 0, 16), "SELECT 1;");
    EXPECT_EQ(slice_statement(kAscii, 40, 56), "SELECT 3;");
    EXPECT_EQ(slice_statement(kAscii, 20, 20), "S");
}

TEST(SliceStatement, EndMinusOneMeansToTheEnd) {
    EXPECT_EQ(slice_statement(kAscii, 20, -1), "SELECT 2; SELECT 3;");
    EXPECT_EQ(slice_statement(kAscii, 0, -1), kAscii);
    EXPECT_EQ(slice_statement(kAscii, 20, -7), "SELECT 2; SELECT 3;");
}

TEST(SliceStatement, Nulls) {
    EXPECT_EQ(slice_statement(kAscii, kNull, kNull), kAscii);
    EXPECT_EQ(slice_statement(kAscii, kNull, 16), "SELECT 1;");
    EXPECT_EQ(slice_statement(kAscii, 40, kNull), "SELECT 3;");
}

TEST(SliceStatement, OddOffsetsRoundDown) {
    EXPECT_EQ(slice_statement(kAscii, 21, 37), "SELECT 2;");
    EXPECT_EQ(slice_statement(kAscii, 1, 17), "SELECT 1;");
}

TEST(SliceStatement, Japanese) {
    // Each of 日本語 is one UTF-16 code unit (2 bytes) but 3 bytes of UTF-8.
    const std::string batch = "SELECT N'日本語'; SELECT 2;";  // 日=9 本=10 語=11 '=12 ;=13, "SELECT 2;" = 15..23
    EXPECT_EQ(slice_statement(batch, 0, 26), "SELECT N'日本語';");
    EXPECT_EQ(slice_statement(batch, 30, 46), "SELECT 2;");
    EXPECT_EQ(slice_statement(batch, 30, -1), "SELECT 2;");
    EXPECT_EQ(slice_statement(batch, 18, 22), "日本語");
    EXPECT_EQ(slice_statement(batch, 20, 20), "本");
}

TEST(SliceStatement, SurrogatePairBeforeTheStatement) {
    // U+1F600 is two UTF-16 code units (8 and 9): the statement after it starts at code unit 13, not 12.
    const std::string batch = "SELECT '\xF0\x9F\x98\x80'; SELECT 2;";
    EXPECT_EQ(slice_statement(batch, 26, 42), "SELECT 2;");
    EXPECT_EQ(slice_statement(batch, 26, -1), "SELECT 2;");
    EXPECT_EQ(slice_statement(batch, 0, 22), "SELECT '\xF0\x9F\x98\x80';");
}

TEST(SliceStatement, NeverSplitsASurrogatePair) {
    const std::string batch = "SELECT '\xF0\x9F\x98\x80'; SELECT 2;";
    // Start on the second unit of the pair: moves back to its first.
    EXPECT_EQ(slice_statement(batch, 18, 22), "\xF0\x9F\x98\x80';");
    // End on the first unit of the pair: extends past its second.
    EXPECT_EQ(slice_statement(batch, 0, 16), "SELECT '\xF0\x9F\x98\x80");
    // Both inside the same pair.
    EXPECT_EQ(slice_statement(batch, 18, 18), "\xF0\x9F\x98\x80");
    EXPECT_EQ(slice_statement(batch, 16, 16), "\xF0\x9F\x98\x80");
}

TEST(SliceStatement, OffsetsPastTheEnd) {
    EXPECT_EQ(slice_statement(kAscii, 20, 1000), "SELECT 2; SELECT 3;");
    EXPECT_EQ(slice_statement(kAscii, 56, 1000), ";");
    // A start past the end gives the whole batch, not an empty statement.
    EXPECT_EQ(slice_statement(kAscii, 58, -1), kAscii);
    EXPECT_EQ(slice_statement(kAscii, 1000, 2000), kAscii);
}

TEST(SliceStatement, StartAfterEndGivesTheWholeBatch) {
    EXPECT_EQ(slice_statement(kAscii, 20, 10), kAscii);
    EXPECT_EQ(slice_statement(kAscii, 20, 19), kAscii);
}

TEST(SliceStatement, NegativeStartIsZero) { EXPECT_EQ(slice_statement(kAscii, -4, 16), "SELECT 1;"); }

TEST(SliceStatement, EmptyBatch) {
    EXPECT_EQ(slice_statement("", kNull, kNull), "");
    EXPECT_EQ(slice_statement("", 0, -1), "");
    EXPECT_EQ(slice_statement("", 20, 40), "");
}

TEST(SliceStatement, MalformedUtf8CountsAsOneUnit) {
    EXPECT_EQ(slice_statement("a\xFF" "bc", 4, 6), "bc");
    EXPECT_EQ(slice_statement("a\xFF" "bc", 2, 2), "\xEF\xBF\xBD");
}

}  // namespace
}  // namespace dmvlog::collect
