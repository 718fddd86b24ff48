// decide_source (agent/blocking/xe_sources.h): which XE collector reads, given the sessions on the server.
#include "agent/blocking/xe_sources.h"

#include <gtest/gtest.h>

namespace dmvlog::blocking {
namespace {

collect::CollectorDecl decl(const std::string& name, const std::string& kind, bool fallback, const std::string& session = "") {
    collect::CollectorDecl d;
    d.name = name;
    d.kind = kind;
    d.fallback = fallback;
    d.xe_session = session;
    return d;
}

const auto primary = decl("blocking_events", "xe_file", false);
const auto ring = decl("blocking_events_ring_buffer", "xe_ring_buffer", true);
const auto health = decl("deadlocks_system_health", "xe_file", true, "system_health");

TEST(XeSources, SessionNames) {
    config::Xe xe;
    EXPECT_EQ(session_of(primary, xe), "dmvlog_blocking");
    EXPECT_EQ(session_of(ring, xe), "blocked_process");
    EXPECT_EQ(session_of(health, xe), "system_health");
    xe.ring_buffer_session = "bpr_ring";
    EXPECT_EQ(session_of(ring, xe), "bpr_ring");
}

TEST(XeSources, DmvlogSessionRunning) {
    config::Xe xe;
    SessionStatus st{5, {"dmvlog_blocking", "system_health", "blocked_process"}, {"dmvlog_blocking", "system_health", "blocked_process"}};
    EXPECT_TRUE(decide_source(primary, xe, st).read);
    EXPECT_EQ(decide_source(primary, xe, st).note, "source: event files of session dmvlog_blocking");
    EXPECT_FALSE(decide_source(ring, xe, st).read);
    EXPECT_FALSE(decide_source(health, xe, st).read);
    EXPECT_EQ(decide_source(health, xe, st).note, "idle: session dmvlog_blocking is running and is the source");
}

TEST(XeSources, DmvlogSessionAbsent) {
    config::Xe xe;
    SessionStatus st{5, {"system_health", "blocked_process"}, {"system_health", "blocked_process"}};
    EXPECT_FALSE(decide_source(primary, xe, st).read);
    EXPECT_NE(decide_source(primary, xe, st).note.find("idle: session dmvlog_blocking does not exist"), std::string::npos);
    EXPECT_TRUE(decide_source(ring, xe, st).read);
    EXPECT_EQ(decide_source(ring, xe, st).note,
              "source: ring_buffer of session blocked_process (session dmvlog_blocking does not exist)");
    EXPECT_TRUE(decide_source(health, xe, st).read);
    // the ring buffer session is not running: nothing to read there
    st.running = {"system_health"};
    EXPECT_FALSE(decide_source(ring, xe, st).read);
    EXPECT_TRUE(decide_source(health, xe, st).read);
}

TEST(XeSources, DmvlogSessionStoppedReadsItsFilesAndTheFallbacks) {
    config::Xe xe;
    SessionStatus st{5, {"dmvlog_blocking", "system_health", "blocked_process"}, {"system_health", "blocked_process"}};
    EXPECT_TRUE(decide_source(primary, xe, st).read);
    EXPECT_TRUE(decide_source(ring, xe, st).read);
    EXPECT_TRUE(decide_source(health, xe, st).read);
    EXPECT_NE(decide_source(health, xe, st).note.find("session dmvlog_blocking is stopped"), std::string::npos);
}

TEST(XeSources, StatusFromXeStatusResultSets) {
    std::vector<odbc::ResultSet> sets(3);
    sets[0].rows.push_back({Value(std::int64_t{10})});
    sets[1].rows.push_back({Value(std::string("dmvlog_blocking"))});
    sets[2].rows.push_back({Value(std::string("system_health"))});
    auto st = session_status_from(sets);
    EXPECT_EQ(st.threshold_s, 10);
    EXPECT_TRUE(st.is_defined("dmvlog_blocking"));
    EXPECT_FALSE(st.is_running("dmvlog_blocking"));
    EXPECT_TRUE(st.is_defined("system_health"));  // running implies defined
}

}  // namespace
}  // namespace dmvlog::blocking
