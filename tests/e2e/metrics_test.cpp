// The agent's metrics and health endpoints: `dmvlog run` against the simulator with [metrics] listen on a free
// loopback port, scraped with the curl binary and by a real Prometheus server (Debian's prometheus package).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "support/agent_process.h"
#include "support/sim_process.h"

namespace dmvlog::test {
namespace {

using namespace std::chrono_literals;

struct HttpAnswer {
    int status = 0;      // 0: no answer (connection refused, timeout)
    std::string body;
};

// GET url with the curl binary (as an operator or a probe would).
HttpAnswer curl_get(const std::string& url) {
    const std::string cmd = "curl -s --max-time 5 -w '\\n%{http_code}' '" + url + "' 2>/dev/null";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return {};
    std::string out;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
    HttpAnswer a;
    const auto nl = out.rfind('\n');
    if (nl == std::string::npos) return a;
    a.status = std::atoi(out.c_str() + nl + 1);
    a.body = out.substr(0, nl);
    return a;
}

// The value of the sample line that starts with `series` (name{labels} exactly as exposed), or -1.
double value_of(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    return -1;
}

// Polls until done() or the timeout; true when done.
bool wait_until(const std::function<bool()>& done, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(200ms);
    }
    return done();
}

SimOptions incident() {
    SimOptions o;
    o.args = {"--scenario", scenarios_dir() + "/incident.toml", "--seed", "11"};
    o.control = true;
    return o;
}

std::string metrics_section(int port) { return "[metrics]\nlisten = \"127.0.0.1:" + std::to_string(port) + "\"\n"; }

TEST(Metrics, ScrapedWithCurlHealthAndReadiness) {
    SimProcess sim(incident());
    ASSERT_TRUE(sim.control(R"({"cmd":"fault","kind":"deny","tag":"wait_stats"})").find("true") != std::string::npos);
    TempDir dir;
    const int port = free_tcp_port();
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    auto cfg = agent_config(dir, sim.port(), dir.file("dmvlog.db"), metrics_section(port));
    AgentProcess agent({"run", "--config", cfg});

    ASSERT_TRUE(wait_until([&] { return curl_get(base + "/healthz").status == 200; }, 20s)) << agent.output();
    EXPECT_EQ(curl_get(base + "/healthz").body, "ok\n");

    // requests_5s has run, wait_stats is disabled by the permission error, the instance is connected.
    const std::string runs = R"(dmvlog_collector_runs_total{collector="requests_5s",instance="sim",status="ok"})";
    const std::string denied = R"(dmvlog_collector_disabled{collector="wait_stats",instance="sim"})";
    std::string text;
    ASSERT_TRUE(wait_until([&] {
        text = curl_get(base + "/metrics").body;
        return value_of(text, runs) >= 1 && value_of(text, denied) == 1;
    }, 30s)) << text << agent.output();
    EXPECT_EQ(value_of(text, R"(dmvlog_collector_disabled{collector="requests_5s",instance="sim"})"), 0);
    EXPECT_EQ(value_of(text, R"(dmvlog_collector_failures_total{class="permission",collector="wait_stats",instance="sim"})"), 1);
    EXPECT_GT(value_of(text, R"(dmvlog_collector_rows_total{collector="requests_5s",instance="sim"})"), 0);
    EXPECT_GE(value_of(text, R"(dmvlog_collector_run_duration_seconds_count{collector="requests_5s",instance="sim"})"), 1);
    EXPECT_EQ(value_of(text, R"(dmvlog_source_connected{instance="sim"})"), 1);
    EXPECT_GE(value_of(text, "dmvlog_store_write_duration_seconds_count"), 1);
    EXPECT_GE(value_of(text, "dmvlog_store_snapshots_written_total"), 1);
    EXPECT_LE(value_of(text, "dmvlog_spool_records"), 5) << "write-ahead: a few snapshots in passing, no backlog";
    EXPECT_NE(text.find("dmvlog_build_info{version=\""), std::string::npos);
    EXPECT_NE(text.find("# TYPE dmvlog_collector_run_duration_seconds histogram"), std::string::npos);

    auto ready = curl_get(base + "/readyz");
    EXPECT_EQ(ready.status, 200) << ready.body;
    EXPECT_NE(ready.body.find("instance sim: reachable"), std::string::npos) << ready.body;

    // The server restarts and refuses connections for 8 s: the agent's connections drop on their next query,
    // reconnecting is refused, /readyz says 503 and why; then it connects again and is ready.
    const auto restarted = sim.control(R"({"cmd":"restart","outage_seconds":8})");
    ASSERT_NE(restarted.find("true"), std::string::npos) << restarted;
    HttpAnswer not_ready;
    ASSERT_TRUE(wait_until([&] { return (not_ready = curl_get(base + "/readyz")).status == 503; }, 15s))
        << not_ready.status << " " << not_ready.body << agent.output();
    EXPECT_NE(not_ready.body.find("instance sim: NOT reachable"), std::string::npos) << not_ready.body;
    EXPECT_EQ(curl_get(base + "/healthz").status, 200) << "alive while not ready";
    EXPECT_EQ(value_of(curl_get(base + "/metrics").body, R"(dmvlog_source_connected{instance="sim"})"), 0);
    ASSERT_TRUE(wait_until([&] { return curl_get(base + "/readyz").status == 200; }, 30s)) << agent.output();
    EXPECT_GE(value_of(curl_get(base + "/metrics").body, R"(dmvlog_source_reconnects_total{instance="sim"})"), 1);
    EXPECT_EQ(curl_get(base + "/nothing").status, 404);
    EXPECT_EQ(agent.stop(), 0) << agent.output();
    EXPECT_EQ(curl_get(base + "/healthz").status, 0) << "the endpoint closes with the agent";
}

TEST(Metrics, APortInUseIsLoggedAndCollectionGoesOn) {
    SimProcess sim(incident());
    TempDir dir;
    const int port = free_tcp_port();
    auto first = agent_config(dir, sim.port(), dir.file("a.db"), metrics_section(port));
    AgentProcess a({"run", "--config", first});
    ASSERT_TRUE(wait_until([&] { return curl_get("http://127.0.0.1:" + std::to_string(port) + "/healthz").status == 200; }, 20s));
    TempDir dir2;
    auto second = agent_config(dir2, sim.port(), dir2.file("b.db"), metrics_section(port));
    AgentProcess b({"run", "--config", second});
    ASSERT_TRUE(wait_until([&] { return b.output().find("cannot listen on 127.0.0.1:" + std::to_string(port)) != std::string::npos; }, 20s))
        << b.output();
    EXPECT_TRUE(wait_until([&] {
        StoreReader s(dir2.file("b.db"));
        return s.scalar("SELECT count(*) FROM snapshots WHERE collector = 'requests_5s'") > 0;
    }, 20s)) << b.output();
    EXPECT_EQ(b.stop(), 0) << b.output();
    EXPECT_EQ(a.stop(), 0) << a.output();
}

TEST(Metrics, RetentionThatIsBehindIsReportedByCheckThenPurgedAndCounted) {
    SimProcess sim(incident());
    TempDir dir;
    const int port = free_tcp_port();
    const auto db = dir.file("dmvlog.db");
    auto cfg = agent_config(dir, sim.port(), db, metrics_section(port));
    ASSERT_EQ(run_dmvlog({"collect", "--once", "--only", "requests_5s", "--config", cfg}).exit_code, 0);
    {  // a snapshot from long ago, as a store whose retention did not run would hold
        sqlite3* h = nullptr;
        ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(h, "INSERT INTO snapshots (instance, collector, collected_at, utc_offset_minutes, row_count, "
                                  "written_at) VALUES ('sim', 'requests_5s', '2020-01-01 00:00:00.0000000', 0, 0, "
                                  "'2020-01-01 00:00:00.0000000')",
                               nullptr, nullptr, nullptr),
                  SQLITE_OK);
        sqlite3_close(h);
    }
    auto check = run_dmvlog({"check", "--config", cfg});
    EXPECT_EQ(check.exit_code, 1) << check.output;
    EXPECT_NE(check.output.find("PROBLEM: retention of requests_5s is behind: the store still holds data from "
                                "2020-01-01 00:00:00.0000000, older than its retention (7d) plus one purge period (10m)"),
              std::string::npos)
        << check.output;

    // The agent's first retention pass (within a minute of schedule time; 6 s at --time-scale 10) deletes it,
    // says so, and counts it.
    AgentProcess agent({"run", "--config", cfg, "--time-scale", "10"});
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    const std::string purged = R"(dmvlog_retention_purged_snapshots_total{collector="requests_5s"})";
    std::string text;
    ASSERT_TRUE(wait_until([&] {
        text = curl_get(base + "/metrics").body;
        return value_of(text, purged) >= 1;
    }, 30s)) << text << agent.output();
    EXPECT_EQ(value_of(text, purged), 1);
    EXPECT_EQ(value_of(text, R"(dmvlog_retention_behind{collector="requests_5s"})"), 0);
    EXPECT_NE(agent.output().find("retention: requests_5s purged 1 snapshot(s)"), std::string::npos) << agent.output();
    EXPECT_EQ(agent.stop(), 0) << agent.output();
    check = run_dmvlog({"check", "--config", cfg});
    EXPECT_EQ(check.output.find("PROBLEM: retention"), std::string::npos) << check.output;
    EXPECT_NE(check.output.find("retention: keeping up"), std::string::npos) << check.output;
}

// A child process (here: prometheus) with its output in a file; SIGTERM, then SIGKILL, at the end.
class Child {
public:
    Child(const std::vector<std::string>& args, const std::string& log) {
        std::vector<std::string> all = args;
        std::vector<char*> argv;
        for (auto& a : all) argv.push_back(a.data());
        argv.push_back(nullptr);
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            ::execvp(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(fd);
    }
    ~Child() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 100; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
            std::this_thread::sleep_for(50ms);
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

private:
    pid_t pid_ = -1;
};

std::string find_prometheus() {
    for (const char* p : {"/usr/bin/prometheus", "/usr/local/bin/prometheus"})
        if (::access(p, X_OK) == 0) return p;
    return {};
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(Metrics, ARealPrometheusServerScrapesTheAgent) {
    const std::string prometheus = find_prometheus();
    if (prometheus.empty()) GTEST_SKIP() << "the prometheus binary is not installed (Debian package prometheus; dev/setup installs it)";
    SimProcess sim(incident());
    TempDir dir;
    const int port = free_tcp_port();
    auto cfg = agent_config(dir, sim.port(), dir.file("dmvlog.db"), metrics_section(port));
    AgentProcess agent({"run", "--config", cfg});

    // honor_labels: the agent's own `instance` label (the SQL Server instance) is kept as it is.
    const int prom_port = free_tcp_port();
    const std::string prom_cfg = dir.write("prometheus.yml",
                                           "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                                           "scrape_configs:\n  - job_name: dmvlog\n    honor_labels: true\n"
                                           "    static_configs:\n      - targets: ['127.0.0.1:" + std::to_string(port) + "']\n");
    std::filesystem::create_directories(dir.path() / "tsdb");
    const std::string log = dir.file("prometheus.log");
    Child prom({prometheus, "--config.file=" + prom_cfg, "--storage.tsdb.path=" + (dir.path() / "tsdb").string(),
                "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
               log);
    const std::string api = "http://127.0.0.1:" + std::to_string(prom_port) + "/api/v1/query?query=";
    double runs = 0;
    std::string last;
    const bool scraped = wait_until([&] {
        auto a = curl_get(api + "dmvlog_collector_runs_total%7Bcollector%3D%22requests_5s%22%2Cstatus%3D%22ok%22%7D");
        last = a.body;
        if (a.status != 200) return false;
        auto j = nlohmann::json::parse(a.body, nullptr, false);
        if (j.is_discarded() || j["status"] != "success" || j["data"]["result"].empty()) return false;
        const auto& r = j["data"]["result"][0];
        if (r["metric"]["instance"] != "sim" || r["metric"]["job"] != "dmvlog") return false;
        runs = std::stod(r["value"][1].get<std::string>());
        return runs >= 1;
    }, 45s);
    ASSERT_TRUE(scraped) << last << "\n" << slurp(log).substr(0, 3000) << agent.output();
    EXPECT_GE(runs, 1);
    auto up = curl_get(api + "up%7Bjob%3D%22dmvlog%22%7D");
    EXPECT_NE(up.body.find("\"1\"]"), std::string::npos) << up.body;
    EXPECT_EQ(agent.stop(), 0) << agent.output();
}

}  // namespace
}  // namespace dmvlog::test
