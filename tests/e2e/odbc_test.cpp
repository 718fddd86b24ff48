// The ODBC layer end to end: unixODBC + the FreeTDS driver against the SQL Server simulator's self-test
// engine (tests/sqlserver_sim/sim/selftest.py documents the values checked here).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <future>
#include <map>
#include <string>
#include <thread>

#include "agent/core/time_format.h"
#include "agent/core/utf.h"
#include "agent/odbc/classify.h"
#include "agent/odbc/connection.h"
#include "agent/odbc/environment.h"
#include "agent/odbc/fetch.h"
#include "tests/e2e/support/sim_process.h"

namespace dmvlog::odbc {
namespace {

using namespace std::chrono_literals;
using test::SimProcess;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// selftest.long_text(): the unit repeated and cut at n characters (all in the BMP, so n UTF-16 units).
std::string long_text(std::size_t n) {
    const std::u16string unit = utf8_to_utf16("日本語のテキスト abcdefghijklmnopqrstuvwxyz 0123456789 ");
    std::u16string out;
    while (out.size() < n) out += unit;
    out.resize(n);
    return utf16_to_utf8(out);
}

Bytes long_binary(std::size_t n) {
    Bytes out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>((i * 7 + 3) % 256);
    return out;
}

Timestamp ts(std::string_view text) {
    auto t = parse_timestamp(text);
    EXPECT_TRUE(t.has_value()) << text;
    return t.value_or(Timestamp{});
}

// One simulator for the whole suite (starting Python costs a few hundred ms); each test connects anew.
class OdbcE2E : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        test::configure_odbc();
        sim_ = new SimProcess();
        env_ = new Environment();
    }
    static void TearDownTestSuite() {
        delete env_;
        env_ = nullptr;
        delete sim_;
        sim_ = nullptr;
    }

    void SetUp() override { connect(conn_); }

    void connect(Connection& c) { c.connect(sim_->connection_string(), SimProcess::kUser, SimProcess::kPassword, 5s); }

    // The connection still answers a simple query correctly.
    void expect_usable(Connection& c) {
        const auto sets = c.query("/* dmvlog:selftest_rows 3 */\nSELECT 1", 10s);
        ASSERT_EQ(sets.size(), 1u);
        ASSERT_EQ(sets[0].rows.size(), 3u);
        EXPECT_EQ(sets[0].rows[2][0], Value(std::int64_t{3}));
        EXPECT_EQ(sets[0].rows[2][1], Value(std::string("name 3")));
    }

    static SimProcess* sim_;
    static Environment* env_;
    Connection conn_{*env_, "e2e"};
};

SimProcess* OdbcE2E::sim_ = nullptr;
Environment* OdbcE2E::env_ = nullptr;

// Runs sql expecting an odbc::Error and returns it.
Error expect_error(Connection& c, std::string_view sql, std::chrono::seconds timeout = 10s) {
    try {
        c.query(sql, timeout);
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "no odbc::Error for: " << sql;
    return make_error("none", "", "no error");
}

TEST_F(OdbcE2E, EnvironmentSeesTheFreeTdsDriver) {
    EXPECT_TRUE(env_->has_driver("FreeTDS"));
    EXPECT_EQ(env_->odbc_version(), 300);
}

TEST_F(OdbcE2E, ConnectsAndReportsServerVersion) {
    EXPECT_TRUE(conn_.connected());
    // no warning from the driver manager about the ODBC version (FreeTDS is an ODBC 3 driver)
    for (const auto& d : conn_.messages()) EXPECT_NE(d.sqlstate, "01000") << format_diagnostic(d);
    EXPECT_FALSE(conn_.dead());
    const std::string v = conn_.server_version();
    EXPECT_EQ(v.rfind("16.", 0), 0u) << v;
}

TEST_F(OdbcE2E, EveryTypeRoundTripsWithNulls) {
    const auto sets = conn_.query("/* dmvlog:selftest_types */\nSELECT 1", 30s);
    ASSERT_EQ(sets.size(), 1u);
    const ResultSet& rs = sets[0];
    ASSERT_EQ(rs.columns.size(), 26u);
    ASSERT_EQ(rs.rows.size(), 2u);
    EXPECT_EQ(rs.row_count, 2);

    std::map<std::string, std::size_t> at;
    for (std::size_t i = 0; i < rs.columns.size(); ++i) at[rs.columns[i].name] = i;
    ASSERT_EQ(at.size(), 26u);
    const Row& r = rs.rows[0];
    auto v = [&](const char* name) -> const Value& {
        EXPECT_TRUE(at.count(name)) << name;
        return r.at(at.at(name));
    };
    auto type = [&](const char* name) { return rs.columns.at(at.at(name)).sql_type; };

    EXPECT_EQ(type("c_int"), SQL_INTEGER);
    EXPECT_EQ(type("c_bigint"), SQL_BIGINT);
    EXPECT_EQ(type("c_xml"), kSqlSsXml);
    EXPECT_EQ(type("c_datetimeoffset"), kSqlSsTimestampOffset);
    EXPECT_EQ(type("c_time"), kSqlSsTime2);
    EXPECT_EQ(type("c_uniqueidentifier"), SQL_GUID);
    EXPECT_EQ(type("c_datetime2"), SQL_TYPE_TIMESTAMP);

    EXPECT_EQ(v("c_int"), Value(std::int64_t{-123456789}));
    EXPECT_EQ(v("c_bigint"), Value(std::int64_t{9223372036854775807}));
    EXPECT_EQ(v("c_smallint"), Value(std::int64_t{-32768}));
    EXPECT_EQ(v("c_tinyint"), Value(std::int64_t{255}));
    EXPECT_EQ(v("c_bit"), Value(std::int64_t{1}));
    EXPECT_EQ(v("c_decimal"), Value(Decimal{"-1234567890123456789012345678.0123456789"}));
    EXPECT_EQ(v("c_decimal_small"), Value(Decimal{"-1234567.89"}));
    EXPECT_EQ(v("c_numeric"), Value(Decimal{"12345678901234.5678"}));
    EXPECT_EQ(v("c_float"), Value(-3.141592653589793));
    EXPECT_EQ(v("c_real"), Value(-0.25));
    EXPECT_EQ(v("c_money"), Value(Decimal{"-12345.6789"}));
    EXPECT_EQ(v("c_nvarchar"), Value(std::string("こんにちは 世界")));
    EXPECT_EQ(v("c_nchar"), Value(std::string("abc       ")));
    EXPECT_EQ(v("c_varchar"), Value(std::string("plain ascii text")));
    {
        std::string s;
        for (int i = 0; i < 500; ++i) s += "ascii text, long. ";
        EXPECT_EQ(v("c_varchar_max"), Value(s));
    }
    {
        Bytes b(16);
        for (int i = 0; i < 16; ++i) b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
        EXPECT_EQ(v("c_varbinary"), Value(b));
    }
    EXPECT_EQ(v("c_binary"), Value(Bytes{1, 2, 3, 0, 0, 0, 0, 0}));
    EXPECT_EQ(v("c_datetime"), Value(ts("2026-11-23 12:34:56.5")));
    EXPECT_EQ(v("c_datetime2"), Value(ts("2026-11-23 12:34:56.1234567")));
    {
        Timestamp expected = ts("2026-11-23 03:34:56.1234567");
        expected.has_offset = true;
        expected.offset_minutes = 540;
        EXPECT_EQ(v("c_datetimeoffset"), Value(expected));
        EXPECT_EQ(ts("2026-11-23 12:34:56.1234567 +09:00"), expected);
    }
    EXPECT_EQ(v("c_date"), Value(ts("2026-11-23")));
    EXPECT_EQ(v("c_time"), Value(std::string("12:34:56.1234567")));
    EXPECT_EQ(v("c_xml"), Value(std::string("<root><item id=\"1\">こんにちは</item></root>")));
    EXPECT_EQ(v("c_uniqueidentifier"), Value(std::string("6F9619FF-8B86-D011-B42D-00C04FC964FF")));

    // row 2: NULL of every type
    for (std::size_t i = 0; i < rs.columns.size(); ++i)
        EXPECT_TRUE(is_null(rs.rows[1][i])) << rs.columns[i].name << " should be NULL";
}

TEST_F(OdbcE2E, LongTextAndBinaryAreIntact) {
    const auto sets = conn_.query("/* dmvlog:selftest_types */\nSELECT 1", 30s);
    ASSERT_EQ(sets.size(), 1u);
    const auto& cols = sets[0].columns;
    const Row& r = sets[0].rows.at(0);
    std::size_t text_at = cols.size(), bin_at = cols.size();
    for (std::size_t i = 0; i < cols.size(); ++i) {
        if (cols[i].name == "c_nvarchar_max") text_at = i;
        if (cols[i].name == "c_varbinary_max") bin_at = i;
    }
    ASSERT_LT(text_at, cols.size());
    ASSERT_LT(bin_at, cols.size());

    const auto* text = std::get_if<std::string>(&r[text_at]);
    ASSERT_NE(text, nullptr);
    EXPECT_EQ(utf8_to_utf16(*text).size(), 100'000u);
    EXPECT_TRUE(is_valid_utf8(*text));
    EXPECT_TRUE(*text == long_text(100'000)) << "first difference hidden: 100,000 characters";

    const auto* bytes = std::get_if<Bytes>(&r[bin_at]);
    ASSERT_NE(bytes, nullptr);
    EXPECT_EQ(bytes->size(), 20'000u);
    EXPECT_TRUE(*bytes == long_binary(20'000));
}

TEST_F(OdbcE2E, ManyRows) {
    const auto sets = conn_.query("/* dmvlog:selftest_rows 1000 */\nSELECT 1", 30s);
    ASSERT_EQ(sets.size(), 1u);
    ASSERT_EQ(sets[0].rows.size(), 1000u);
    EXPECT_EQ(sets[0].row_count, 1000);
    EXPECT_FALSE(sets[0].columns[0].nullable);
    for (std::size_t i = 0; i < 1000; ++i) {
        const auto n = static_cast<std::int64_t>(i + 1);
        ASSERT_EQ(sets[0].rows[i][0], Value(n));
        ASSERT_EQ(sets[0].rows[i][2], Value("payload of row " + std::to_string(n)));
    }
}

TEST_F(OdbcE2E, EveryResultSetOfABatchReachesTheSink) {
    struct Recorder final : ResultSink {
        std::vector<std::string> events;
        void begin_result(const std::vector<ColumnInfo>& c) override {
            events.push_back("begin " + std::to_string(c.size()) + " " + c[0].name);
        }
        void row(Row&&) override { events.push_back("row"); }
        void end_result(long long n) override { events.push_back("end " + std::to_string(n)); }
    } rec;
    conn_.run("/* dmvlog:selftest_multi */\nSELECT 1", 10s, rec);
    const std::vector<std::string> expected = {"begin 1 a", "row",   "end 1", "begin 1 b", "row",  "row",
                                               "end 2",     "begin 2 c", "row", "row",       "row", "end 3"};
    EXPECT_EQ(rec.events, expected);

    const auto sets = conn_.query("/* dmvlog:selftest_multi */\nSELECT 1", 10s);
    ASSERT_EQ(sets.size(), 3u);
    EXPECT_EQ(sets[1].rows[1][0], Value(std::string("two")));
    EXPECT_EQ(sets[2].rows[1][0], Value(1.5));
    EXPECT_EQ(sets[2].rows[0][1], Value(std::int64_t{1}));
    EXPECT_EQ(sets[2].rows[1][1], Value(std::int64_t{0}));
    EXPECT_TRUE(is_null(sets[2].rows[2][1]));
}

TEST_F(OdbcE2E, StatementsWithoutResultsAreSkipped) {
    conn_.execute("SET NOCOUNT ON; SET LOCK_TIMEOUT 1000;");
    const auto sets = conn_.query("SET NOCOUNT ON; SELECT 1");
    ASSERT_EQ(sets.size(), 1u);
    EXPECT_EQ(sets[0].rows.at(0).at(0), Value(std::int64_t{1}));
}

TEST_F(OdbcE2E, InfoMessagesAreKeptNotThrown) {
    const auto sets = conn_.query("/* dmvlog:selftest_info */\nSELECT 1", 10s);
    ASSERT_EQ(sets.size(), 1u);
    EXPECT_EQ(sets[0].rows.at(0).at(0), Value(std::int64_t{1}));
    bool found = false;
    for (const auto& d : conn_.messages())
        if (d.native_error == 50000 && d.message.find("selftest info message") != std::string::npos) found = true;
    EXPECT_TRUE(found) << format_diagnostics(conn_.messages());
}

struct ErrorCase {
    int number;
    ErrorClass expected;
};

class OdbcErrorE2E : public OdbcE2E, public ::testing::WithParamInterface<ErrorCase> {};

TEST_P(OdbcErrorE2E, ServerErrorIsClassifiedAndTheConnectionStaysUsable) {
    const auto [number, expected] = GetParam();
    const Error e = expect_error(conn_, "/* dmvlog:selftest_error " + std::to_string(number) + " */\nSELECT 1");
    EXPECT_TRUE(e.has_native(number)) << e.what();
    EXPECT_EQ(classify(e), expected) << e.what();
    EXPECT_EQ(e.operation(), "SQLExecDirect");
    EXPECT_NE(std::string(e.what()).find("/" + std::to_string(number) + "] "), std::string::npos) << e.what();
    EXPECT_FALSE(conn_.dead());
    expect_usable(conn_);
}

INSTANTIATE_TEST_SUITE_P(Errors, OdbcErrorE2E,
                         ::testing::Values(ErrorCase{208, ErrorClass::incompatible},
                                           ErrorCase{207, ErrorClass::incompatible},
                                           ErrorCase{229, ErrorClass::permission},
                                           ErrorCase{297, ErrorClass::permission},
                                           ErrorCase{300, ErrorClass::permission},
                                           ErrorCase{1205, ErrorClass::transient},
                                           ErrorCase{1222, ErrorClass::transient},
                                           ErrorCase{102, ErrorClass::fatal},
                                           ErrorCase{8134, ErrorClass::fatal}),
                         [](const auto& p) { return "error_" + std::to_string(p.param.number); });

TEST_F(OdbcE2E, Error208CarriesSqlstateAndContext) {
    try {
        conn_.query("/* dmvlog:selftest_error 208 */\nSELECT 1", 10s, "collector requests_5s");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_TRUE(e.has_sqlstate("42S02")) << e.what();
        EXPECT_EQ(e.context(), "e2e: collector requests_5s");
        EXPECT_EQ(std::string(e.what()).rfind("e2e: collector requests_5s: SQLExecDirect failed: [", 0), 0u)
            << e.what();
    }
}

TEST_F(OdbcE2E, QueryTimeoutIsTransientAndTheConnectionRecovers) {
    const auto t0 = Clock::now();
    const Error e = expect_error(conn_, "/* dmvlog:selftest_delay 5 */\nSELECT 1", 1s);
    const double took = seconds_since(t0);
    EXPECT_TRUE(e.has_sqlstate("HYT00")) << e.what();
    EXPECT_EQ(classify(e), ErrorClass::transient) << e.what();
    EXPECT_GE(took, 0.8);
    EXPECT_LT(took, 3.5);
    EXPECT_FALSE(conn_.dead());
    expect_usable(conn_);
}

TEST_F(OdbcE2E, CancelFromAnotherThreadStopsAHungQuery) {
    EXPECT_FALSE(conn_.cancel());  // nothing running
    auto running = std::async(std::launch::async, [&]() -> std::string {
        try {
            // the query timeout is only a safety net, so that a broken cancel fails the test instead of hanging it
            conn_.query("/* dmvlog:selftest_hang */\nSELECT 1", 20s);
        } catch (const Error& e) {
            return e.what();
        }
        return "finished without error";
    });
    // wait until the statement runs, then cancel it
    bool cancelled = false;
    const auto deadline = Clock::now() + 10s;
    while (!cancelled && Clock::now() < deadline) {
        std::this_thread::sleep_for(100ms);
        cancelled = conn_.cancel();
    }
    ASSERT_TRUE(cancelled);
    const auto t0 = Clock::now();
    running.wait();
    EXPECT_LT(seconds_since(t0), 5.0);
    const std::string what = running.get();
    EXPECT_NE(what.find("[HY008/"), std::string::npos) << what;
    EXPECT_FALSE(conn_.dead());
    expect_usable(conn_);
}

TEST_F(OdbcE2E, DroppedConnectionIsTransientDeadAndReconnects) {
    const Error e = expect_error(conn_, "/* dmvlog:selftest_drop 3 */\nSELECT 1");
    EXPECT_EQ(classify(e), ErrorClass::transient) << e.what();
    EXPECT_TRUE(is_connection_lost(e)) << e.what();
    EXPECT_TRUE(conn_.dead());
    EXPECT_FALSE(conn_.connected());
    conn_.reconnect();
    EXPECT_TRUE(conn_.connected());
    EXPECT_FALSE(conn_.dead());
    expect_usable(conn_);
}

TEST_F(OdbcE2E, PartialResultsBeforeADropReachTheSink) {
    CollectingSink sink;
    EXPECT_THROW(conn_.run("/* dmvlog:selftest_drop 3 */\nSELECT 1", 10s, sink), Error);
    ASSERT_EQ(sink.sets().size(), 1u);
    ASSERT_EQ(sink.sets()[0].rows.size(), 3u);  // every row sent before the drop
    EXPECT_EQ(sink.sets()[0].rows[2][1], Value(std::string("row 3")));
    EXPECT_EQ(sink.sets()[0].row_count, 0);  // end_result was not called for the broken set
}

TEST_F(OdbcE2E, ConnectionsKilledByTheServerAreDetected) {
    SimProcess sim(test::SimOptions{{"--engine", "selftest"}, true});
    ASSERT_GT(sim.control_port(), 0);
    EXPECT_NE(sim.control(R"({"cmd": "ping"})").find("\"ok\": true"), std::string::npos);
    Connection c(*env_, "killed");
    c.connect(sim.connection_string(), SimProcess::kUser, SimProcess::kPassword, 5s);
    expect_usable(c);
    const std::string answer = sim.control(R"({"cmd": "kill_connections"})");
    EXPECT_NE(answer.find("\"killed\": 1"), std::string::npos) << answer;
    // FreeTDS itself says only "[HY000/0] Unknown error" here; the Connection adds 08S01 from
    // SQL_ATTR_CONNECTION_DEAD
    const Error e = expect_error(c, "/* dmvlog:selftest_rows 3 */\nSELECT 1");
    EXPECT_EQ(classify(e), ErrorClass::transient) << e.what();
    EXPECT_TRUE(e.has_sqlstate("08S01")) << e.what();
    EXPECT_TRUE(is_connection_lost(e)) << e.what();
    EXPECT_TRUE(c.dead());
    EXPECT_FALSE(c.connected());
    c.reconnect();
    expect_usable(c);
}

TEST_F(OdbcE2E, NotConnectedIsATransientError) {
    Connection c(*env_, "never connected");
    EXPECT_FALSE(c.connected());
    EXPECT_FALSE(c.dead());
    try {
        c.query("SELECT 1");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_TRUE(e.has_sqlstate("08003")) << e.what();
        EXPECT_EQ(classify(e), ErrorClass::transient);
    }
    EXPECT_THROW(c.reconnect(), Error);
}

TEST_F(OdbcE2E, WrongPasswordIsALoginFailureWithoutThePassword) {
    const std::string secret = "Not-The-Password-4711";
    Connection c(*env_, "instance sim");
    try {
        c.connect(sim_->connection_string(), SimProcess::kUser, secret, 5s);
        FAIL() << "connected with a wrong password";
    } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_TRUE(e.has_native(18456)) << what;
        EXPECT_TRUE(is_login_failure(e)) << what;
        EXPECT_EQ(classify(e), ErrorClass::permission) << what;
        EXPECT_EQ(what.find(secret), std::string::npos) << what;
        for (const auto& d : e.diagnostics()) EXPECT_EQ(d.message.find(secret), std::string::npos);
    }
    EXPECT_FALSE(c.connected());
    for (const auto& d : c.messages()) EXPECT_EQ(d.message.find(secret), std::string::npos);
}

TEST_F(OdbcE2E, PasswordNeedingBracesIsPassedWhole) {
    // A ';' in the password must not end the attribute: the server sees the whole (wrong) password and
    // refuses the login with 18456, rather than the driver failing to parse the string.
    const std::string secret = "semi;colon}brace=pw";
    Connection c(*env_, "instance sim");
    try {
        c.connect(sim_->connection_string(), SimProcess::kUser, secret, 5s);
        FAIL() << "connected with a wrong password";
    } catch (const Error& e) {
        EXPECT_TRUE(e.has_native(18456)) << e.what();
        EXPECT_EQ(std::string(e.what()).find(secret), std::string::npos) << e.what();
    }
}

TEST_F(OdbcE2E, ClosedPortFailsQuicklyAsTransient) {
    const int port = test::free_tcp_port();
    Connection c(*env_, "closed");
    const auto t0 = Clock::now();
    try {
        c.connect("Driver=FreeTDS;Server=127.0.0.1;Port=" + std::to_string(port) + ";TDS_Version=7.4",
                  SimProcess::kUser, SimProcess::kPassword, 5s);
        FAIL() << "connected to a closed port";
    } catch (const Error& e) {
        EXPECT_TRUE(e.has_sqlstate("08S01") || e.has_sqlstate("08001")) << e.what();
        EXPECT_EQ(classify(e), ErrorClass::transient) << e.what();
        EXPECT_FALSE(is_login_failure(e));
    }
    EXPECT_LT(seconds_since(t0), 2.0);
    EXPECT_FALSE(c.connected());
}

TEST_F(OdbcE2E, LoginTimeoutAgainstASilentServer) {
    test::SilentListener silent;
    Connection c(*env_, "silent");
    const auto t0 = Clock::now();
    try {
        c.connect("Driver=FreeTDS;Server=127.0.0.1;Port=" + std::to_string(silent.port()) + ";TDS_Version=7.4",
                  SimProcess::kUser, SimProcess::kPassword, 2s);
        FAIL() << "connected to a server that never answers";
    } catch (const Error& e) {
        EXPECT_TRUE(e.has_sqlstate("HYT00")) << e.what();
        EXPECT_EQ(classify(e), ErrorClass::transient) << e.what();
    }
    const double took = seconds_since(t0);
    EXPECT_GE(took, 1.5);
    EXPECT_LT(took, 4.5);
}

TEST_F(OdbcE2E, ConnectAgainReplacesTheConnection) {
    connect(conn_);
    EXPECT_TRUE(conn_.connected());
    expect_usable(conn_);
    conn_.disconnect();
    EXPECT_FALSE(conn_.connected());
    EXPECT_FALSE(conn_.dead());
    EXPECT_THROW(conn_.query("SELECT 1"), Error);
}

TEST_F(OdbcE2E, TraceSeesEveryCall) {
    std::vector<std::string> ops;
    conn_.set_trace([&](std::string_view op, SQLRETURN) { ops.emplace_back(op); });
    conn_.query("SELECT 1");
    conn_.set_trace(nullptr);
    EXPECT_NE(std::find(ops.begin(), ops.end(), "SQLExecDirect"), ops.end());
    EXPECT_NE(std::find(ops.begin(), ops.end(), "SQLFetch"), ops.end());
    EXPECT_NE(std::find(ops.begin(), ops.end(), "SQLMoreResults"), ops.end());
}

}  // namespace
}  // namespace dmvlog::odbc

namespace dmvlog::odbc {
namespace {

TEST(OdbcParams, BoundParametersReachTheServerAsValuesNotText) {
    test::SimProcess sim;
    Environment env;
    Connection c(env, "params");
    c.connect(sim.connection_string(), test::SimProcess::kUser, test::SimProcess::kPassword, std::chrono::seconds(5));
    CollectingSink sink;
    const std::string tricky = "dmvlog_blocking_0_1334.xel'; DROP TABLE x; -- 東京";
    c.run("/* dmvlog:selftest_echo */\nSELECT ?, ?, ?", {Value{tricky}, Value{std::int64_t{4294967296LL}}, Value{}},
          std::chrono::seconds(5), sink, "params");
    ASSERT_EQ(sink.sets().size(), 1u);
    const auto& set = sink.sets()[0];
    ASSERT_EQ(set.columns.size(), 3u);
    ASSERT_EQ(set.rows.size(), 1u);
    EXPECT_EQ(std::get<std::string>(set.rows[0][0]), tricky);
    EXPECT_EQ(std::get<std::int64_t>(set.rows[0][1]), 4294967296LL);
    EXPECT_TRUE(is_null(set.rows[0][2]));
    // And the connection goes on working (the RPC answer sequence was right).
    auto again = c.query("/* dmvlog:selftest_rows 2 */", std::chrono::seconds(5));
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].rows.size(), 2u);
}

}  // namespace
}  // namespace dmvlog::odbc
