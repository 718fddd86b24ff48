// Encryption and certificate checks applied to connection strings (agent/odbc/tls_settings.h).
#include "agent/odbc/tls_settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace dmvlog::odbc {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kFreeTds = "Driver=FreeTDS;Server=db1.example.com;Port=1433;TDS_Version=7.4;ClientCharset=UTF-8";

TEST(ConnectionString, ParsesBracesAndFindsKeysCaseInsensitively) {
    const auto kv = parse_connection_string("Driver={ODBC Driver 18 for SQL Server};Server=h;APP={a;b}}c}; Port = 5");
    ASSERT_EQ(kv.size(), 4u);
    EXPECT_EQ(kv[0].second, "ODBC Driver 18 for SQL Server");
    EXPECT_EQ(kv[2].second, "a;b}c");
    EXPECT_EQ(connection_attribute("driver=FreeTDS;SERVER=x", "Server").value_or("?"), "x");
    EXPECT_FALSE(connection_attribute("Driver=FreeTDS", "Port").has_value());
    EXPECT_EQ(odbc_value("a;b}c"), "{a;b}}c}");
    EXPECT_EQ(odbc_value("plain"), "plain");
}

TEST(ConnectionString, TellsTheDriver) {
    EXPECT_EQ(driver_kind(kFreeTds), DriverKind::freetds);
    EXPECT_EQ(driver_kind("Driver=/usr/lib/x86_64-linux-gnu/odbc/libtdsodbc.so;Server=h"), DriverKind::freetds);
    EXPECT_EQ(driver_kind("Driver={ODBC Driver 18 for SQL Server};Server=h"), DriverKind::microsoft);
    EXPECT_EQ(driver_kind("DSN=prod"), DriverKind::other);
}

TEST(SecureConnection, FreeTdsDefaultRequiresEncryptionAndChecksThroughAFreetdsSection) {
    const auto s = secure_connection(kFreeTds, TlsSettings{}, "prod1");
    EXPECT_EQ(s.section_name, "dmvlog_prod1");
    EXPECT_THAT(s.connection_string, HasSubstr("Servername=dmvlog_prod1"));
    EXPECT_THAT(s.connection_string, HasSubstr("Encryption=require"));
    EXPECT_THAT(s.connection_string, Not(HasSubstr("Server=db1")));
    EXPECT_THAT(s.connection_string, Not(HasSubstr("Port=")));
    EXPECT_THAT(s.connection_string, HasSubstr("TDS_Version=7.4"));
    EXPECT_EQ(s.connection_string.rfind("Driver=FreeTDS;", 0), 0u) << s.connection_string;
    EXPECT_THAT(s.freetds_section, HasSubstr("[dmvlog_prod1]\n"));
    EXPECT_THAT(s.freetds_section, HasSubstr("host = db1.example.com\n"));
    EXPECT_THAT(s.freetds_section, HasSubstr("port = 1433\n"));
    EXPECT_THAT(s.freetds_section, HasSubstr("encryption = require\n"));
    EXPECT_THAT(s.freetds_section, HasSubstr("ca file = system\n"));
    EXPECT_THAT(s.freetds_section, HasSubstr("check certificate hostname = yes\n"));
    EXPECT_TRUE(s.warnings.empty());
    EXPECT_THAT(s.summary, HasSubstr("system trust store"));
}

TEST(SecureConnection, FreeTdsCaFileAndNamedInstance) {
    TlsSettings t;
    t.ca_file = "/etc/dmvlog/ca.pem";
    const auto s = secure_connection("Driver=FreeTDS;Server=db1\\SALES;TDS_Version=7.4", t, "a");
    EXPECT_THAT(s.freetds_section, HasSubstr("ca file = /etc/dmvlog/ca.pem\n"));
    EXPECT_THAT(s.freetds_section, HasSubstr("host = db1\n"));
    EXPECT_THAT(s.freetds_section, HasSubstr("instance = SALES\n"));
    EXPECT_THAT(s.summary, HasSubstr("/etc/dmvlog/ca.pem"));
}

TEST(SecureConnection, FreeTdsTrustingTheCertificateWarnsLoudlyAndWritesNoSection) {
    TlsSettings t;
    t.trust_server_certificate = true;
    const auto s = secure_connection(kFreeTds, t, "a");
    EXPECT_TRUE(s.freetds_section.empty());
    EXPECT_THAT(s.connection_string, HasSubstr("Server=db1.example.com"));
    EXPECT_THAT(s.connection_string, HasSubstr("Encryption=require"));
    ASSERT_EQ(s.warnings.size(), 1u);
    EXPECT_THAT(s.warnings[0], HasSubstr("NOT CHECKED"));
    EXPECT_THAT(s.warnings[0], HasSubstr("trust_server_certificate = true"));
}

TEST(SecureConnection, FreeTdsEncryptionOffWarnsLoudly) {
    TlsSettings t;
    t.encrypt = false;
    const auto s = secure_connection(kFreeTds, t, "a");
    EXPECT_THAT(s.connection_string, HasSubstr("Encryption=off"));
    ASSERT_EQ(s.warnings.size(), 1u);
    EXPECT_THAT(s.warnings[0], HasSubstr("ENCRYPTION IS OFF"));
    EXPECT_THAT(s.summary, HasSubstr("NOT encrypted"));
}

TEST(SecureConnection, AnEncryptionTheStringStatesIsKeptButAWeakOneIsNamed) {
    const auto s = secure_connection(kFreeTds + ";Encryption=request", TlsSettings{}, "a");
    EXPECT_THAT(s.connection_string, HasSubstr("Encryption=request"));
    EXPECT_THAT(s.connection_string, Not(HasSubstr("Encryption=require")));
    ASSERT_FALSE(s.warnings.empty());
    EXPECT_THAT(s.warnings[0], HasSubstr("Encryption=request"));
}

TEST(SecureConnection, MicrosoftDriverGetsEncryptYesAndChecks) {
    const auto s = secure_connection("Driver={ODBC Driver 18 for SQL Server};Server=tcp:h,1433", TlsSettings{}, "a");
    EXPECT_THAT(s.connection_string, HasSubstr("Encrypt=yes"));
    EXPECT_THAT(s.connection_string, HasSubstr("TrustServerCertificate=no"));
    EXPECT_EQ(s.connection_string.rfind("Driver=ODBC Driver 18 for SQL Server;", 0), 0u) << s.connection_string;
    EXPECT_TRUE(s.freetds_section.empty());
    TlsSettings t;
    t.ca_file = "/x.pem";
    EXPECT_THROW(secure_connection("Driver={ODBC Driver 18 for SQL Server};Server=h", t, "a"), std::invalid_argument);
    const auto stated = secure_connection("Driver={ODBC Driver 18 for SQL Server};Server=h;TrustServerCertificate=yes",
                                          TlsSettings{}, "a");
    ASSERT_FALSE(stated.warnings.empty());
    EXPECT_THAT(stated.warnings[0], HasSubstr("TrustServerCertificate=yes"));
}

TEST(SecureConnection, DsnIsLeftAsConfigured) {
    const auto s = secure_connection("DSN=prod", TlsSettings{}, "a");
    EXPECT_EQ(s.connection_string, "DSN=prod");
    EXPECT_THAT(s.summary, HasSubstr("DSN"));
}

TEST(SecureConnection, ValuesThatWouldBreakTheFreetdsFileAreRefused) {
    TlsSettings t;
    t.ca_file = "/x.pem\n[evil]\nhost = attacker";
    EXPECT_THROW(secure_connection(kFreeTds, t, "a"), std::invalid_argument);
    EXPECT_THROW(secure_connection("Driver=FreeTDS;Server={h]x};Port=1", TlsSettings{}, "a"), std::invalid_argument);
}

TEST(FreetdsConf, WrittenPrivateAndNamedByFreetdsconf) {
    const char* old = std::getenv("FREETDSCONF");
    const std::string saved = old ? old : "";
    const auto dir = std::filesystem::temp_directory_path() / ("dmvlog-tls-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto base = dir / "base.conf";
    std::ofstream(base) << "[global]\n\ttext size = 64512\n";
    ::setenv("FREETDSCONF", base.c_str(), 1);
    const std::string path = install_freetds_conf({"[dmvlog_a]\n\thost = h\n"});
    EXPECT_EQ(std::string(std::getenv("FREETDSCONF")), path);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 077, 0u) << "only the agent's user may read it";
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_THAT(text.str(), HasSubstr("text size = 64512"));   // the file FreeTDS would have read comes first
    EXPECT_THAT(text.str(), HasSubstr("[dmvlog_a]\n\thost = h\n"));
    std::filesystem::remove_all(dir);
    if (saved.empty()) ::unsetenv("FREETDSCONF");
    else ::setenv("FREETDSCONF", saved.c_str(), 1);
}

TEST(TlsFailureHint, NamesTheCaWhenTheConnectFailsWithChecksOn) {
    TlsSettings t;
    t.ca_file = "/etc/dmvlog/ca.pem";
    const auto s = secure_connection(kFreeTds, t, "a");
    EXPECT_THAT(tls_failure_hint("[08001] Unable to connect to data source", s, t), HasSubstr("/etc/dmvlog/ca.pem"));
    EXPECT_EQ(tls_failure_hint("[28000/18456] Login failed for user 'x'", s, t), "");
    EXPECT_EQ(tls_failure_hint("[42000/18456] Login failed for user 'x'.; [08001/0] Unable to connect to data source", s, t), "");
    EXPECT_EQ(tls_failure_hint("[08S01/20009] Unable to connect: Adaptive Server is unavailable", s, t), "");
    TlsSettings off;
    off.trust_server_certificate = true;
    EXPECT_EQ(tls_failure_hint("[08001] Unable to connect", secure_connection(kFreeTds, off, "a"), off), "");
}

}  // namespace
}  // namespace dmvlog::odbc
