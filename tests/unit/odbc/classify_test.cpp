#include "agent/odbc/classify.h"

#include <gtest/gtest.h>

namespace dmvlog::odbc {
namespace {

Error error_of(std::vector<Diagnostic> records) { return Error("SQLExecDirect", "test", std::move(records)); }

struct NativeCase {
    std::int32_t native;
    std::string sqlstate;  // as the driver reports it alongside
    ErrorClass expected;
};

class ClassifyNative : public ::testing::TestWithParam<NativeCase> {};

TEST_P(ClassifyNative, ByNativeError) {
    const auto& c = GetParam();
    EXPECT_EQ(classify(Diagnostic{c.sqlstate, c.native, "m"}), c.expected);
    EXPECT_EQ(classify(error_of({Diagnostic{c.sqlstate, c.native, "m"}})), c.expected);
    // the native number decides even under a generic SQLSTATE
    EXPECT_EQ(classify(Diagnostic{"42000", c.native, "m"}), c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ClassifyNative,
    ::testing::Values(
        // transient
        NativeCase{1205, "40001", ErrorClass::transient}, NativeCase{1222, "HY000", ErrorClass::transient},
        NativeCase{1204, "HY000", ErrorClass::transient}, NativeCase{8645, "HY000", ErrorClass::transient},
        NativeCase{233, "08S01", ErrorClass::transient}, NativeCase{10053, "08S01", ErrorClass::transient},
        NativeCase{10054, "08S01", ErrorClass::transient}, NativeCase{10060, "08001", ErrorClass::transient},
        NativeCase{10061, "08001", ErrorClass::transient}, NativeCase{40197, "HY000", ErrorClass::transient},
        NativeCase{40501, "HY000", ErrorClass::transient}, NativeCase{40613, "HY000", ErrorClass::transient},
        NativeCase{49918, "HY000", ErrorClass::transient}, NativeCase{49919, "HY000", ErrorClass::transient},
        NativeCase{49920, "HY000", ErrorClass::transient}, NativeCase{20002, "08001", ErrorClass::transient},
        NativeCase{20003, "HYT00", ErrorClass::transient}, NativeCase{20004, "08S01", ErrorClass::transient},
        NativeCase{20006, "08S01", ErrorClass::transient}, NativeCase{20009, "08S01", ErrorClass::transient},
        NativeCase{20017, "08S01", ErrorClass::transient}, NativeCase{20020, "08S01", ErrorClass::transient},
        // permission
        NativeCase{229, "42000", ErrorClass::permission}, NativeCase{230, "42000", ErrorClass::permission},
        NativeCase{262, "42000", ErrorClass::permission}, NativeCase{297, "42000", ErrorClass::permission},
        NativeCase{300, "42000", ErrorClass::permission}, NativeCase{916, "08004", ErrorClass::permission},
        NativeCase{4060, "42000", ErrorClass::permission}, NativeCase{15247, "42000", ErrorClass::permission},
        NativeCase{18452, "28000", ErrorClass::permission}, NativeCase{18456, "28000", ErrorClass::permission},
        NativeCase{18486, "28000", ErrorClass::permission}, NativeCase{18487, "28000", ErrorClass::permission},
        NativeCase{18488, "28000", ErrorClass::permission},
        // incompatible
        NativeCase{207, "42S22", ErrorClass::incompatible}, NativeCase{208, "42S02", ErrorClass::incompatible},
        NativeCase{2812, "42000", ErrorClass::incompatible}, NativeCase{4121, "42000", ErrorClass::incompatible},
        NativeCase{195, "42000", ErrorClass::incompatible}, NativeCase{4104, "42000", ErrorClass::incompatible},
        // fatal: syntax error, truncation, divide by zero, an unknown number
        NativeCase{102, "42000", ErrorClass::fatal}, NativeCase{156, "42000", ErrorClass::fatal},
        NativeCase{8152, "22001", ErrorClass::fatal}, NativeCase{8134, "22012", ErrorClass::fatal},
        NativeCase{50000, "42000", ErrorClass::fatal}),
    [](const auto& p) { return "native_" + std::to_string(p.param.native); });

struct StateCase {
    const char* sqlstate;
    ErrorClass expected;
};

class ClassifyState : public ::testing::TestWithParam<StateCase> {};

TEST_P(ClassifyState, BySqlstateWhenTheNativeErrorIsUnknown) {
    const auto& c = GetParam();
    EXPECT_EQ(classify(Diagnostic{c.sqlstate, 0, "m"}), c.expected);
    EXPECT_EQ(classify(Diagnostic{c.sqlstate, 99999, "m"}), c.expected);
}

INSTANTIATE_TEST_SUITE_P(Table, ClassifyState,
                         ::testing::Values(StateCase{"08S01", ErrorClass::transient},
                                           StateCase{"08001", ErrorClass::transient},
                                           StateCase{"08003", ErrorClass::transient},
                                           StateCase{"08004", ErrorClass::transient},
                                           StateCase{"08007", ErrorClass::transient},
                                           StateCase{"HYT00", ErrorClass::transient},
                                           StateCase{"HYT01", ErrorClass::transient},
                                           StateCase{"HY008", ErrorClass::transient},
                                           StateCase{"40001", ErrorClass::transient},
                                           StateCase{"40003", ErrorClass::transient},
                                           StateCase{"28000", ErrorClass::permission},
                                           StateCase{"42S02", ErrorClass::incompatible},
                                           StateCase{"42S22", ErrorClass::incompatible},
                                           StateCase{"42000", ErrorClass::fatal},
                                           StateCase{"HY000", ErrorClass::fatal},
                                           StateCase{"22018", ErrorClass::fatal},
                                           StateCase{"IM002", ErrorClass::fatal},
                                           StateCase{"", ErrorClass::fatal}),
                         [](const auto& p) {
                             return std::string("state_") + (p.param.sqlstate[0] ? p.param.sqlstate : "empty");
                         });

TEST(Classify, RefusedLoginIsPermissionDespiteTheGenericConnectFailure) {
    // what FreeTDS reports for a wrong password
    const Error e = error_of({{"28000", 18456, "Login failed for user 'dmvlog'."},
                              {"08001", 0, "Unable to connect to data source"}});
    EXPECT_EQ(classify(e), ErrorClass::permission);
    EXPECT_TRUE(is_login_failure(e));
}

TEST(Classify, MostSpecificRecordWins) {
    EXPECT_EQ(classify(error_of({{"42000", 102, "syntax"}, {"42S02", 208, "x"}})), ErrorClass::incompatible);
    EXPECT_EQ(classify(error_of({{"42S02", 208, "x"}, {"42000", 300, "y"}})), ErrorClass::permission);
    EXPECT_EQ(classify(error_of({{"HYT00", 0, "Timeout expired"}, {"42000", 102, "syntax"}})),
              ErrorClass::transient);
    EXPECT_EQ(classify(error_of({{"42000", 102, "a"}, {"HY000", 0, "b"}})), ErrorClass::fatal);
}

TEST(Classify, NoRecordsIsFatal) {
    EXPECT_EQ(classify(std::vector<Diagnostic>{}), ErrorClass::fatal);
}

TEST(Classify, LoginFailureNeedsALoginRecord) {
    EXPECT_FALSE(is_login_failure(error_of({{"08S01", 20009, "unable to connect"}})));
    EXPECT_FALSE(is_login_failure(error_of({{"42000", 300, "VIEW SERVER STATE"}})));
    EXPECT_TRUE(is_login_failure(error_of({{"42000", 18486, "locked out"}})));
    EXPECT_TRUE(is_login_failure(error_of({{"28000", 0, "invalid authorization"}})));
}

TEST(Classify, ConnectionLost) {
    EXPECT_TRUE(is_connection_lost(error_of({{"08S01", 0, "Communication link failure"}})));
    EXPECT_TRUE(is_connection_lost(error_of({{"08003", 0, "not open"}})));
    EXPECT_TRUE(is_connection_lost(error_of({{"08007", 0, "failure during transaction"}})));
    EXPECT_TRUE(is_connection_lost(error_of({{"HY000", 20004, "Read from the server failed"}})));
    EXPECT_TRUE(is_connection_lost(error_of({{"HY000", 20006, "Write to the server failed"}})));
    EXPECT_TRUE(is_connection_lost(error_of({{"HY000", 20017, "Unexpected EOF"}})));
    EXPECT_FALSE(is_connection_lost(error_of({{"HYT00", 0, "Timeout expired"}})));
    EXPECT_FALSE(is_connection_lost(error_of({{"HY008", 0, "Operation canceled"}})));
    EXPECT_FALSE(is_connection_lost(error_of({{"40001", 1205, "deadlock"}})));
    EXPECT_FALSE(is_connection_lost(error_of({{"42S02", 208, "invalid object"}})));
}

TEST(Classify, NamesAndDescriptions) {
    EXPECT_EQ(to_string(ErrorClass::transient), "transient");
    EXPECT_EQ(to_string(ErrorClass::permission), "permission");
    EXPECT_EQ(to_string(ErrorClass::incompatible), "incompatible");
    EXPECT_EQ(to_string(ErrorClass::fatal), "fatal");
    for (auto c : {ErrorClass::transient, ErrorClass::permission, ErrorClass::incompatible, ErrorClass::fatal}) {
        EXPECT_EQ(describe(c).rfind(to_string(c), 0), 0u) << describe(c);
        EXPECT_GT(describe(c).size(), to_string(c).size() + 10);
    }
    EXPECT_NE(describe(ErrorClass::transient).find("retr"), std::string_view::npos);
    EXPECT_NE(describe(ErrorClass::incompatible).find("version"), std::string_view::npos);
}

}  // namespace
}  // namespace dmvlog::odbc
