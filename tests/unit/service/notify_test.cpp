// sd_notify messages: the state line, then STATUS= when there is one.
#include "agent/service/notify.h"

#include <gtest/gtest.h>

namespace dmvlog::service {
namespace {

TEST(Notify, MessagePutsTheStateFirstAndStatusAfter) {
    EXPECT_EQ(Notifier::message("READY=1", "3 collectors"), "READY=1\nSTATUS=3 collectors");
    EXPECT_EQ(Notifier::message("STOPPING=1", ""), "STOPPING=1");
    EXPECT_EQ(Notifier::message("", "5 runs"), "STATUS=5 runs");
}

TEST(Notify, WithoutNotifySocketNothingIsEnabled) {
    const char* saved = std::getenv("NOTIFY_SOCKET");
    const std::string keep = saved ? saved : "";
    unsetenv("NOTIFY_SOCKET");
    Notifier n;
    EXPECT_FALSE(n.enabled());
    n.ready("x");  // a no-op, and must not fail
    if (saved) setenv("NOTIFY_SOCKET", keep.c_str(), 1);
}

}  // namespace
}  // namespace dmvlog::service
