#include "agent/odbc/error.h"

#include <gtest/gtest.h>

namespace dmvlog::odbc {
namespace {

TEST(Diagnostics, FormatsOneRecord) {
    EXPECT_EQ(format_diagnostic({"42S02", 208, "Invalid object name 'x'."}), "[42S02/208] Invalid object name 'x'.");
    EXPECT_EQ(format_diagnostic({"", 0, "m"}), "[-----/0] m");
    EXPECT_EQ(format_diagnostic({"HY000", -1, "neg"}), "[HY000/-1] neg");
}

TEST(Diagnostics, FormatsEveryRecord) {
    EXPECT_EQ(format_diagnostics({{"08S01", 20009, "Unable to connect"}, {"08001", 0, "Unable to connect to data source"}}),
              "[08S01/20009] Unable to connect; [08001/0] Unable to connect to data source");
    EXPECT_EQ(format_diagnostics({}), "(no diagnostic records)");
}

TEST(Error, WhatListsContextOperationAndEveryRecord) {
    const Error e("SQLExecDirect", "instance prod: collector requests_5s",
                  {{"42000", 300, "VIEW SERVER STATE permission was denied"}, {"01000", 0, "second"}});
    EXPECT_STREQ(e.what(),
                 "instance prod: collector requests_5s: SQLExecDirect failed: [42000/300] VIEW SERVER STATE "
                 "permission was denied; [01000/0] second");
    EXPECT_EQ(e.operation(), "SQLExecDirect");
    EXPECT_EQ(e.context(), "instance prod: collector requests_5s");
    ASSERT_EQ(e.diagnostics().size(), 2u);
    EXPECT_EQ(e.sqlstate(), "42000");
    EXPECT_EQ(e.native_error(), 300);
    EXPECT_TRUE(e.has_sqlstate("01000"));
    EXPECT_FALSE(e.has_sqlstate("08S01"));
    EXPECT_TRUE(e.has_native(300));
    EXPECT_FALSE(e.has_native(208));
}

TEST(Error, IsARuntimeError) {
    try {
        throw Error("SQLFetch", "", {{"HY000", 0, "x"}});
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "SQLFetch failed: [HY000/0] x");
    }
}

TEST(Error, FirstNonZeroNativeAndEmptyRecords) {
    const Error e("op", "c", {{"08001", 0, "a"}, {"08S01", 20009, "b"}});
    EXPECT_EQ(e.native_error(), 20009);
    const Error none("op", "c", {});
    EXPECT_EQ(none.sqlstate(), "");
    EXPECT_EQ(none.native_error(), 0);
    EXPECT_STREQ(none.what(), "c: op failed: (no diagnostic records)");
}

TEST(Error, MakeErrorHasOneRecord) {
    const Error e = make_error("reconnect", "ctx", "not open", "08003");
    ASSERT_EQ(e.diagnostics().size(), 1u);
    EXPECT_EQ(e.diagnostics()[0], (Diagnostic{"08003", 0, "not open"}));
    const Error d = make_error("op", "ctx", "general");
    EXPECT_EQ(d.sqlstate(), "HY000");
}

TEST(Scrub, RemovesPasswordValues) {
    EXPECT_EQ(scrub_secrets("Driver=FreeTDS;UID=sa;PWD=hunter22;Database=master"),
              "Driver=FreeTDS;UID=sa;PWD=***;Database=master");
    EXPECT_EQ(scrub_secrets("Server=x;pwd=hunter22"), "Server=x;pwd=***");
    EXPECT_EQ(scrub_secrets("PWD=hunter22"), "PWD=***");
    EXPECT_EQ(scrub_secrets("Server=x;Password=hunter22;UID=a"), "Server=x;Password=***;UID=a");
    EXPECT_EQ(scrub_secrets("UID=a; PWD = hunter22 ;X=1"), "UID=a; PWD =***;X=1");
    EXPECT_EQ(scrub_secrets("PWD=;UID=a"), "PWD=***;UID=a");
}

TEST(Scrub, BracedValuesIncludingEscapedBraces) {
    EXPECT_EQ(scrub_secrets("UID=a;PWD={se;cr}}et};Database=m"), "UID=a;PWD=***;Database=m");
    EXPECT_EQ(scrub_secrets("PWD={a}}}"), "PWD=***");
    EXPECT_EQ(scrub_secrets("PWD={unterminated;X=1"), "PWD=***");
}

TEST(Scrub, LeavesOtherKeysAlone) {
    EXPECT_EQ(scrub_secrets("MYPWD=keep;UID=pwd;APP=PWD"), "MYPWD=keep;UID=pwd;APP=PWD");
    EXPECT_EQ(scrub_secrets("no attributes at all"), "no attributes at all");
    EXPECT_EQ(scrub_secrets("a=b=c"), "a=b=c");
    EXPECT_EQ(scrub_secrets(""), "");
}

TEST(Scrub, SeveralPasswordsInOneText) {
    EXPECT_EQ(scrub_secrets("PWD=one;x=1 and again PWD=two"), "PWD=***;x=1 and again PWD=***");
}

TEST(Scrub, LiteralSecret) {
    EXPECT_EQ(scrub_secrets("Login failed: password 'S3cr3t!' rejected, S3cr3t! again", "S3cr3t!"),
              "Login failed: password '***' rejected, *** again");
    // short secrets are not replaced as literals (they would mangle ordinary text)...
    EXPECT_EQ(scrub_secrets("a cat sat", "at"), "a cat sat");
    // ...but PWD= values always are
    EXPECT_EQ(scrub_secrets("PWD=at;x", "at"), "PWD=***;x");
}

TEST(Error, ScrubsContextMessagesAndOperation) {
    const Error e("SQLDriverConnect", "connecting Driver=FreeTDS;PWD=topsecret1",
                  {{"28000", 18456, "Login failed (PWD=topsecret1)"}, {"08001", 0, "echo topsecret1"}}, "topsecret1");
    const std::string what = e.what();
    EXPECT_EQ(what.find("topsecret1"), std::string::npos) << what;
    EXPECT_EQ(e.context(), "connecting Driver=FreeTDS;PWD=***");
    // an unbraced value runs to the next ';' (the ')' could be part of the password): all of it goes
    EXPECT_EQ(e.diagnostics()[0].message, "Login failed (PWD=***");
    EXPECT_EQ(e.diagnostics()[1].message, "echo ***");
    EXPECT_EQ(e.diagnostics()[0].native_error, 18456);
}

TEST(Error, ScrubsPwdAttributesEvenWithoutTheSecret) {
    const Error e("SQLDriverConnect", "c", {{"HY000", 0, "bad string UID=a;PWD=zz;"}});
    EXPECT_EQ(std::string(e.what()).find("zz"), std::string::npos) << e.what();
}

}  // namespace
}  // namespace dmvlog::odbc
