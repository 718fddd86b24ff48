#include "agent/store/spool.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/core/crc32.h"

namespace dmvlog::store {
namespace {

namespace fs = std::filesystem;

class SpoolTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("dmvlog_spool_test_" + std::to_string(::getpid()) + "_" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir);
    }
    void TearDown() override { fs::remove_all(dir); }

    Spool::Options options(std::uint64_t max_bytes = Spool::kDefaultMaxBytes, std::uint64_t segment_bytes = 0) const {
        Spool::Options o;
        o.dir = dir;
        o.max_bytes = max_bytes;
        o.segment_bytes = segment_bytes;
        return o;
    }

    // A snapshot with every kind of value, told apart by n (its collected_at and first value).
    static SpoolRecord record(int n, std::size_t padding = 0) {
        Snapshot s;
        s.instance = "prod1";
        s.collector = "requests_5s";
        s.table = "requests_5s";
        s.collected_at = Timestamp{1'700'000'000'0000000LL + n, 0, false};
        s.utc_offset_minutes = -300;
        s.sqlserver_start_time = Timestamp{1'600'000'000'0000000LL, 60, true};
        s.rows.push_back({Value{std::int64_t{n}}, Value{2.5}, Value{std::string("LCK_M_X") + std::string(padding, 'x')},
                          Value{Bytes{0x00, 0xff, 0x10}}, Value{Timestamp{42, -120, true}}, Value{Decimal{"-12.345"}},
                          Value{}});
        s.rows.push_back({Value{std::int64_t{-1}}, Value{}, Value{std::string()}, Value{Bytes{}}, Value{}, Value{}, Value{}});
        s.texts.push_back({text_hash("SELECT 1"), "SELECT 1"});
        RunRecord r{"prod1", "requests_5s", s.collected_at, 12.5, 2, 300, "ok", "", ""};
        return SpoolRecord{std::move(s), std::move(r)};
    }
    static SpoolRecord run_only(int n) {
        return SpoolRecord{std::nullopt,
                           RunRecord{"prod1", "wait_stats", Timestamp{n, 0, false}, 3.0, 0, 0, "failed", "timeout", "query timed out"}};
    }
    static int number(const SpoolRecord& r) { return static_cast<int>(std::get<std::int64_t>(r.snapshot->rows[0][0])); }

    std::vector<fs::path> segments() const {
        std::vector<fs::path> out;
        for (const auto& e : fs::directory_iterator(dir))
            if (e.path().extension() == ".seg") out.push_back(e.path());
        std::sort(out.begin(), out.end());
        return out;
    }
    // Drains the spool, acknowledging each record; returns their numbers (-1 for a run record alone).
    static std::vector<int> drain(Spool& spool) {
        std::vector<int> out;
        while (auto r = spool.front()) {
            out.push_back(r->snapshot ? number(*r) : -1);
            spool.pop();
        }
        return out;
    }
    static void overwrite(const fs::path& file, std::uint64_t offset, const std::string& bytes) {
        std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(offset));
        f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    static std::uint64_t record_size(int n) { return Spool::kHeaderBytes + encode_spool_record(record(n)).size(); }

    fs::path dir;
};

TEST(Crc32, KnownValue) {
    EXPECT_EQ(crc32("123456789", 9), 0xCBF43926u);
    EXPECT_EQ(crc32("", 0), 0u);
}

TEST_F(SpoolTest, RecordRoundTripKeepsEveryValue) {
    auto r = record(7);
    EXPECT_EQ(decode_spool_record(encode_spool_record(r)), r);
    auto run = run_only(3);
    EXPECT_EQ(decode_spool_record(encode_spool_record(run)), run);
    EXPECT_THROW(decode_spool_record(encode_spool_record(r).substr(0, 20)), SpoolFormatError);
    EXPECT_THROW(decode_spool_record(std::string("\x09", 1)), SpoolFormatError);
}

TEST_F(SpoolTest, APartKeepsItsOffsetAndAWholeSnapshotKeepsTheEarlierLayout) {
    auto whole = record(7);
    const auto whole_bytes = encode_spool_record(whole);
    auto part = record(7);
    part.snapshot->part_offset = 2000;
    part.run = RunRecord{};   // a part before the last carries no run
    const auto part_bytes = encode_spool_record(part);
    EXPECT_EQ(whole_bytes[0], '\x01') << "a whole snapshot is written as before parts existed";
    EXPECT_EQ(part_bytes[0], '\x03');
    auto back = decode_spool_record(part_bytes);
    EXPECT_EQ(back.snapshot->part_offset, 2000);
    EXPECT_EQ(back, part);
    EXPECT_FALSE(decode_spool_record(whole_bytes) == back) << "the offset is part of what a record holds";
    // An offset that is not positive does not come from an encoder.
    auto bad = part_bytes;
    const auto at = bad.find(std::string("\xd0\x07\0\0\0\0\0\0", 8));
    ASSERT_NE(at, std::string::npos);
    bad.replace(at, 8, std::string(8, '\0'));
    EXPECT_THROW(decode_spool_record(bad), SpoolFormatError);
}

TEST_F(SpoolTest, RecordsComeBackInOrderAcrossReopen) {
    {
        Spool spool(options());
        EXPECT_TRUE(spool.empty());
        for (int i = 0; i < 5; ++i) spool.append(record(i));
        spool.append(run_only(5));
        EXPECT_EQ(spool.stats().records, 6u);
        auto first = spool.front();
        ASSERT_TRUE(first);
        EXPECT_EQ(*first, record(0));
        spool.pop();
        EXPECT_EQ(spool.stats().records, 5u);
        EXPECT_GT(spool.stats().bytes, 0u);
    }
    // A reopen (the agent restarted) starts after the acknowledged record.
    Spool spool(options());
    EXPECT_EQ(spool.stats().records, 5u);
    EXPECT_EQ(spool.stats().corrupt, 0u);
    EXPECT_EQ(drain(spool), (std::vector<int>{1, 2, 3, 4, -1}));
    EXPECT_TRUE(spool.empty());
    EXPECT_EQ(spool.stats().bytes, 0u) << "an empty spool keeps no segment";
    EXPECT_TRUE(segments().empty());
}

TEST_F(SpoolTest, ManySegmentsKeepTheirOrder) {
    Spool spool(options(1 << 20, 64 << 10));
    for (int i = 0; i < 300; ++i) spool.append(record(i, 600));
    EXPECT_GT(segments().size(), 2u);
    std::vector<int> expected(300);
    for (int i = 0; i < 300; ++i) expected[static_cast<std::size_t>(i)] = i;
    // Interleaved appends while draining keep the order too.
    auto got = drain(spool);
    EXPECT_EQ(got, expected);
    spool.append(record(300));
    EXPECT_EQ(drain(spool), std::vector<int>{300});
}

TEST_F(SpoolTest, ASecondProcessCannotOpenTheSameSpool) {
    Spool spool(options());
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        try {
            Spool second(options());
        } catch (const SpoolError&) {
            ::_exit(7);
        }
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 7) << "a second process opened a spool in use";
}

TEST_F(SpoolTest, TornTailIsCutOffAndTheGoodPrefixKept) {
    std::uint64_t full = 0;
    {
        Spool spool(options());
        for (int i = 0; i < 4; ++i) spool.append(record(i));
        full = spool.stats().bytes;
    }
    auto seg = segments().at(0);
    fs::resize_file(seg, full - 10);   // the last record's write was torn
    Spool spool(options());
    EXPECT_EQ(spool.stats().records, 3u);
    EXPECT_EQ(spool.stats().corrupt, 1u);
    EXPECT_EQ(fs::file_size(seg), 3 * record_size(0));
    EXPECT_TRUE(fs::exists(seg.string() + ".bad"));
    EXPECT_EQ(fs::file_size(seg.string() + ".bad"), record_size(0) - 10);
    spool.append(record(9));
    EXPECT_EQ(drain(spool), (std::vector<int>{0, 1, 2, 9}));
}

TEST_F(SpoolTest, TruncatedHeaderAtTheTailIsCutOff) {
    {
        Spool spool(options());
        for (int i = 0; i < 2; ++i) spool.append(record(i));
    }
    auto seg = segments().at(0);
    {
        std::ofstream out(seg, std::ios::binary | std::ios::app);
        out.write("DMVS\x01\x00", 6);   // half a header
    }
    Spool spool(options());
    EXPECT_EQ(spool.stats().records, 2u);
    EXPECT_EQ(spool.stats().corrupt, 1u);
    EXPECT_EQ(fs::file_size(seg), 2 * record_size(0));
    EXPECT_EQ(drain(spool), (std::vector<int>{0, 1}));
}

TEST_F(SpoolTest, CorruptRecordMidFileIsSkippedAndTheRestKept) {
    {
        Spool spool(options());
        for (int i = 0; i < 5; ++i) spool.append(record(i));
    }
    auto seg = segments().at(0);
    overwrite(seg, 2 * record_size(0) + Spool::kHeaderBytes + 5, "garbage");   // payload of record 2: CRC fails
    overwrite(seg, 3 * record_size(0), "XXXX");                                // magic of record 3
    Spool spool(options());
    EXPECT_EQ(spool.stats().records, 3u);
    EXPECT_EQ(spool.stats().corrupt, 1u) << "two adjacent bad records are one bad region";
    EXPECT_EQ(drain(spool), (std::vector<int>{0, 1, 4}));
}

TEST_F(SpoolTest, CorruptionFoundWhileReadingDropsThatRecordOnly) {
    Spool spool(options());
    for (int i = 0; i < 3; ++i) spool.append(record(i));
    overwrite(segments().at(0), record_size(0) + Spool::kHeaderBytes + 3, "zz");
    EXPECT_EQ(drain(spool), (std::vector<int>{0, 2}));
    EXPECT_EQ(spool.stats().corrupt, 1u);
}

TEST_F(SpoolTest, TheCapEvictsTheOldestSegmentAndCountsItsRecords) {
    // 64 KiB segments, a 256 KiB cap: records of ~1 KiB, so about 250 fit.
    Spool spool(options(256 << 10, 64 << 10));
    for (int i = 0; i < 400; ++i) spool.append(record(i, 900));
    auto st = spool.stats();
    EXPECT_LE(st.bytes, 256u << 10);
    EXPECT_GT(st.evicted, 0u);
    EXPECT_EQ(st.records + st.evicted, 400u) << "every record is either waiting or counted as evicted";
    auto got = drain(spool);
    ASSERT_EQ(got.size(), st.records);
    // The newest survive, in order.
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], static_cast<int>(st.evicted + i));
}

TEST_F(SpoolTest, ARecordLargerThanTheCapIsRefused) {
    Spool spool(options(64 << 10, 64 << 10));
    EXPECT_THROW(spool.append(record(1, 100 << 10)), SpoolError);
    EXPECT_TRUE(spool.empty());
    spool.append(record(2));
    EXPECT_EQ(drain(spool), std::vector<int>{2});
}

TEST_F(SpoolTest, ReopenAfterACrashReplaysNothingAcknowledged) {
    const fs::path crashed = dir.string() + ".crashed";
    fs::remove_all(crashed);
    {
        Spool spool(options(1 << 20, 64 << 10));
        for (int i = 0; i < 200; ++i) spool.append(record(i, 600));
        for (int i = 0; i < 150; ++i) {
            ASSERT_TRUE(spool.front());
            spool.pop();
        }
        fs::copy(dir, crashed);   // the files as a kill -9 leaves them: no destructor ran
    }
    Spool::Options o = options(1 << 20, 64 << 10);
    o.dir = crashed;
    Spool spool(o);
    EXPECT_EQ(spool.stats().records, 50u);
    auto got = drain(spool);
    fs::remove_all(crashed);
    ASSERT_EQ(got.size(), 50u);
    EXPECT_EQ(got.front(), 150);
    EXPECT_EQ(got.back(), 199);
}

TEST_F(SpoolTest, ADamagedHeadReplaysEverythingStillThere) {
    {
        Spool spool(options());
        for (int i = 0; i < 3; ++i) spool.append(record(i));
        spool.front();
        spool.pop();
    }
    overwrite(dir / "head", 8, "\x01\x02");
    Spool spool(options());
    EXPECT_EQ(spool.stats().corrupt, 1u);
    EXPECT_EQ(drain(spool), (std::vector<int>{0, 1, 2})) << "the store's idempotent write absorbs the replayed one";
}

}  // namespace
}  // namespace dmvlog::store
