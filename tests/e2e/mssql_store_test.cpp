// The SQL Server store, end to end through unixODBC + FreeTDS into the simulator, which records what it is
// sent (tests/sqlserver_sim, "The store"):
//   - two agents collect the simulator's incident at once, one into SQLite and one into the SQL Server store;
//     the extended-event tables (events, reports, deadlocks, episodes, bookmarks) must hold the same rows, and
//     every snapshot written there must hold exactly its row_count rows;
//   - the SQLite store is then copied into the SQL Server store through MssqlStore::write (parameter arrays):
//     every collector table holds the same rows, and a second copy writes nothing;
//   - every `dmvlog query` question and the digest give the same answer from both stores;
//   - retention deletes a collector's snapshots in batches; the CLI reads the store.
// A real SQL Server is used instead of the simulator when DMVLOG_TEST_SQLSERVER_STORE holds an ODBC connection
// string with UID and PWD (an empty database the test may write to); the same checks then run there.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "agent/collect/declaration.h"
#include "agent/core/time_format.h"
#include "agent/digest/digest.h"
#include "agent/odbc/tls_settings.h"
#include "agent/query/mssql_db.h"
#include "agent/query/questions.h"
#include "agent/store/copy.h"
#include "agent/store/mssql_store.h"
#include "agent/store/sqlite_store.h"
#include "support/agent_process.h"
#include "support/sim_clock.h"
#include "support/sim_process.h"
#include "support/store_compare.h"

namespace dmvlog::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A value as text both stores agree on: numbers through double (%.9g), times as the store's text.
std::string canonical(std::string_view text) {
    if (text.empty()) return std::string(text);
    if (text.find_first_not_of("-0123456789") == std::string_view::npos) return std::string(text);   // integers exact
    char* end = nullptr;
    const std::string s(text);
    const double d = std::strtod(s.c_str(), &end);
    if (end && *end == '\0' && s.find_first_not_of("0123456789.-+eE") == std::string::npos) {
        char b[40];
        std::snprintf(b, sizeof b, "%.9g", d);
        return b;
    }
    return s;
}

std::multiset<std::string> lines(query::Db& db, const std::string& sql) {
    std::multiset<std::string> out;
    query::Stmt st(&db, sql);
    while (st.step()) {
        std::string line;
        for (int i = 0; i < st.columns(); ++i) line += (st.null(i) ? std::string("<NULL>") : canonical(st.text(i))) + "|";
        out.insert(line);
    }
    return out;
}

std::int64_t scalar(query::Db& db, const std::string& sql) {
    query::Stmt st(&db, sql);
    return st.step() && !st.null(0) ? st.i64(0) : -1;
}

// Where the store is: the simulator (always) or a real SQL Server (DMVLOG_TEST_SQLSERVER_STORE).
struct Target {
    std::unique_ptr<SimProcess> sim;
    store::MssqlOptions options;
    std::string toml;   // the [store] section for an agent's configuration
    bool real = false;
};

Target store_target(const TempDir& dir) {
    Target t;
    if (const char* cs = std::getenv("DMVLOG_TEST_SQLSERVER_STORE"); cs && *cs) {
        t.real = true;
        std::string rest;
        for (const auto& [k, v] : odbc::parse_connection_string(cs)) {
            std::string lk = k;
            std::transform(lk.begin(), lk.end(), lk.begin(), [](unsigned char c) { return std::tolower(c); });
            if (lk == "uid") t.options.user = v;
            else if (lk == "pwd") t.options.password = v;
            else rest += (rest.empty() ? "" : ";") + k + "=" + odbc::odbc_value(v);
        }
        t.options.connection = rest;
        t.options.tls = odbc::TlsSettings{true, std::getenv("DMVLOG_TEST_SQLSERVER_TRUST") != nullptr, ""};
    } else {
        SimOptions so;
        so.args = {"--scenario", scenarios_dir() + "/steady-oltp.toml"};   // the scenario engine keeps the store
        so.control = true;
        t.sim = std::make_unique<SimProcess>(so);
        t.options.connection = "Driver=FreeTDS;Server=127.0.0.1;Port=" + std::to_string(t.sim->port()) +
                               ";TDS_Version=7.4;ClientCharset=UTF-8";
        t.options.user = SimProcess::kUser;
        t.options.password = SimProcess::kPassword;
        t.options.tls = odbc::TlsSettings{true, false, test_ca_file()};
    }
    const auto pw = dir.write("store-password", t.options.password + "\n");
    t.toml = "[store]\nkind = \"sqlserver\"\nconnection = \"" + t.options.connection + "\"\nuser = \"" + t.options.user +
             "\"\npassword_file = \"" + pw + "\"\n" +
             (t.options.tls.ca_file.empty() ? "" : "ca_file = \"" + t.options.tls.ca_file + "\"\n") +
             (t.options.tls.trust_server_certificate ? "trust_server_certificate = true\n" : "") + "\n[agent]\nstate_dir = \"" +
             dir.file("mssql-state") + "\"\n" +
             // Answers of more than 100 rows (wait_stats, perf_counters) go in parts: the parts' path is checked below.
             "snapshot_part_rows = 100\n";
    return t;
}

// The agent configuration for the SQL Server store: the SQLite one with its [store] replaced and another
// instance name.
std::string mssql_config(const TempDir& dir, const std::string& sqlite_cfg, const std::string& db, const Target& t,
                         const std::string& instance) {
    std::string text = read_file(sqlite_cfg);
    const std::string sqlite_store = "[store]\nkind = \"sqlite\"\npath = \"" + db + "\"\n";
    const auto at = text.find(sqlite_store);
    if (at == std::string::npos) throw std::runtime_error("no SQLite store section in " + sqlite_cfg);
    text.replace(at, sqlite_store.size(), t.toml);
    const auto name = text.find("name = \"sim\"");
    if (name != std::string::npos) text.replace(name, 12, "name = \"" + instance + "\"");
    return dir.write("mssql.toml", text);
}

TEST(MssqlStore, SameRowsAndAnswersAsSqliteOnTheIncident) {
    TempDir dir;
    Target target = store_target(dir);
    if (target.real) std::printf("[ mssql ] writing to the SQL Server named by DMVLOG_TEST_SQLSERVER_STORE\n");
    else std::printf("[ mssql ] writing to the simulator (set DMVLOG_TEST_SQLSERVER_STORE to use a real SQL Server)\n");

    SimOptions so;
    so.args = {"--scenario", scenarios_dir() + "/incident.toml", "--seed", "5", "--speed", "10"};
    so.control = true;
    SimProcess sim(so);
    const auto scenario = json::parse(sim.control(R"({"cmd":"scenario"})"));
    const auto start = parse_timestamp(scenario.at("start").get<std::string>())->utc_ticks;
    const auto db = dir.file("dmvlog.db");
    const auto sqlite_cfg = agent_config(dir, sim.port(), db);
    // The agent writing to SQL Server runs the collectors the checks below need (the simulator's store takes
    // a few thousand rows a second; every collector at ten times the speed would outrun it).
    std::string light;
    for (const auto& d : collect::load_builtin())
        if (!std::set<std::string>{"requests_5s", "requests_1m", "blocking_events", "wait_stats", "perf_counters",
                                   "memory_grants", "server_info", "file_io"}.count(d.name))
            light += "[collectors." + d.name + "]\nenabled = false\n\n";
    const auto mssql_cfg = mssql_config(dir, agent_config(dir, sim.port(), db, light), db, target, "sim2");
    const auto sqlite_cfg_again = agent_config(dir, sim.port(), db);   // agent_config writes dmvlog.toml: back to all collectors
    ASSERT_EQ(sqlite_cfg_again, sqlite_cfg);
    ASSERT_EQ(run_dmvlog({"xe", "setup", "--apply", "--set-threshold", "5", "--config", sqlite_cfg}).exit_code, 0);
    auto install = run_dmvlog({"schema", "install", "--config", mssql_cfg});
    ASSERT_EQ(install.exit_code, 0) << install.output;
    EXPECT_NE(install.output.find("schema version 0 -> 4"), std::string::npos) << install.output;

    std::string mssql_output;
    // 1. Two agents on the incident at once: one into SQLite (instance sim), one into SQL Server (sim2).
    {
        AgentProcess to_sqlite({"run", "--config", sqlite_cfg, "--time-scale", "10"});
        AgentProcess to_mssql({"run", "--config", mssql_cfg, "--time-scale", "10"});
        wait_for_offset(sim, 300, 120s);
        if (::testing::Test::HasFatalFailure()) return;
        sim.control(R"({"cmd":"pause"})");
        std::this_thread::sleep_for(4s);
        ASSERT_EQ(to_mssql.stop(), 0) << to_mssql.output();
        ASSERT_EQ(to_sqlite.stop(), 0) << to_sqlite.output();
        mssql_output = to_mssql.output();
        EXPECT_EQ(to_mssql.output().find("store write failed"), std::string::npos) << to_mssql.output();
    }
    std::vector<store::TableSpec> specs;
    for (const auto& d : collect::load_builtin())
        if (!d.is_xe()) specs.push_back(store::table_spec(d));
    query::MssqlDb ms(target.options);
    store::SqliteStore ro(db, std::chrono::milliseconds(5000), true);
    query::SqliteDb sq(ro.handle());

    // Every snapshot the agent wrote holds its rows, and it wrote many.
    EXPECT_GT(scalar(ms, "SELECT count(*) FROM snapshots WHERE instance = 'sim2'"), 100) << mssql_output;
    for (const auto& t : specs) {
        const auto snaps = scalar(ms, "SELECT count(*) FROM snapshots WHERE instance = 'sim2' AND collector = '" + t.collector + "'");
        if (snaps <= 0) continue;
        EXPECT_EQ(scalar(ms, "SELECT count(*) FROM " + t.name + " WHERE instance = 'sim2'"),
                  scalar(ms, "SELECT sum(row_count) FROM snapshots WHERE instance = 'sim2' AND collector = '" + t.collector + "'"))
            << t.name;
    }
    EXPECT_GT(scalar(ms, "SELECT count(*) FROM collector_runs WHERE instance = 'sim2' AND status = 'ok'"), 100);
    EXPECT_GT(scalar(ms, "SELECT max(row_count) FROM snapshots WHERE instance = 'sim2'"), 100)
        << "some snapshots came in parts of 100 rows";
    EXPECT_EQ(scalar(ms, "SELECT count(*) FROM (SELECT instance, collector, collected_at FROM snapshots GROUP BY instance, "
                         "collector, collected_at HAVING count(*) > 1) AS d"),
              0)
        << "the parts of a snapshot share one snapshots row";

    // The extended events: the same rows as in SQLite.
    ASSERT_GT(scalar(sq, "SELECT count(*) FROM xe_events"), 100);
    for (const auto& sql : xe_comparison_queries()) {
        const auto a = lines(sq, sql), b = lines(ms, sql);
        EXPECT_FALSE(a.empty()) << sql;
        EXPECT_EQ(difference(a, b, "SQLite", "SQL Server"), "") << sql;
    }

    // 2. The SQLite store copied in through MssqlStore::write, twice: the second copy writes nothing.
    store::MssqlStore to(target.options);
    to.install(specs);
    EXPECT_EQ(to.schema_version(), ro.schema_version());
    store::SqliteStore from(db);
    auto first = store::copy_store(from, to, specs);
    EXPECT_GT(first.snapshots, 100);
    EXPECT_GT(first.rows, 1000);
    EXPECT_EQ(first.skipped, 0);
    auto again = store::copy_store(from, to, specs);
    EXPECT_EQ(again.snapshots, 0);
    EXPECT_EQ(again.skipped, first.snapshots) << "a snapshot written twice lands once";
    std::printf("[ mssql ] %lld snapshots, %lld rows copied\n", static_cast<long long>(first.snapshots),
                static_cast<long long>(first.rows));
    int tables = 0;
    for (const auto& t : specs) {
        if (!sq.has_table(t.name)) continue;
        const std::string sql = "SELECT * FROM " + t.name + " WHERE instance = 'sim'";
        const auto a = lines(sq, sql), b = lines(ms, sql);
        EXPECT_EQ(difference(a, b, "SQLite", "SQL Server"), "") << t.name;
        tables += a.empty() ? 0 : 1;
    }
    EXPECT_GT(tables, 15);
    {
        // Every text SQLite holds is in the SQL Server store, the same.
        const auto a = lines(sq, "SELECT hash, text FROM sql_text"), b = lines(ms, "SELECT hash, text FROM sql_text");
        std::vector<std::string> missing;
        std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(missing));
        EXPECT_TRUE(missing.empty()) << missing.size() << " texts missing, e.g. " << (missing.empty() ? "" : missing.front());
    }

    // 3. Every question and the digest: the same JSON from both stores (instance sim).
    query::Zone zone("Europe/Berlin");
    int compared = 0;
    for (const auto& q : query::questions()) {
        query::Options o;
        o.zone = &zone;
        o.instances = {"sim"};
        if (q.point) {
            o.window.from = o.window.to = start + 150 * kTicksPerSecond;
            o.window.is_point = true;
        } else {
            o.window.from = start;
            o.window.to = start + 600 * kTicksPerSecond;
        }
        auto a = query::render(query::run_question(&sq, q.name, o), query::Format::json, zone, 0);
        auto b = query::render(query::run_question(&ms, q.name, o), query::Format::json, zone, 0);
        EXPECT_TRUE(a == b) << q.name << ": " << first_difference(a, b, "sqlserver");
        ++compared;
    }
    EXPECT_EQ(compared, static_cast<int>(query::questions().size()));
    // The digest's blocking part: from SQLite (instance sim) and from what the agent wrote to SQL Server
    // (sim2, the same events); the context (top CPU, waits) comes from collectors sim2 did not all run.
    digest::Options dopt;
    dopt.zone = &zone;
    dopt.window.from = start;
    dopt.window.to = start + 600 * kTicksPerSecond;
    dopt.now = start;
    dopt.instances = {"sim"};
    const auto da = json::parse(digest::render_json(digest::build(&sq, dopt), zone));
    dopt.instances = {"sim2"};
    const auto dm = json::parse(digest::render_json(digest::build(&ms, dopt), zone));
    for (const char* part : {"headline", "episodes", "head_blockers", "blocked_statements", "resources", "deadlocks", "timeline"}) {
        auto a = da["instances"][0][part], m = dm["instances"][0][part];
        if (std::string(part) == "resources")   // objects are named from index_usage, which sim2 did not collect
            for (auto* j : {&a, &m})
                for (auto& e : *j) e.erase("object");
        EXPECT_EQ(a.dump(1), m.dump(1)) << "digest: " << part;
    }
    EXPECT_EQ(da["instances"][0]["headline"]["episodes"], 1) << da.dump().substr(0, 1000);

    // 4. The CLI reads the SQL Server store through the configuration.
    auto r = run_dmvlog({"query", "top-queries", "--config", mssql_cfg, "--instance", "sim", "--from",
                         format_timestamp(Timestamp{start, 0, false}).substr(0, 19), "--to",
                         format_timestamp(Timestamp{start + 600 * kTicksPerSecond, 0, false}).substr(0, 19), "--tz", "UTC",
                         "--format", "csv", "--top", "3"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("query_hash"), std::string::npos) << r.output;
    auto c = run_dmvlog({"collectors", "--config", mssql_cfg});
    EXPECT_EQ(c.exit_code, 0) << c.output;
    EXPECT_NE(c.output.find("requests_5s"), std::string::npos) << c.output;

    // 5. Retention: a cutoff after the data deletes requests_5s in batches, snapshots and runs with it.
    const auto before = scalar(ms, "SELECT count(*) FROM requests_5s");
    ASSERT_GT(before, 0);
    std::int64_t deleted = 0;
    for (int pass = 0; pass < 1000; ++pass) {
        auto p = to.purge("requests_5s", "requests_5s", Timestamp{start + 2 * kTicksPerDay, 0, false}, 20);
        deleted += p.rows;
        if (!p.more) break;
    }
    EXPECT_EQ(deleted, before);
    EXPECT_EQ(scalar(ms, "SELECT count(*) FROM requests_5s"), 0);
    EXPECT_EQ(scalar(ms, "SELECT count(*) FROM snapshots WHERE collector = 'requests_5s'"), 0);
    EXPECT_EQ(scalar(ms, "SELECT count(*) FROM collector_runs WHERE collector = 'requests_5s'"), 0);
    EXPECT_GT(scalar(ms, "SELECT count(*) FROM snapshots"), 0) << "other collectors keep theirs";
}

}  // namespace
}  // namespace dmvlog::test
