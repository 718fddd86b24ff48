// Connection behaviour that needs no server (the e2e tests cover the rest).
#include "agent/odbc/connection.h"

#include <gtest/gtest.h>

#include "agent/odbc/classify.h"

namespace dmvlog::odbc {
namespace {

using namespace std::chrono_literals;

TEST(Credentials, AppendedToTheConnectionString) {
    EXPECT_EQ(with_credentials("Driver=FreeTDS;Server=h", "dmvlog", "pw"), "Driver=FreeTDS;Server=h;UID=dmvlog;PWD=pw;");
    EXPECT_EQ(with_credentials("Driver=FreeTDS;", "u", "p"), "Driver=FreeTDS;UID=u;PWD=p;");
    EXPECT_EQ(with_credentials("", "u", "p"), "UID=u;PWD=p;");
}

TEST(Credentials, BracedWhenNeeded) {
    EXPECT_EQ(with_credentials("D=x", "u", "a;b"), "D=x;UID=u;PWD={a;b};");
    EXPECT_EQ(with_credentials("D=x", "u", "a}b"), "D=x;UID=u;PWD={a}}b};");
    EXPECT_EQ(with_credentials("D=x", "u", "{ab"), "D=x;UID=u;PWD={{ab};");
    EXPECT_EQ(with_credentials("D=x", "u", "a=b"), "D=x;UID=u;PWD={a=b};");
    EXPECT_EQ(with_credentials("D=x", "u", " lead"), "D=x;UID=u;PWD={ lead};");
    EXPECT_EQ(with_credentials("D=x", "dom;ain", "p"), "D=x;UID={dom;ain};PWD=p;");
    EXPECT_EQ(with_credentials("D=x", "u", ""), "D=x;UID=u;PWD=;");
}

TEST(Credentials, NoUserMeansNoCredentials) {
    EXPECT_EQ(with_credentials("DSN=prod", "", "ignored"), "DSN=prod");
}

TEST(Credentials, ScrubbedStringHidesEveryForm) {
    for (const char* pw : {"plain-secret", "se;cret", "se}cret", "{secret"}) {
        const std::string s = scrub_secrets(with_credentials("Driver=FreeTDS", "u", pw));
        EXPECT_EQ(s, "Driver=FreeTDS;UID=u;PWD=***;") << pw;
    }
}

TEST(EnvironmentUnit, AllocatesOdbc3) {
    Environment env;
    EXPECT_TRUE(env.handle() != nullptr);
    EXPECT_EQ(env.odbc_version(), 300);
}

TEST(ConnectionUnit, UnconnectedConnectionRefusesWorkAsTransient) {
    Environment env;
    Connection c(env, "instance x");
    EXPECT_FALSE(c.connected());
    EXPECT_FALSE(c.dead());
    EXPECT_FALSE(c.cancel());
    EXPECT_EQ(c.context(), "instance x");
    try {
        c.query("SELECT 1", 1s, "collector y");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_TRUE(e.has_sqlstate("08003"));
        EXPECT_EQ(e.context(), "instance x: collector y");
        EXPECT_EQ(classify(e), ErrorClass::transient);
        EXPECT_TRUE(is_connection_lost(e));
    }
    EXPECT_THROW(c.execute("SET NOCOUNT ON"), Error);
    EXPECT_THROW(c.server_version(), Error);
    EXPECT_THROW(c.reconnect(), Error);
    c.disconnect();  // harmless when closed
    EXPECT_FALSE(c.connected());
}

TEST(ConnectionUnit, UnknownDriverFailsWithoutLeakingThePassword) {
    Environment env;
    Connection c(env, "instance x");
    const std::string secret = "unit-test-secret-99";
    try {
        c.connect("Driver=No Such Driver Here;Server=127.0.0.1", "u", secret, 1s);
        FAIL() << "connected through a driver that does not exist";
    } catch (const Error& e) {
        EXPECT_EQ(e.operation(), "SQLDriverConnect");
        EXPECT_FALSE(e.diagnostics().empty());
        EXPECT_EQ(std::string(e.what()).find(secret), std::string::npos) << e.what();
        EXPECT_EQ(classify(e), ErrorClass::fatal) << e.what();  // IM002: a configuration error
    }
    EXPECT_FALSE(c.connected());
}

}  // namespace
}  // namespace dmvlog::odbc
