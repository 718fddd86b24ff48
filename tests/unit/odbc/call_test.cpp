// The checked-call helper and the handle wrapper, against the real driver manager (no driver needed).
#include "agent/odbc/call.h"

#include <gtest/gtest.h>

#include "agent/odbc/environment.h"

namespace dmvlog::odbc {
namespace {

TEST(Check, PassesSuccessAndNoDataThrough) {
    const CallSite site{SQL_HANDLE_ENV, SQL_NULL_HANDLE, "ctx"};
    EXPECT_EQ(check(SQL_SUCCESS, site, "op"), SQL_SUCCESS);
    EXPECT_EQ(check(SQL_NO_DATA, site, "op"), SQL_NO_DATA);
    EXPECT_EQ(check(SQL_NEED_DATA, site, "op"), SQL_NEED_DATA);
}

TEST(Check, InvalidHandleThrows) {
    const CallSite site{SQL_HANDLE_ENV, SQL_NULL_HANDLE, "ctx"};
    try {
        check(SQL_INVALID_HANDLE, site, "SQLFetch");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.operation(), "SQLFetch");
        EXPECT_EQ(e.context(), "ctx");
        EXPECT_TRUE(e.has_sqlstate("HY000"));
    }
}

TEST(Check, ErrorWithoutRecordsStillSaysSomething) {
    const CallSite site{SQL_HANDLE_ENV, SQL_NULL_HANDLE, "ctx"};
    try {
        check(SQL_ERROR, site, "SQLExecDirect");
        FAIL() << "no error";
    } catch (const Error& e) {
        ASSERT_EQ(e.diagnostics().size(), 1u);
        EXPECT_NE(e.diagnostics()[0].message.find("without diagnostic records"), std::string::npos);
    }
}

TEST(Check, ReadsTheDriverManagersRecords) {
    Environment env;
    std::vector<Diagnostic> messages;
    TraceFn trace = [&](std::string_view op, SQLRETURN rc) {
        messages.push_back(Diagnostic{"trace", rc, std::string(op)});
    };
    const CallSite site{SQL_HANDLE_ENV, env.handle(), "env test", {}, nullptr, &trace};
    try {
        // an attribute that does not exist: the driver manager answers HY092 or HY024
        check(SQLSetEnvAttr(env.handle(), 31337, reinterpret_cast<SQLPOINTER>(SQLULEN{1}), 0), site,
              "SQLSetEnvAttr(31337)");
        FAIL() << "no error";
    } catch (const Error& e) {
        ASSERT_FALSE(e.diagnostics().empty());
        EXPECT_EQ(e.diagnostics()[0].sqlstate.size(), 5u);
        EXPECT_EQ(e.sqlstate().substr(0, 2), "HY") << e.what();
        EXPECT_EQ(std::string(e.what()).rfind("env test: SQLSetEnvAttr(31337) failed: [HY", 0), 0u) << e.what();
    }
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0].message, "SQLSetEnvAttr(31337)");
    EXPECT_EQ(messages[0].native_error, SQL_ERROR);
}

TEST(Handle, OwnsAndMoves) {
    Environment env;
    Handle dbc(SQL_HANDLE_DBC, env.handle(), "ctx");
    ASSERT_TRUE(static_cast<bool>(dbc));
    EXPECT_EQ(dbc.type(), SQL_HANDLE_DBC);
    const SQLHANDLE raw = dbc.get();
    Handle moved(std::move(dbc));
    EXPECT_EQ(moved.get(), raw);
    EXPECT_FALSE(static_cast<bool>(dbc));  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    Handle assigned;
    assigned = std::move(moved);
    EXPECT_EQ(assigned.get(), raw);
    assigned.reset();
    EXPECT_FALSE(static_cast<bool>(assigned));
    assigned.reset();  // twice is harmless
}

TEST(Handle, StatementWithoutConnectionFails) {
    Environment env;
    Handle dbc(SQL_HANDLE_DBC, env.handle(), "ctx");
    // a statement needs an open connection: the driver manager refuses (08003)
    EXPECT_THROW(Handle(SQL_HANDLE_STMT, dbc.get(), "ctx"), Error);
}

TEST(SqlWchar, RoundTripsJapaneseAndSurrogates) {
    const std::string text = "日本語 𠮷 abc";
    const std::vector<SQLWCHAR> w = to_sqlwchar(text);
    ASSERT_EQ(w.size(), 11u);  // 10 UTF-16 units (𠮷 takes two) and the terminating NUL
    EXPECT_EQ(w.back(), 0);
    EXPECT_EQ(w[4], 0xD842);
    EXPECT_EQ(w[5], 0xDFB7);
    EXPECT_EQ(from_sqlwchar(w.data(), w.size() - 1), text);
    EXPECT_EQ(from_sqlwchar(w.data(), 3), "日本語");
}

TEST(EnvironmentVersion, DefaultIsOdbc3AndOdbc38CanBeAsked) {
    Environment v3;
    EXPECT_EQ(v3.odbc_version(), 300);
    Environment v38(OdbcVersion::v3_80);
    EXPECT_EQ(v38.odbc_version(), 380);  // unixODBC 2.3 knows 3.8
}

}  // namespace
}  // namespace dmvlog::odbc
