// Quoting configuration values into T-SQL, against hostile input (agent/core/tsql_quote.h).
#include "agent/core/tsql_quote.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace dmvlog::tsql {
namespace {

TEST(QuoteIdentifier, BracketsAndDoublesClosingBrackets) {
    EXPECT_EQ(quote_identifier("Sales"), "[Sales]");
    EXPECT_EQ(quote_identifier("a]b"), "[a]]b]");
    EXPECT_EQ(quote_identifier("x]; DROP DATABASE master; --"), "[x]]; DROP DATABASE master; --]");
    EXPECT_EQ(quote_identifier("]]"), "[]]]]]");
    EXPECT_EQ(quote_identifier("[already]"), "[[already]]]");
    EXPECT_EQ(quote_identifier("it's"), "[it's]");
    EXPECT_EQ(quote_identifier("受注管理"), "[受注管理]");
}

TEST(QuoteIdentifier, RefusesWhatNoNameCanBe) {
    EXPECT_THROW(quote_identifier(""), std::invalid_argument);
    EXPECT_THROW(quote_identifier(std::string("a\0b", 3)), std::invalid_argument);
    EXPECT_THROW(quote_identifier("a\nb"), std::invalid_argument);
    EXPECT_THROW(quote_identifier("a\x7f"), std::invalid_argument);
    EXPECT_THROW(quote_identifier(std::string(129, 'a')), std::invalid_argument);
    EXPECT_NO_THROW(quote_identifier(std::string(128, 'a')));
    // 128 characters of three bytes each is still 128 characters
    std::string jp;
    for (int i = 0; i < 128; ++i) jp += "名";
    EXPECT_NO_THROW(quote_identifier(jp));
    try {
        quote_identifier("a\nb", "database name");
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()), "invalid database name: contains a control character");
    }
}

TEST(QuoteLiteral, NPrefixAndDoubledQuotes) {
    EXPECT_EQ(quote_literal("abc"), "N'abc'");
    EXPECT_EQ(quote_literal(""), "N''");
    EXPECT_EQ(quote_literal("O'Brien"), "N'O''Brien'");
    EXPECT_EQ(quote_literal("'; EXEC xp_cmdshell 'rm -rf /'; --"), "N'''; EXEC xp_cmdshell ''rm -rf /''; --'");
    EXPECT_EQ(quote_literal("a]b\"c"), "N'a]b\"c'");
    EXPECT_EQ(quote_literal("/var/opt/mssql/log/x.xel"), "N'/var/opt/mssql/log/x.xel'");
    EXPECT_EQ(quote_literal("tab\there"), "N'tab\there'");
}

TEST(QuoteLiteral, RefusesControlCharactersAndOverLongText) {
    EXPECT_THROW(quote_literal(std::string("a\0b", 3)), std::invalid_argument);
    EXPECT_THROW(quote_literal("line\r\nbreak"), std::invalid_argument);
    EXPECT_THROW(quote_literal(std::string(261, 'p'), "xe.path", 260), std::invalid_argument);
    EXPECT_NO_THROW(quote_literal(std::string(260, 'p'), "xe.path", 260));
}

// A quoted value, however hostile, is one token: the quote characters inside are always doubled, so the
// literal or identifier ends only at its last character.
TEST(Quote, HostileValuesStayOneToken) {
    for (const std::string v : {"'", "''", "]", "]]", "x' OR '1'='1", "a]; SHUTDOWN; --", "N'", "\\'"}) {
        const auto lit = quote_literal(v);
        std::size_t i = 2;  // after N'
        for (; i < lit.size() - 1; ++i) {
            if (lit[i] == '\'') {
                ASSERT_EQ(lit[i + 1], '\'') << lit;
                ++i;
            }
        }
        EXPECT_EQ(i, lit.size() - 1) << lit;
        const auto id = quote_identifier(v);
        for (i = 1; i < id.size() - 1; ++i) {
            if (id[i] == ']') {
                ASSERT_EQ(id[i + 1], ']') << id;
                ++i;
            }
        }
        EXPECT_EQ(i, id.size() - 1) << id;
    }
}

}  // namespace
}  // namespace dmvlog::tsql
