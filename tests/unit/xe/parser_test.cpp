#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "agent/cli/cli.h"
#include "agent/core/time_format.h"
#include "agent/xe/envelope.h"
#include "agent/xe/json.h"

namespace dmvlog::xe {
namespace {

const std::string kBpr =
    R"~(<blocked-process-report monitorLoop="12"><blocked-process><process id="p1" spid="60" ecid="0" status="suspended" )~"
    R"~(waitresource="KEY: 7:1 (aa)" waittime="5000" lockMode="S" clientapp="a &amp; b" loginname="CORP\田中" currentdb="7" xyz="kept">)~"
    R"~(<executionStack><frame line="2" stmtstart="10" stmtend="-1" sqlhandle="0x01" queryhash="0x02" queryplanhash="0x03"/></executionStack>)~"
    R"~(<inputbuf>
  SELECT '&lt;&amp;&quot;'  ,
     1   </inputbuf></process></blocked-process><blocking-process><process status="sleeping" spid="54" ecid="0">)~"
    R"~(<executionStack/><inputbuf>BEGIN TRAN</inputbuf></process></blocking-process></blocked-process-report>)~";

TEST(XeParse, BareBlockedProcessReport) {
    Event e = parse_event(kBpr);
    ASSERT_TRUE(e.ok()) << e.error->describe();
    EXPECT_EQ(e.type, EventType::blocked_process_report);
    EXPECT_FALSE(e.timestamp);
    const auto* r = e.blocked_process_report();
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->monitor_loop, 12);
    EXPECT_EQ(r->blocked.spid, 60);
    EXPECT_EQ(r->blocked.client_app, "a & b");
    EXPECT_EQ(r->blocked.login_name, "CORP\\田中");
    EXPECT_EQ(r->blocked.input_buffer, "SELECT '<&\"'  ,\n     1");  // trimmed at the ends only
    ASSERT_EQ(r->blocked.frames.size(), 1u);
    EXPECT_EQ(r->blocked.frames[0].stmt_end, -1);
    EXPECT_EQ(r->blocked.frames[0].query_hash, "0x02");
    EXPECT_EQ(r->blocked.frames[0].query_plan_hash, "0x03");
    ASSERT_NE(r->blocked.attribute("xyz"), nullptr);
    EXPECT_EQ(*r->blocked.attribute("xyz"), "kept");
    EXPECT_EQ(r->blocked.attributes.size(), 11u);
    EXPECT_TRUE(r->blocked.waiting());
    EXPECT_FALSE(r->blocking.waiting());
    EXPECT_TRUE(r->head_blocker());
    EXPECT_TRUE(e.raw_xml.empty());
}

TEST(XeParse, HeadBlockerRule) {
    std::string chained = kBpr;
    chained.replace(chained.find(R"~(<process status="sleeping")~"), 26,
                    R"~(<process status="suspended" waitresource="PAGE: 7:1:9")~");
    Event e = parse_event(chained);
    ASSERT_TRUE(e.ok());
    EXPECT_FALSE(e.blocked_process_report()->head_blocker());  // the blocker itself waits: a chain link
    std::string blank = kBpr;
    blank.replace(blank.find(R"~(<process status="sleeping")~"), 26, R"~(<process status="running" waitresource=" ")~");
    EXPECT_TRUE(parse_event(blank).blocked_process_report()->head_blocker());
}

TEST(XeParse, EnvelopeFields) {
    std::string ev = R"~(<event name="blocked_process_report" package="sqlserver" timestamp="2026-11-23T10:00:05.1234567Z">)~"
                     R"~(<data name="duration"><value>5000000</value></data><data name="lock_mode"><value>3</value><text>S</text></data>)~"
                     R"~(<data name="blocked_process"><value>)~" + kBpr + R"~(</value></data>)~"
                     R"~(<action name="session_id" package="sqlserver"><value>60</value></action></event>)~";
    Event e = parse_event(ev);
    ASSERT_TRUE(e.ok());
    ASSERT_TRUE(e.timestamp);
    EXPECT_EQ(format_event_time(*e.timestamp), "2026-11-23T10:00:05.1234567Z");
    EXPECT_EQ(e.blocked_process_report()->duration_us, 5000000);
    EXPECT_EQ(e.blocked_process_report()->lock_mode, "S");
    EXPECT_EQ(e.data.at("lock_mode").value, "3");
    EXPECT_EQ(e.actions.at("session_id").value, "60");
    EXPECT_EQ(e.data.count("blocked_process"), 0u);
}

TEST(XeParse, EventTimeFormat) {
    auto t = parse_timestamp("2026-11-23T10:00:05.123Z");
    ASSERT_TRUE(t);
    EXPECT_EQ(format_event_time(*t), "2026-11-23T10:00:05.123Z");
    EXPECT_EQ(format_event_time(*parse_timestamp("2026-11-23T10:00:05Z")), "2026-11-23T10:00:05.000Z");
}

TEST(XeParse, MalformedNeverThrows) {
    for (std::string bad : {std::string(), std::string("garbage"), std::string("<"), std::string("<event"),
                            std::string("<event name=\"xml_deadlock_report\">"), std::string("<deadlock><x></deadlock>"),
                            std::string("<blocked-process-report/>"), std::string("\xFF\xFE<"),
                            std::string("<event name=\"wait_info\"/>"), std::string("<foo/>")}) {
        SCOPED_TRACE(bad);
        Event e;
        EXPECT_NO_THROW(e = parse_event(bad));
        EXPECT_TRUE(e.error);
        EXPECT_EQ(e.raw_xml, bad);
        EXPECT_NO_THROW((void)to_json_line(e));
        EXPECT_NO_THROW((void)to_table_line(e));
    }
}

TEST(XeParse, ErrorSaysWhatAndWhere) {
    std::string cut = kBpr.substr(0, 300);
    Event e = parse_event(cut);
    ASSERT_TRUE(e.error);
    EXPECT_FALSE(e.error->what.empty());
    EXPECT_LE(e.error->offset, cut.size());
    EXPECT_EQ(e.raw_xml, cut);
    EXPECT_EQ(e.type, EventType::blocked_process_report);
    EXPECT_EQ(e.blocked_process_report()->blocked.spid, 60);  // what was read before the error is kept
    auto j = to_json(e);
    EXPECT_TRUE(j["parse_error"].is_string());
    EXPECT_FALSE(j["head_blocker"].get<bool>());
}

TEST(XeReader, SkipsOtherEventsAndCounts) {
    std::string text = R"~(<event name="wait_info"><data name="x"><value>1</value></data></event>)~" + kBpr +
                       R"~(<event name="error_reported"/>)~" + kBpr.substr(0, 100);
    EventReader r(text);
    Event e;
    int n = 0;
    while (r.next(e)) ++n;
    EXPECT_EQ(n, 2);
    EXPECT_EQ(r.stats().events, 2u);
    EXPECT_EQ(r.stats().parse_errors, 1u);
    EXPECT_EQ(r.stats().skipped, 2u);
}

TEST(XeReader, InputOffsets) {
    std::string text = "  \n" + kBpr + "\n" + kBpr;
    auto all = parse_all(text);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].input_offset, 3u);
    EXPECT_EQ(all[1].input_offset, 4u + kBpr.size());
}

TEST(XeReader, OversizedEventIsCutAndReported) {
    ParseOptions o;
    o.max_event_bytes = 200;
    auto all = parse_all(kBpr + kBpr, o);
    ASSERT_FALSE(all.empty());
    ASSERT_TRUE(all[0].error);
    EXPECT_NE(all[0].error->what.find("larger than 200"), std::string::npos);
}

// Regression (found by the fuzzer): an event cut by the end of a streamed input, with text after its last
// tag, was returned from a stale window position.
TEST(XeReader, StreamedCutEventAtEndOfInput) {
    for (std::string text : {kBpr + "<event name=\"xml_deadlock_report\">text after the last tag",
                             std::string("<event nock&gt;<event nock&gt;cccccccccc/a\xBEt>")}) {
        std::string want;
        for (const auto& e : parse_all(text)) want += to_json_line(e) + "\n";
        ASSERT_FALSE(want.empty());
        for (std::size_t chunk : {1u, 3u, 16u, 1u << 20}) {
            std::istringstream in(text);
            ParseOptions o;
            o.read_chunk_bytes = chunk;
            EventReader r(in, o);
            Event e;
            std::string got;
            while (r.next(e)) got += to_json_line(e) + "\n";
            EXPECT_EQ(got, want) << "chunk " << chunk;
        }
    }
}

TEST(XeReader, KeepRaw) {
    ParseOptions o;
    o.keep_raw = true;
    auto all = parse_all(kBpr, o);
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].raw_xml, kBpr);
}

TEST(XeReader, DeadlockListWithTwoDeadlocks) {
    std::string d = R"~(<deadlock-list><deadlock victim="a"><process-list><process id="a" spid="1"/><process id="b" spid="2"/></process-list></deadlock>)~"
                    R"~(<deadlock><victim-list><victimProcess id="c"/></victim-list><process-list><process id="c" spid="3"/></process-list></deadlock></deadlock-list>)~";
    auto all = parse_all(d);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].deadlock_report()->victims, std::vector<std::string>{"a"});
    EXPECT_EQ(all[1].deadlock_report()->victims, std::vector<std::string>{"c"});
}

// A small deterministic fuzz: mutations of the corpus never throw, never crash.
TEST(XeReader, MutationsNeverThrow) {
    namespace fs = std::filesystem;
    std::mt19937 rng(12345);
    for (const auto& entry : fs::directory_iterator(fs::path(DMVLOG_SOURCE_DIR) / "tests/xe/corpus")) {
        if (entry.path().extension() != ".xml") continue;
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string base = ss.str();
        for (int i = 0; i < 200; ++i) {
            std::string s = base;
            int edits = 1 + static_cast<int>(rng() % 8);
            for (int k = 0; k < edits && !s.empty(); ++k) {
                std::size_t at = rng() % s.size();
                switch (rng() % 4) {
                    case 0: s[at] = "<>/\"'&=x\xE3\0"[rng() % 11]; break;
                    case 1: s.erase(at, rng() % 40); break;
                    case 2: s.insert(at, s.substr(rng() % s.size(), rng() % 60)); break;
                    case 3: s.resize(at); break;
                }
            }
            EXPECT_NO_THROW({
                EventReader r(s);
                Event e;
                while (r.next(e)) (void)to_json_line(e);
                (void)parse_event(s);
            });
        }
    }
}

TEST(XeCli, ExitStatus) {
    namespace fs = std::filesystem;
    const std::string corpus = std::string(DMVLOG_SOURCE_DIR) + "/tests/xe/corpus/";
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    int ok = cli::cmd_xe({"parse", corpus + "ring_buffer.xml", "--format", "table"});
    int bad = cli::cmd_xe({"parse", corpus + "truncated.xml"});
    int missing = cli::cmd_xe({"parse", corpus + "no-such-file.xml"});
    int fmt = cli::cmd_xe({"parse", "--format", "yaml", corpus + "ring_buffer.xml"});
    int none = cli::cmd_xe({"parse"});
    int setup = cli::cmd_xe({"setup", "--no-such-option"});
    int help = cli::cmd_xe({"--help"});
    std::string out = testing::internal::GetCapturedStdout();
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(ok, 0);
    EXPECT_EQ(bad, 1);
    EXPECT_EQ(missing, 2);
    EXPECT_EQ(fmt, 2);
    EXPECT_EQ(none, 2);
    EXPECT_EQ(setup, 2);
    EXPECT_EQ(help, 0);
    EXPECT_NE(err.find("no-such-file.xml"), std::string::npos);
    EXPECT_NE(err.find("unknown argument '--no-such-option'"), std::string::npos);
    EXPECT_NE(out.find("3 event(s)"), std::string::npos);
}

}  // namespace
}  // namespace dmvlog::xe
