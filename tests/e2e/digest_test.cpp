// The digest through the whole pipeline: the simulator's incident (a 20-session chain behind a sleeping head
// blocker, a deadlock) -> `dmvlog run` -> the store -> `dmvlog digest`. The head blocker, durations and counts
// match the simulator's ground truth; a window split inside the episode counts each part once; JSON validates
// against docs/digest.schema.json; the HTML renders in headless Chromium to a page that is not blank and shows
// the key numbers; a quiet window is one line; a failing webhook sets exit status 3 and keeps the file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "agent/collect/declaration.h"
#include "agent/core/time_format.h"
#include "support/agent_process.h"
#include "support/sim_clock.h"
#include "support/sim_process.h"

namespace dmvlog::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kThreshold = 5;

std::string config_extra() {
    std::string out = "[digest]\npost_retries = 0\npost_timeout = \"2s\"\nformat = \"html\"\n";
    out += "out = \"{dir}/digest-{from}.html\"\n\n";
    for (const auto& d : collect::load_builtin())
        if (d.name != "blocking_events" && d.name != "requests_5s" && d.name != "wait_stats" && d.name != "server_info" &&
            d.name != "query_stats")
            out += "[collectors." + d.name + "]\nenabled = false\n\n";
    return out;
}

std::string iso(std::int64_t ticks) {
    auto s = format_timestamp(Timestamp{ticks, 0, false});
    s[10] = 'T';
    return s.substr(0, 19) + "Z";
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Runs a shell command, returns its exit status and output.
int sh(const std::string& cmd, std::string* out = nullptr) {
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    if (!p) return -1;
    std::string text;
    char buf[4096];
    while (auto n = std::fread(buf, 1, sizeof buf, p)) text.append(buf, n);
    int rc = ::pclose(p);
    if (out) *out = text;
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

const std::string kSupport = std::string(DMVLOG_SOURCE_DIR) + "/tests/e2e/support";

class DigestPipeline : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        SimOptions o;
        o.args = {"--scenario", scenarios_dir() + "/incident.toml", "--seed", "11", "--speed", "10"};
        o.control = true;
        sim_ = new SimProcess(o);
        dir_ = new TempDir();
        const auto scenario = json::parse(sim_->control(R"({"cmd":"scenario"})"));
        start_ = parse_timestamp(scenario.at("start").get<std::string>())->utc_ticks;
        db_ = dir_->file("dmvlog.db");
        std::string extra = config_extra();
        extra.replace(extra.find("{dir}"), 5, dir_->path().string());
        cfg_ = agent_config(*dir_, sim_->port(), db_, extra);
        auto setup = run_dmvlog({"xe", "setup", "--apply", "--set-threshold", std::to_string(kThreshold), "--config", cfg_});
        ASSERT_EQ(setup.exit_code, 0) << setup.output;
        {
            AgentProcess agent({"run", "--config", cfg_, "--time-scale", "10"});
            wait_for_offset(*sim_, 290, 90s);
            if (::testing::Test::HasFatalFailure()) return;
            sim_->control(R"({"cmd":"pause"})");
            std::this_thread::sleep_for(3s);   // the last runs read what is left
            ASSERT_EQ(agent.stop(), 0) << agent.output();
        }
        auto truth = json::parse(sim_->control(R"({"cmd":"truth","from":")" + iso(start_) + R"(","to":")" +
                                               iso(start_ + 600 * kTicksPerSecond) + "\"}"));
        ASSERT_TRUE(truth.at("ok").get<bool>()) << truth.dump();
        truth_ = new json(truth);
    }
    static void TearDownTestSuite() {
        delete truth_;
        delete dir_;
        delete sim_;
    }
    // dmvlog digest over [start + a, start + b) seconds of the scenario, as JSON.
    static json digest(int a, int b, const std::string& name) {
        auto out = dir_->file(name + ".json");
        auto r = run_dmvlog({"digest", "--store", "sqlite:" + db_, "--from", iso(start_ + a * kTicksPerSecond), "--to",
                             iso(start_ + b * kTicksPerSecond), "--format", "json", "--out", out});
        EXPECT_EQ(r.exit_code, 0) << r.output;
        std::string v;
        EXPECT_EQ(sh("python3 " + kSupport + "/validate_json.py " + DMVLOG_SOURCE_DIR + "/docs/digest.schema.json " + out, &v), 0)
            << name << ": " << v;
        return json::parse(slurp(out));
    }
    static const json& chain() {
        for (const auto& e : truth_->at("blocking"))
            if (e.at("head_blocker").at("login") == "etl_loader") return e;
        throw std::runtime_error("no chain in the truth");
    }

    void MatchesTheGroundTruth();
    void ASplitWindowCountsEachPartOnce();
    void AQuietWindowIsOneLine();
    void TextAndMarkdownCarryTheHeadline();
    void HtmlRendersInHeadlessChromium();
    void AFailedPostSetsExitStatusThreeAndKeepsTheFile();

    static SimProcess* sim_;
    static TempDir* dir_;
    static json* truth_;
    static std::int64_t start_;
    static std::string db_, cfg_;
};
SimProcess* DigestPipeline::sim_ = nullptr;
TempDir* DigestPipeline::dir_ = nullptr;
json* DigestPipeline::truth_ = nullptr;
std::int64_t DigestPipeline::start_ = 0;
std::string DigestPipeline::db_, DigestPipeline::cfg_;

void DigestPipeline::MatchesTheGroundTruth() {
    const auto& c = chain();
    auto j = digest(0, 600, "whole");
    ASSERT_EQ(j["instances"].size(), 1u) << j.dump(2).substr(0, 2000);
    const auto& x = j["instances"][0];
    EXPECT_EQ(x["threshold_s"], kThreshold);
    EXPECT_EQ(x["quiet"], false);
    EXPECT_EQ(x["headline"]["episodes"], truth_->at("blocking").size());
    EXPECT_EQ(x["headline"]["deadlocks"], truth_->at("deadlocks").size());
    EXPECT_EQ(x["headline"]["max_sessions_blocked"], c.at("sessions_blocked_max"));
    // Reports come every threshold seconds, so the end is seen up to one threshold early; the start is the
    // first report's time minus its wait (exact to the report's millisecond).
    const double truth_s = c.at("duration_s").get<double>();
    EXPECT_NEAR(x["headline"]["longest_episode_s"].get<double>(), truth_s, kThreshold + 1.0);
    EXPECT_NEAR(x["headline"]["max_wait_s"].get<double>(), c.at("max_wait_ms").get<double>() / 1000.0, kThreshold + 1.0);

    ASSERT_GE(x["head_blockers"].size(), 1u);
    const auto& h = x["head_blockers"][0];
    const auto& th = c.at("head_blocker");
    EXPECT_EQ(h["login"], th.at("login"));
    EXPECT_EQ(h["host"], th.at("host"));
    EXPECT_EQ(h["app"], th.at("app"));
    EXPECT_EQ(h["spid"], th.at("spid"));
    EXPECT_EQ(h["status"], "sleeping");
    // A sleeping head's report has no lasttranstarted: the age is a lower bound, at least the episode.
    EXPECT_EQ(h["open_transaction_at_least"], true);
    EXPECT_GE(h["open_transaction_s"].get<double>(), x["headline"]["longest_episode_s"].get<double>());
    EXPECT_NE(h["statement"].get<std::string>().find("UPDATE dbo.Orders SET Status = 3"), std::string::npos) << h.dump();

    ASSERT_EQ(x["episodes"].size(), 1u);
    const auto& e = x["episodes"][0];
    EXPECT_EQ(e["sessions_blocked"], c.at("blocked_spids").size());
    auto truth_start = parse_timestamp(c.at("start").get<std::string>())->utc_ticks;
    auto ep_start = parse_timestamp(e["start"].get<std::string>())->utc_ticks;
    EXPECT_LE(std::llabs(ep_start - truth_start), 2 * kTicksPerSecond) << e["start"] << " vs " << c.at("start");
    // Blocked session time: every blocked session's wait, at most its whole time in the chain.
    const double bss = x["headline"]["blocked_session_seconds"].get<double>();
    EXPECT_GT(bss, truth_s);
    EXPECT_LE(bss, truth_s * static_cast<double>(c.at("blocked_spids").size()));

    ASSERT_EQ(x["deadlocks"].size(), truth_->at("deadlocks").size());
    std::vector<long long> victims;
    for (const auto& v : truth_->at("deadlocks")[0].at("victims")) victims.push_back(v.get<long long>());
    EXPECT_EQ(x["deadlocks"][0]["victims"].get<std::vector<long long>>(), victims);
    EXPECT_FALSE(x["top_cpu"].empty()) << "context: plan-cache deltas of the window";
    EXPECT_FALSE(x["top_waits"].empty()) << "context: wait deltas of the window";
}

void DigestPipeline::ASplitWindowCountsEachPartOnce() {
    auto whole = digest(0, 600, "whole2")["instances"][0]["headline"];
    auto a = digest(0, 150, "first")["instances"][0];
    auto b = digest(150, 600, "second")["instances"][0];
    EXPECT_EQ(a["headline"]["episodes"], 1);
    EXPECT_EQ(b["headline"]["episodes"], 1);
    EXPECT_NEAR(a["headline"]["blocked_session_seconds"].get<double>() + b["headline"]["blocked_session_seconds"].get<double>(),
                whole["blocked_session_seconds"].get<double>(), 0.01);
    EXPECT_NEAR(a["headline"]["longest_episode_s"].get<double>() + b["headline"]["longest_episode_s"].get<double>(),
                whole["longest_episode_s"].get<double>(), 0.01);
    EXPECT_EQ(a["episodes"][0]["continues_after_window"], true);
    EXPECT_EQ(b["episodes"][0]["began_before_window"], true);
    EXPECT_EQ(b["previous"]["covered"], false) << "the store starts inside the previous window";
}

void DigestPipeline::AQuietWindowIsOneLine() {
    auto r = run_dmvlog({"digest", "--store", "sqlite:" + db_, "--from", iso(start_ + 250 * kTicksPerSecond), "--to",
                         iso(start_ + 280 * kTicksPerSecond)});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_NE(r.output.find("no blocking and no deadlocks in"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("(blocked process threshold 5 s)"), std::string::npos) << r.output;
}

void DigestPipeline::TextAndMarkdownCarryTheHeadline() {
    auto t = run_dmvlog({"digest", "--store", "sqlite:" + db_, "--from", iso(start_), "--to", iso(start_ + 600 * kTicksPerSecond)});
    ASSERT_EQ(t.exit_code, 0) << t.output;
    EXPECT_NE(t.output.find("Blocking episodes: 1"), std::string::npos) << t.output;
    EXPECT_NE(t.output.find("Worst moment: 20 sessions blocked"), std::string::npos) << t.output;
    EXPECT_NE(t.output.find("etl_loader"), std::string::npos);
    auto m = run_dmvlog({"digest", "--store", "sqlite:" + db_, "--from", iso(start_), "--to", iso(start_ + 600 * kTicksPerSecond),
                         "--format", "markdown"});
    ASSERT_EQ(m.exit_code, 0) << m.output;
    EXPECT_NE(m.output.find("### Head blockers"), std::string::npos) << m.output;
}

void DigestPipeline::HtmlRendersInHeadlessChromium() {
    const std::string chromium = "/usr/bin/chromium";
    if (!std::filesystem::exists(chromium)) {
        std::printf("[ SKIPPED  ] HTML rendering: no %s (dev/setup installs Debian's chromium)\n", chromium.c_str());
        return;
    }
    // --deliver: the configuration's [digest] says html into {dir}/digest-{from}.html.
    auto r = run_dmvlog({"digest", "--config", cfg_, "--deliver", "--from", iso(start_), "--to", iso(start_ + 600 * kTicksPerSecond)});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::string html_path;
    for (const auto& f : std::filesystem::directory_iterator(dir_->path()))
        if (f.path().filename().string().rfind("digest-", 0) == 0 && f.path().extension() == ".html") html_path = f.path().string();
    ASSERT_FALSE(html_path.empty()) << r.output;
    const std::string flags = " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
                              " --disable-component-update --disable-sync --hide-scrollbars --user-data-dir=" +
                              dir_->file("chromium") + " --window-size=412,1400";
    const std::string png = dir_->file("digest.png");
    std::string out;
    ASSERT_EQ(sh("timeout 90 " + chromium + flags + " --screenshot=" + png + " file://" + html_path, &out), 0) << out;
    ASSERT_TRUE(std::filesystem::exists(png)) << out;
    std::string stats_text;
    ASSERT_EQ(sh("python3 " + kSupport + "/png_stats.py " + png, &stats_text), 0) << stats_text;
    auto stats = json::parse(stats_text);
    EXPECT_EQ(stats["width"], 412);
    EXPECT_GT(stats["colors"].get<int>(), 50) << "text, cards and charts give many colours: " << stats_text;
    EXPECT_GT(stats["non_white"].get<double>(), 0.05) << "a blank page is white: " << stats_text;
    if (const char* keep = std::getenv("DMVLOG_DIGEST_SCREENSHOT")) std::filesystem::copy_file(png, keep, std::filesystem::copy_options::overwrite_existing);

    // The page as Chromium built it: the key numbers are in it.
    std::string dom;
    ASSERT_EQ(sh("timeout 90 " + chromium + flags + " --dump-dom file://" + html_path + " 2>/dev/null", &dom), 0) << dom.substr(0, 2000);
    const auto& c = chain();
    for (const std::string& needle :
         {std::string("<svg id=\"timeline\""), std::string("etl_loader"), std::string("Nightly Loader"),
          "<div class=\"v\">" + std::to_string(c.at("sessions_blocked_max").get<int>()) + "</div>",
          std::string("<div class=\"card bad\" id=\"deadlocks\"><div class=\"v\">1</div>"), std::string("<div class=\"v\">5 s</div>")})
        EXPECT_NE(dom.find(needle), std::string::npos) << needle;
}

void DigestPipeline::AFailedPostSetsExitStatusThreeAndKeepsTheFile() {
    auto out = dir_->file("posted.json");
    auto r = run_dmvlog({"digest", "--config", cfg_, "--store", "sqlite:" + db_, "--from", iso(start_), "--to",
                         iso(start_ + 600 * kTicksPerSecond), "--format", "json", "--out", out, "--post", "http://127.0.0.1:9/hook"});
    EXPECT_EQ(r.exit_code, 3) << r.output;
    EXPECT_NE(r.output.find("posting to the webhook failed after 1 attempt"), std::string::npos) << r.output;
    EXPECT_TRUE(std::filesystem::exists(out));
}

// One test: the pipeline runs once (about 35 s), and every part is checked against it.
TEST_F(DigestPipeline, IncidentThroughTheWholePipeline) {
    {
        SCOPED_TRACE("MatchesTheGroundTruth");
        MatchesTheGroundTruth();
    }
    {
        SCOPED_TRACE("ASplitWindowCountsEachPartOnce");
        ASplitWindowCountsEachPartOnce();
    }
    {
        SCOPED_TRACE("AQuietWindowIsOneLine");
        AQuietWindowIsOneLine();
    }
    {
        SCOPED_TRACE("TextAndMarkdownCarryTheHeadline");
        TextAndMarkdownCarryTheHeadline();
    }
    {
        SCOPED_TRACE("HtmlRendersInHeadlessChromium");
        HtmlRendersInHeadlessChromium();
    }
    {
        SCOPED_TRACE("AFailedPostSetsExitStatusThreeAndKeepsTheFile");
        AFailedPostSetsExitStatusThreeAndKeepsTheFile();
    }
}

}  // namespace
}  // namespace dmvlog::test
