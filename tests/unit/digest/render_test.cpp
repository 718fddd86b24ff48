// The digest's renderings: text and Markdown carry the numbers, a quiet window is one line, HTML is one
// self-contained file (nothing fetched), JSON carries everything and escapes nothing away.
#include <nlohmann/json.hpp>
#include <regex>

#include "agent/digest/format.h"
#include "fixture.h"

namespace dmvlog::digest::testing {
namespace {

class Rendered : public DigestFixture {
protected:
    void SetUp() override {
        DigestFixture::SetUp();
        threshold(5);
        std::vector<std::string> ev;
        Bpr a;
        a.blocked_sql = "UPDATE dbo.受注 SET 状態 = 2 WHERE Note &lt;&gt; N'a&amp;b' -- &lt;script&gt;";
        wait_reports(ev, a, "2026-11-23 10:00:00", "2026-11-23 10:02:00");
        ev.push_back(deadlock_xml("2026-11-23 10:30:00"));
        write_events(ev);
        d = digest("2026-11-23 10:00:00", "2026-11-23 11:00:00");
    }
    Digest d;
    query::Zone utc;
};

TEST_F(Rendered, TextHasTheHeadlineAndTheLists) {
    auto text = render_text(d, utc, false);
    EXPECT_NE(text.find("Blocking digest — 2026-11-23 10:00–11:00 UTC"), std::string::npos) << text;
    EXPECT_NE(text.find("Blocking episodes: 1"), std::string::npos) << text;
    EXPECT_NE(text.find("Blocked session time: 2m 00s (120 session-seconds)"), std::string::npos) << text;
    EXPECT_NE(text.find("Worst moment: 1 session blocked at 2026-11-23 10:00:00"), std::string::npos) << text;
    EXPECT_NE(text.find("Deadlocks: 1"), std::string::npos) << text;
    EXPECT_NE(text.find("etl_loader"), std::string::npos);
    EXPECT_NE(text.find("UPDATE dbo.受注 SET 状態 = 2"), std::string::npos) << text;
    EXPECT_NE(text.find("Deadlocks\n"), std::string::npos);
    EXPECT_NE(text.find("victim"), std::string::npos);
}

TEST_F(Rendered, MarkdownTablesEscapePipes) {
    auto md = render_text(d, utc, true);
    EXPECT_NE(md.find("# Blocking digest — 2026-11-23 10:00–11:00 UTC"), std::string::npos) << md;
    EXPECT_NE(md.find("### Head blockers\n\n| login | host | app |"), std::string::npos) << md;
    EXPECT_NE(md.find("| ---: |"), std::string::npos);
    EXPECT_EQ(md.find("\n\n|  |"), std::string::npos);
}

TEST_F(Rendered, HtmlIsSelfContainedAndEscaped) {
    auto html = render_html(d, utc);
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_NE(html.find("<meta name=\"viewport\""), std::string::npos);
    EXPECT_NE(html.find("<svg id=\"timeline\""), std::string::npos);
    EXPECT_NE(html.find("<svg id=\"head-bars\""), std::string::npos);
    EXPECT_NE(html.find("class=\"episode\""), std::string::npos);
    for (const char* fetches : {"<script", "src=", "href=", "url(", "@import", "<link", "<img", "<iframe"})
        EXPECT_EQ(html.find(fetches), std::string::npos) << fetches;
    // The only URL is the SVG namespace name, which is never fetched.
    std::regex url(R"(https?://[^"]*)");
    for (auto it = std::sregex_iterator(html.begin(), html.end(), url); it != std::sregex_iterator(); ++it)
        EXPECT_EQ(it->str(), "http://www.w3.org/2000/svg");
    EXPECT_EQ(html.find("<script>"), std::string::npos);
    EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos) << "a statement's markup is shown, not run";
    EXPECT_NE(html.find("UPDATE dbo.受注 SET 状態 = 2"), std::string::npos);
    EXPECT_NE(html.find(">2m 00s<"), std::string::npos);
}

TEST_F(Rendered, JsonCarriesEverything) {
    auto j = nlohmann::json::parse(render_json(d, utc));
    EXPECT_EQ(j["schema"], "dmvlog-digest/1");
    EXPECT_EQ(j["window"]["from"], "2026-11-23T10:00:00Z");
    EXPECT_EQ(j["window"]["to"], "2026-11-23T11:00:00Z");
    EXPECT_EQ(j["window"]["time_zone"], "UTC");
    const auto& x = j["instances"][0];
    EXPECT_EQ(x["instance"], "prod1");
    EXPECT_EQ(x["quiet"], false);
    EXPECT_EQ(x["threshold_s"], 5);
    EXPECT_EQ(x["headline"]["episodes"], 1);
    EXPECT_DOUBLE_EQ(x["headline"]["blocked_session_seconds"].get<double>(), 120.0);
    EXPECT_EQ(x["headline"]["deadlocks"], 1);
    EXPECT_EQ(x["head_blockers"][0]["login"], "etl_loader");
    EXPECT_EQ(x["blocked_statements"][0]["statement"], "UPDATE dbo.受注 SET 状態 = 2 WHERE Note <> N'a&b' -- <script>");
    EXPECT_EQ(x["deadlocks"][0]["victims"][0], 58);
    EXPECT_EQ(x["timeline"]["max_sessions_blocked"].size(), 60u);
    EXPECT_DOUBLE_EQ(x["timeline"]["bucket_s"].get<double>(), 60.0);
    EXPECT_TRUE(x["change"]["blocked_session_seconds_pct"].is_null());   // nothing before: not covered
}

TEST_F(Rendered, SummaryIsOneParagraph) {
    auto s = summary_text(d, utc);
    EXPECT_EQ(s.find('\n'), std::string::npos);
    EXPECT_NE(s.find("prod1, 2026-11-23 10:00–11:00 UTC: 1 blocking episode, 2m 00s blocked session time"), std::string::npos) << s;
    EXPECT_NE(s.find("top head blocker etl_loader@BATCH01 (Nightly Loader)"), std::string::npos) << s;
    EXPECT_NE(s.find("1 deadlock"), std::string::npos) << s;
}

TEST(DigestFormat, Durations) {
    EXPECT_EQ(duration_text(0), "0s");
    EXPECT_EQ(duration_text(59.4), "59s");
    EXPECT_EQ(duration_text(61), "1m 01s");
    EXPECT_EQ(duration_text(3725), "1h 02m");
    EXPECT_EQ(change_text(120, 100, true), "+20% vs the previous window");
    EXPECT_EQ(change_text(50, 100, true), "-50% vs the previous window");
    EXPECT_EQ(change_text(5, 0, true), "new: none in the previous window");
    EXPECT_EQ(change_text(5, 0, false), "");
    EXPECT_EQ(one_line("  SELECT 1\n\tFROM  t  "), "SELECT 1 FROM t");
}

}  // namespace
}  // namespace dmvlog::digest::testing
