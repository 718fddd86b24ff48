// Golden tests: every tests/xe/corpus/NAME.xml, read as `dmvlog xe parse` reads it, gives exactly the JSON
// lines of NAME.jsonl. Run with DMVLOG_UPDATE_GOLDEN=1 to rewrite the expected files (then review the diff).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/xe/envelope.h"
#include "agent/xe/json.h"

namespace dmvlog::xe {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(DMVLOG_SOURCE_DIR) / "tests" / "xe" / "corpus";

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string lines_from_stream(std::istream& in, std::size_t chunk) {
    ParseOptions o;
    o.read_chunk_bytes = chunk;
    EventReader r(in, o);
    Event e;
    std::string out;
    while (r.next(e)) out += to_json_line(e) + "\n";
    return out;
}

std::vector<fs::path> inputs() {
    std::vector<fs::path> v;
    for (const auto& e : fs::directory_iterator(kCorpus))
        if (e.path().extension() == ".xml") v.push_back(e.path());
    std::sort(v.begin(), v.end());
    return v;
}

TEST(XeGolden, CorpusIsThere) { EXPECT_GE(inputs().size(), 12u); }

TEST(XeGolden, EveryInputGivesItsExpectedLines) {
    const bool update = std::getenv("DMVLOG_UPDATE_GOLDEN") != nullptr;
    for (const auto& in_path : inputs()) {
        SCOPED_TRACE(in_path.filename().string());
        auto expected_path = in_path;
        expected_path.replace_extension(".jsonl");
        std::ifstream in(in_path, std::ios::binary);
        std::string got = lines_from_stream(in, 1u << 20);
        if (update) {
            std::ofstream(expected_path, std::ios::binary) << got;
            continue;
        }
        ASSERT_TRUE(fs::exists(expected_path)) << "missing " << expected_path.filename();
        EXPECT_EQ(got, slurp(expected_path));
    }
}

TEST(XeGolden, ChunkBoundariesDoNotMatter) {
    for (const auto& in_path : inputs()) {
        SCOPED_TRACE(in_path.filename().string());
        std::ifstream a(in_path, std::ios::binary);
        const std::string whole = lines_from_stream(a, 1u << 20);
        for (std::size_t chunk : {1u, 2u, 7u, 64u, 1000u}) {
            std::ifstream b(in_path, std::ios::binary);
            EXPECT_EQ(lines_from_stream(b, chunk), whole) << "chunk " << chunk;
        }
        // the in-memory reader agrees with the streaming one
        std::string text = slurp(in_path), viaview;
        for (const auto& e : parse_all(text)) viaview += to_json_line(e) + "\n";
        EXPECT_EQ(viaview, whole);
    }
}

std::string to_utf16le(const std::string& utf8) {
    std::string out = "\xFF\xFE";
    std::size_t i = 0;
    while (i < utf8.size()) {
        auto c = static_cast<unsigned char>(utf8[i]);
        unsigned cp;
        int n;
        if (c < 0x80) { cp = c; n = 1; }
        else if (c < 0xE0) { cp = c & 0x1F; n = 2; }
        else if (c < 0xF0) { cp = c & 0x0F; n = 3; }
        else { cp = c & 0x07; n = 4; }
        for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
        i += n;
        auto unit = [&](unsigned u) {
            out.push_back(static_cast<char>(u & 0xFF));
            out.push_back(static_cast<char>(u >> 8));
        };
        if (cp >= 0x10000) {
            cp -= 0x10000;
            unit(0xD800 + (cp >> 10));
            unit(0xDC00 + (cp & 0x3FF));
        } else {
            unit(cp);
        }
    }
    return out;
}

TEST(XeGolden, Utf16WithBomReadsTheSame) {
    for (const char* name : {"bpr_event_file_japanese.xml", "ring_buffer.xml", "truncated.xml"}) {
        SCOPED_TRACE(name);
        std::string utf8 = slurp(kCorpus / name);
        std::istringstream a(utf8), b(to_utf16le(utf8));
        std::string want = lines_from_stream(a, 1u << 20);
        EXPECT_EQ(lines_from_stream(b, 1u << 20), want);
        std::istringstream c(to_utf16le(utf8));
        EXPECT_EQ(lines_from_stream(c, 5), want);
        std::string viaview;
        for (const auto& e : parse_all(to_utf16le(utf8))) viaview += to_json_line(e) + "\n";
        EXPECT_EQ(viaview, want);
    }
}

}  // namespace
}  // namespace dmvlog::xe
