#include "agent/core/utf.h"

#include <gtest/gtest.h>

namespace dmvlog {
namespace {

TEST(Utf, AsciiBothWays) {
    EXPECT_EQ(utf16_to_utf8(u"SELECT 1"), "SELECT 1");
    EXPECT_EQ(utf8_to_utf16("SELECT 1"), u"SELECT 1");
    EXPECT_EQ(utf16_to_utf8(u""), "");
    EXPECT_EQ(utf8_to_utf16(""), u"");
}

TEST(Utf, JapaneseBothWays) {
    const std::string utf8 = "こんにちは 世界";
    const std::u16string utf16 = u"こんにちは 世界";
    EXPECT_EQ(utf8.size(), 22u);  // 7 characters of 3 bytes and a space
    EXPECT_EQ(utf16.size(), 8u);
    EXPECT_EQ(utf16_to_utf8(utf16), utf8);
    EXPECT_EQ(utf8_to_utf16(utf8), utf16);
}

TEST(Utf, EveryEncodedLength) {
    // U+0041 (1 byte), U+00E9 (2), U+65E5 (3), U+1F600 (4, a surrogate pair in UTF-16)
    const std::u16string u = u"A\u00e9\u65e5\U0001F600";
    ASSERT_EQ(u.size(), 5u);
    const std::string s = utf16_to_utf8(u);
    EXPECT_EQ(s, "A\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80");
    EXPECT_EQ(utf8_to_utf16(s), u);
}

TEST(Utf, SurrogatePairs) {
    // U+20BB7 (𠮷, a Japanese name character outside the BMP) and U+10FFFF (the last code point)
    const std::u16string u = {0xD842, 0xDFB7, 0xDBFF, 0xDFFF};
    const std::string s = utf16_to_utf8(u);
    EXPECT_EQ(s, "\xF0\xA0\xAE\xB7\xF4\x8F\xBF\xBF");
    EXPECT_EQ(utf8_to_utf16(s), u);
    EXPECT_EQ(utf8_to_utf16("𠮷野家"), (std::u16string{0xD842, 0xDFB7, 0x91CE, 0x5BB6}));
}

TEST(Utf, LoneSurrogatesBecomeReplacementCharacters) {
    EXPECT_EQ(utf16_to_utf8(std::u16string{0xD842}), "\xEF\xBF\xBD");
    EXPECT_EQ(utf16_to_utf8(std::u16string{0xDFB7, u'a'}), "\xEF\xBF\xBD" "a");
    EXPECT_EQ(utf16_to_utf8(std::u16string{0xD842, u'a'}), "\xEF\xBF\xBD" "a");
    EXPECT_EQ(utf16_to_utf8(std::u16string{0xD842, 0xD842, 0xDFB7}), "\xEF\xBF\xBD\xF0\xA0\xAE\xB7");
}

TEST(Utf, MalformedUtf8BecomesReplacementCharacters) {
    const std::u16string r = {0xFFFD};
    EXPECT_EQ(utf8_to_utf16("\xFF"), r);                        // never valid
    EXPECT_EQ(utf8_to_utf16("\x80"), r);                        // continuation as lead
    EXPECT_EQ(utf8_to_utf16("\xC0\xAF"), (std::u16string{0xFFFD, 0xFFFD}));  // overlong lead, then stray byte
    EXPECT_EQ(utf8_to_utf16("\xE0\x80\xAF"), r);                // overlong 3-byte
    EXPECT_EQ(utf8_to_utf16("\xED\xA0\x80"), r);                // encoded surrogate
    EXPECT_EQ(utf8_to_utf16("\xF4\x90\x80\x80"), r);            // above U+10FFFF
    EXPECT_EQ(utf8_to_utf16("\xE6\x97"), r);                    // truncated at the end
    EXPECT_EQ(utf8_to_utf16("\xE6\x97" "a"), (std::u16string{0xFFFD, u'a'}));  // truncated, resynchronised
}

TEST(Utf, Validity) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("plain"));
    EXPECT_TRUE(is_valid_utf8("日本語 𠮷"));
    EXPECT_FALSE(is_valid_utf8("\xE6\x97"));
    EXPECT_FALSE(is_valid_utf8("ok\xFF"));
    EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));
}

TEST(Utf, AppendCodePoint) {
    std::string s;
    append_utf8(s, U'A');
    append_utf8(s, U'世');
    append_utf8(s, 0x1F600);
    append_utf8(s, 0xD800);    // surrogate -> U+FFFD
    append_utf8(s, 0x110000);  // out of range -> U+FFFD
    EXPECT_EQ(s, "A\xE4\xB8\x96\xF0\x9F\x98\x80\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Utf, LongMixedTextRoundTrips) {
    std::u16string u;
    for (int i = 0; i < 20'000; ++i) {
        u += u"日本語 abc ";
        u.push_back(0xD83D);
        u.push_back(0xDE00);
    }
    const std::string s = utf16_to_utf8(u);
    EXPECT_TRUE(is_valid_utf8(s));
    EXPECT_EQ(utf8_to_utf16(s), u);
}

}  // namespace
}  // namespace dmvlog
