#include "agent/store/spool_record.h"

#include <bit>
#include <cstring>

namespace dmvlog::store {
namespace {

// Payload kinds (the first byte).
constexpr std::uint8_t kSnapshotWithRun = 1;
constexpr std::uint8_t kRunOnly = 2;
constexpr std::uint8_t kSnapshotPartWithRun = 3;   // kSnapshotWithRun with the part's offset after the clock

// Value tags, in the order of dmvlog::Value's alternatives.
enum : std::uint8_t { kNull = 0, kInt = 1, kReal = 2, kText = 3, kBytes = 4, kTime = 5, kDecimal = 6 };

class Out {
public:
    Out() = default;
    explicit Out(std::string&& into) : s_(std::move(into)) {}   // appends after what `into` holds
    void u8(std::uint8_t v) { s_.push_back(static_cast<char>(v)); }
    void u16(std::uint16_t v) { le(v, 2); }
    void u32(std::uint32_t v) { le(v, 4); }
    void u64(std::uint64_t v) { le(v, 8); }
    void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
    void f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }
    void str(std::string_view v) {
        u32(static_cast<std::uint32_t>(v.size()));
        s_.append(v);
    }
    void bytes(const Bytes& v) {
        u32(static_cast<std::uint32_t>(v.size()));
        s_.append(reinterpret_cast<const char*>(v.data()), v.size());
    }
    void time(const Timestamp& t) {
        i64(t.utc_ticks);
        u16(static_cast<std::uint16_t>(t.offset_minutes));
        u8(t.has_offset ? 1 : 0);
    }
    std::string take() { return std::move(s_); }

private:
    void le(std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i) s_.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
    }
    std::string s_;
};

class In {
public:
    explicit In(std::string_view s) : s_(s) {}
    std::uint8_t u8(const char* what) { return static_cast<std::uint8_t>(le(1, what)); }
    std::uint16_t u16(const char* what) { return static_cast<std::uint16_t>(le(2, what)); }
    std::uint32_t u32(const char* what) { return static_cast<std::uint32_t>(le(4, what)); }
    std::int64_t i64(const char* what) { return static_cast<std::int64_t>(le(8, what)); }
    double f64(const char* what) { return std::bit_cast<double>(le(8, what)); }
    std::string str(const char* what) {
        auto n = u32(what);
        need(n, what);
        std::string v(s_.substr(pos_, n));
        pos_ += n;
        return v;
    }
    Bytes bytes(const char* what) {
        auto n = u32(what);
        need(n, what);
        Bytes v(s_.begin() + static_cast<std::ptrdiff_t>(pos_), s_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
        pos_ += n;
        return v;
    }
    Timestamp time(const char* what) {
        Timestamp t;
        t.utc_ticks = i64(what);
        t.offset_minutes = static_cast<std::int16_t>(u16(what));
        t.has_offset = u8(what) != 0;
        return t;
    }
    // A count of items each at least min_size bytes long: refuses counts the rest of the payload cannot hold.
    std::uint32_t count(const char* what, std::size_t min_size) {
        auto n = u32(what);
        if (static_cast<std::uint64_t>(n) * min_size > s_.size() - pos_) fail(what, "count larger than the payload");
        return n;
    }
    bool done() const { return pos_ == s_.size(); }
    [[noreturn]] void fail(const char* what, const char* problem) const {
        throw SpoolFormatError("spool record: " + std::string(what) + ": " + problem + " at byte " + std::to_string(pos_) +
                               " of " + std::to_string(s_.size()));
    }

private:
    void need(std::size_t n, const char* what) const {
        if (n > s_.size() - pos_) fail(what, "truncated");
    }
    std::uint64_t le(int n, const char* what) {
        need(static_cast<std::size_t>(n), what);
        std::uint64_t v = 0;
        for (int i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(s_[pos_ + i])) << (8 * i);
        pos_ += static_cast<std::size_t>(n);
        return v;
    }
    std::string_view s_;
    std::size_t pos_ = 0;
};

void put_value(Out& o, const Value& v) {
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::monostate>) o.u8(kNull);
            else if constexpr (std::is_same_v<T, std::int64_t>) o.u8(kInt), o.i64(x);
            else if constexpr (std::is_same_v<T, double>) o.u8(kReal), o.f64(x);
            else if constexpr (std::is_same_v<T, std::string>) o.u8(kText), o.str(x);
            else if constexpr (std::is_same_v<T, Bytes>) o.u8(kBytes), o.bytes(x);
            else if constexpr (std::is_same_v<T, Timestamp>) o.u8(kTime), o.time(x);
            else o.u8(kDecimal), o.str(x.digits);
        },
        v);
}

Value get_value(In& in) {
    switch (in.u8("value tag")) {
        case kNull: return std::monostate{};
        case kInt: return in.i64("integer value");
        case kReal: return in.f64("real value");
        case kText: return in.str("text value");
        case kBytes: return in.bytes("binary value");
        case kTime: return in.time("timestamp value");
        case kDecimal: return Decimal{in.str("decimal value")};
        default: in.fail("value tag", "unknown tag");
    }
}

void put_run(Out& o, const RunRecord& r) {
    o.str(r.instance);
    o.str(r.collector);
    o.time(r.started_at);
    o.f64(r.duration_ms);
    o.i64(r.rows);
    o.i64(r.bytes);
    o.str(r.status);
    o.str(r.error_class);
    o.str(r.error);
}

RunRecord get_run(In& in) {
    RunRecord r;
    r.instance = in.str("run instance");
    r.collector = in.str("run collector");
    r.started_at = in.time("run started_at");
    r.duration_ms = in.f64("run duration_ms");
    r.rows = in.i64("run rows");
    r.bytes = in.i64("run bytes");
    r.status = in.str("run status");
    r.error_class = in.str("run error_class");
    r.error = in.str("run error");
    return r;
}

}  // namespace

bool operator==(const SpoolRecord& a, const SpoolRecord& b) {
    auto run_eq = [](const RunRecord& x, const RunRecord& y) {
        return x.instance == y.instance && x.collector == y.collector && x.started_at == y.started_at &&
               x.duration_ms == y.duration_ms && x.rows == y.rows && x.bytes == y.bytes && x.status == y.status &&
               x.error_class == y.error_class && x.error == y.error;
    };
    auto snap_eq = [](const Snapshot& x, const Snapshot& y) {
        return x.instance == y.instance && x.collector == y.collector && x.table == y.table &&
               x.collected_at == y.collected_at && x.utc_offset_minutes == y.utc_offset_minutes &&
               x.sqlserver_start_time == y.sqlserver_start_time && x.rows == y.rows && x.texts == y.texts &&
               x.part_offset == y.part_offset;
    };
    if (a.snapshot.has_value() != b.snapshot.has_value()) return false;
    if (a.snapshot && !snap_eq(*a.snapshot, *b.snapshot)) return false;
    return run_eq(a.run, b.run);
}

std::string encode_spool_record(const SpoolRecord& record) {
    return encode_spool_record(record.snapshot ? &*record.snapshot : nullptr, record.run);
}

std::string encode_spool_record(const Snapshot* snapshot, const RunRecord& run, std::string prefix) {
    Out o(std::move(prefix));
    if (!snapshot) {
        o.u8(kRunOnly);
        put_run(o, run);
        return o.take();
    }
    const Snapshot& s = *snapshot;
    // A whole snapshot keeps the layout of the records before parts existed (a spool left by an older agent
    // still replays, and this one's whole snapshots replay on it).
    o.u8(s.part_offset > 0 ? kSnapshotPartWithRun : kSnapshotWithRun);
    o.str(s.instance);
    o.str(s.collector);
    o.str(s.table);
    o.time(s.collected_at);
    o.u32(static_cast<std::uint32_t>(s.utc_offset_minutes));
    o.u8(s.sqlserver_start_time ? 1 : 0);
    if (s.sqlserver_start_time) o.time(*s.sqlserver_start_time);
    if (s.part_offset > 0) o.i64(s.part_offset);
    o.u32(static_cast<std::uint32_t>(s.rows.size()));
    for (const auto& row : s.rows) {
        o.u32(static_cast<std::uint32_t>(row.size()));
        for (const auto& v : row) put_value(o, v);
    }
    o.u32(static_cast<std::uint32_t>(s.texts.size()));
    for (const auto& [hash, text] : s.texts) {
        o.i64(hash);
        o.str(text);
    }
    put_run(o, run);
    return o.take();
}

SpoolRecord decode_spool_record(std::string_view payload) {
    In in(payload);
    SpoolRecord r;
    const auto kind = in.u8("kind");
    if (kind == kSnapshotWithRun || kind == kSnapshotPartWithRun) {
        Snapshot s;
        s.instance = in.str("instance");
        s.collector = in.str("collector");
        s.table = in.str("table");
        s.collected_at = in.time("collected_at");
        s.utc_offset_minutes = static_cast<int>(static_cast<std::int32_t>(in.u32("utc_offset_minutes")));
        if (in.u8("sqlserver_start_time flag")) s.sqlserver_start_time = in.time("sqlserver_start_time");
        if (kind == kSnapshotPartWithRun) {
            s.part_offset = in.i64("part offset");
            if (s.part_offset <= 0) in.fail("part offset", "a part's offset must be positive");
        }
        const auto nrows = in.count("row count", 4);
        s.rows.resize(nrows);
        for (auto& row : s.rows) {
            const auto ncols = in.count("column count", 1);
            row.reserve(ncols);
            for (std::uint32_t c = 0; c < ncols; ++c) row.push_back(get_value(in));
        }
        const auto ntexts = in.count("text count", 12);
        for (std::uint32_t i = 0; i < ntexts; ++i) {
            auto hash = in.i64("text hash");
            s.texts.emplace_back(hash, in.str("text"));
        }
        r.snapshot = std::move(s);
    } else if (kind != kRunOnly) {
        in.fail("kind", "unknown record kind");
    }
    r.run = get_run(in);
    if (!in.done()) in.fail("end", "bytes left after the record");
    return r;
}

}  // namespace dmvlog::store
