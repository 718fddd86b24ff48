// The journald check: $JOURNAL_STREAM names the device and inode of the stream systemd connected; only when
// stderr is still that stream does the agent log to the journal.
#include "agent/service/journal.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace dmvlog::service {
namespace {

struct TempFile {
    TempFile() : f(std::tmpfile()) {}
    ~TempFile() { std::fclose(f); }
    int fd() const { return fileno(f); }
    std::string dev_ino() const {
        struct stat st {};
        fstat(fd(), &st);
        return std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
               std::to_string(static_cast<unsigned long long>(st.st_ino));
    }
    std::FILE* f;
};

TEST(JournalStream, MatchesWhenTheFdIsTheNamedStream) {
    TempFile a;
    EXPECT_TRUE(is_journal_stream(a.dev_ino().c_str(), a.fd()));
}

TEST(JournalStream, DoesNotMatchAnotherStream) {
    TempFile a, b;
    EXPECT_FALSE(is_journal_stream(a.dev_ino().c_str(), b.fd())) << "stderr redirected elsewhere after systemd started us";
}

TEST(JournalStream, UnsetOrMalformedIsNotTheJournal) {
    TempFile a;
    const std::string good = a.dev_ino();
    EXPECT_FALSE(is_journal_stream(nullptr, a.fd()));
    EXPECT_FALSE(is_journal_stream("", a.fd()));
    EXPECT_FALSE(is_journal_stream(good.substr(0, good.find(':')).c_str(), a.fd()));   // no inode
    EXPECT_FALSE(is_journal_stream((":" + good.substr(good.find(':') + 1)).c_str(), a.fd()));  // no device
    EXPECT_FALSE(is_journal_stream((good + "x").c_str(), a.fd()));
    EXPECT_FALSE(is_journal_stream((good + ":1").c_str(), a.fd()));
    EXPECT_FALSE(is_journal_stream(good.c_str(), -1)) << "a closed stderr";
}

TEST(JournalStream, SetupLoggingChoosesTheJournalOnlyWhenStderrIsTheStream) {
    // stderr of the test binary is not a journal stream unless systemd runs it.
    struct stat st {};
    ASSERT_EQ(fstat(2, &st), 0);
    const std::string ours = std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
                             std::to_string(static_cast<unsigned long long>(st.st_ino));
    const char* saved = std::getenv("JOURNAL_STREAM");
    const std::string keep = saved ? saved : "";
    setenv("JOURNAL_STREAM", "1:1", 1);
    EXPECT_EQ(setup_logging("info"), "stderr");
    setenv("JOURNAL_STREAM", ours.c_str(), 1);
    EXPECT_EQ(setup_logging("debug"), "journal");
    EXPECT_EQ(spdlog::get_level(), spdlog::level::debug);
    if (saved) setenv("JOURNAL_STREAM", keep.c_str(), 1);
    else unsetenv("JOURNAL_STREAM");
    EXPECT_EQ(setup_logging("info"), saved && is_journal_stream(keep.c_str(), 2) ? "journal" : "stderr");
}

}  // namespace
}  // namespace dmvlog::service
