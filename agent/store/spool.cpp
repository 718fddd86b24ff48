#include "agent/store/spool.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <vector>

#include "agent/core/crc32.h"

namespace dmvlog::store {
namespace fs = std::filesystem;
namespace {

constexpr std::uint32_t kHeadMagic = 0x48564D44;   // "DMVH"
constexpr std::size_t kHeadBytes = 24;              // magic, seq, offset, crc of the first 20 bytes
constexpr std::uint32_t kMaxPayload = 1u << 30;

std::string errno_text() { return std::strerror(errno); }

void put_le(char* p, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFFu);
}
std::uint64_t get_le(const char* p, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(p[i])) << (8 * i);
    return v;
}

std::string segment_name(std::uint64_t seq) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%020llu.seg", static_cast<unsigned long long>(seq));
    return buf;
}

std::optional<std::uint64_t> segment_seq(const fs::path& p) {
    const auto name = p.filename().string();
    if (name.size() != 24 || name.substr(20) != ".seg") return std::nullopt;
    std::uint64_t seq = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + 20, seq);
    if (ec != std::errc{} || end != name.data() + 20) return std::nullopt;
    return seq;
}

// A whole record (header and payload) is at data[off..]: magic, version, length within the data, CRC.
std::optional<std::uint32_t> record_at(std::string_view data, std::uint64_t off) {
    if (data.size() - off < Spool::kHeaderBytes) return std::nullopt;
    const char* h = data.data() + off;
    if (get_le(h, 4) != Spool::kMagic || get_le(h + 4, 2) != Spool::kFormatVersion) return std::nullopt;
    const auto len = static_cast<std::uint32_t>(get_le(h + 8, 4));
    if (len > kMaxPayload || len > data.size() - off - Spool::kHeaderBytes) return std::nullopt;
    if (crc32(h + Spool::kHeaderBytes, len) != static_cast<std::uint32_t>(get_le(h + 12, 4))) return std::nullopt;
    return static_cast<std::uint32_t>(Spool::kHeaderBytes + len);
}

std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw SpoolError("spool: cannot read " + p.string() + ": " + errno_text());
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void sync_dir(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

}  // namespace

Spool::Spool(Options options) : options_(std::move(options)) {
    if (options_.max_bytes == 0) options_.max_bytes = kDefaultMaxBytes;
    if (options_.segment_bytes == 0)
        options_.segment_bytes = std::clamp<std::uint64_t>(options_.max_bytes / 16, 64u << 10, 16u << 20);
    std::error_code ec;
    fs::create_directories(options_.dir, ec);
    if (ec) throw SpoolError("spool: cannot create the folder " + options_.dir.string() + ": " + ec.message());

    // One process at a time: `dmvlog collect` next to a running agent with the same state folder gets none.
    const auto lock_path = options_.dir / "lock";
    lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0) throw SpoolError("spool: cannot open " + lock_path.string() + ": " + errno_text());
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
        const std::string why = errno == EWOULDBLOCK ? "another dmvlog process uses it" : errno_text();
        ::close(lock_fd_);
        lock_fd_ = -1;
        throw SpoolError("spool: " + options_.dir.string() + " is locked: " + why);
    }

    // The head: where the store's commits reached.
    std::uint64_t head_seq = 0, head_off = 0;
    const auto head_path = options_.dir / "head";
    if (fs::exists(head_path) && fs::file_size(head_path, ec) > 0) {
        auto h = read_all(head_path);
        if (h.size() == kHeadBytes && get_le(h.data(), 4) == kHeadMagic &&
            crc32(h.data(), 20) == static_cast<std::uint32_t>(get_le(h.data() + 20, 4))) {
            head_seq = get_le(h.data() + 4, 8);
            head_off = get_le(h.data() + 12, 8);
        } else {
            ++counters_.corrupt;
            spdlog::warn("spool: {} is damaged; replaying every record in the spool (the store skips those it has)",
                         head_path.string());
        }
    }
    head_fd_ = ::open(head_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (head_fd_ < 0) throw SpoolError("spool: cannot open " + head_path.string() + ": " + errno_text());

    std::vector<std::pair<std::uint64_t, fs::path>> files;
    for (const auto& e : fs::directory_iterator(options_.dir, ec))
        if (auto seq = segment_seq(e.path())) files.emplace_back(*seq, e.path());
    if (ec) throw SpoolError("spool: cannot list " + options_.dir.string() + ": " + ec.message());
    std::sort(files.begin(), files.end());
    next_seq_ = head_seq + 1;
    for (auto& [seq, path] : files) {
        next_seq_ = std::max(next_seq_, seq + 1);
        if (seq < head_seq) {   // acknowledged entirely; its deletion did not happen before a crash
            fs::remove(path, ec);
            continue;
        }
        Segment s;
        s.seq = seq;
        s.file = path;
        scan(s, seq == head_seq ? head_off : 0);
        records_ += s.pending.size();
        segments_.push_back(std::move(s));
    }
    // Segments whose records were all acknowledged go; new records start a new segment.
    std::deque<Segment> waiting;
    for (auto& s : segments_) {
        if (s.pending.empty()) fs::remove(s.file, ec);
        else waiting.push_back(std::move(s));
    }
    segments_ = std::move(waiting);
    if (!segments_.empty()) {
        spdlog::info("spool: {} record(s) in {} waiting to be written to the store", records_, options_.dir.string());
    }
}

Spool::~Spool() {
    close_active();
    if (head_fd_ >= 0) ::close(head_fd_);
    if (lock_fd_ >= 0) ::close(lock_fd_);
}

void Spool::scan(Segment& segment, std::uint64_t acked_until) {
    const std::string data = read_all(segment.file);
    std::uint64_t off = 0, bad_regions = 0, bad_bytes = 0;
    while (off < data.size()) {
        if (auto size = record_at(data, off)) {
            if (off >= acked_until) segment.pending.push_back(Entry{off, *size});
            off += *size;
            continue;
        }
        // A bad record: go on at the next offset where a whole good record starts.
        std::uint64_t next = off + 1;
        std::optional<std::uint32_t> found;
        for (; next + kHeaderBytes <= data.size(); ++next) {
            if (static_cast<std::uint8_t>(data[next]) != (kMagic & 0xFFu)) continue;
            if ((found = record_at(data, next))) break;
        }
        ++counters_.corrupt;
        if (found) {
            ++bad_regions;
            bad_bytes += next - off;
            off = next;
            continue;
        }
        // The bad tail (a torn write, or damage up to the end): keep a copy aside and cut it off.
        const auto aside = fs::path(segment.file.string() + ".bad");
        {
            std::ofstream out(aside, std::ios::binary | std::ios::app);
            out.write(data.data() + off, static_cast<std::streamsize>(data.size() - off));
        }
        std::error_code ec;
        fs::resize_file(segment.file, off, ec);
        spdlog::warn("spool: {}: a bad tail of {} byte(s) at offset {} (torn write or damage) was cut off and kept in {}{}",
                     segment.file.string(), data.size() - off, off, aside.string(),
                     ec ? " (cutting failed: " + ec.message() + ")" : "");
        segment.file_bytes = ec ? data.size() : off;
        if (bad_regions)
            spdlog::warn("spool: {}: {} bad region(s) of {} byte(s) skipped before it", segment.file.string(), bad_regions,
                         bad_bytes);
        return;
    }
    segment.file_bytes = data.size();
    if (bad_regions)
        spdlog::warn("spool: {}: {} bad record region(s) of {} byte(s) skipped (CRC or header damaged); the good "
                     "records around them are kept",
                     segment.file.string(), bad_regions, bad_bytes);
}

void Spool::open_active(std::uint64_t seq) {
    Segment s;
    s.seq = seq;
    s.file = options_.dir / segment_name(seq);
    active_fd_ = ::open(s.file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (active_fd_ < 0) throw SpoolError("spool: cannot create " + s.file.string() + ": " + errno_text());
    struct stat st {};
    if (::fstat(active_fd_, &st) == 0) s.file_bytes = static_cast<std::uint64_t>(st.st_size);
    if (options_.sync) sync_dir(options_.dir);
    segments_.push_back(std::move(s));
}

void Spool::close_active() {
    if (active_fd_ >= 0) ::close(active_fd_);
    active_fd_ = -1;
}

std::uint64_t Spool::total_bytes() const {
    std::uint64_t n = 0;
    for (const auto& s : segments_) n += s.file_bytes;
    return n;
}

void Spool::evict_oldest() {
    Segment& s = segments_.front();
    const auto n = s.pending.size();
    if (segments_.size() == 1) close_active();
    std::error_code ec;
    fs::remove(s.file, ec);
    counters_.evicted += n;
    records_ -= n;
    spdlog::warn("spool: at its cap of {} bytes: evicted the oldest segment {} with {} record(s) never written to the "
                 "store ({} evicted so far)",
                 options_.max_bytes, s.file.filename().string(), n, counters_.evicted);
    segments_.pop_front();
    front_.reset();
}

void Spool::append(const SpoolRecord& record) { append(record.snapshot ? &*record.snapshot : nullptr, record.run); }

void Spool::append(const Snapshot* snapshot, const RunRecord& run) {
    // The payload is encoded straight after room for the header: one buffer, one write(), no copy of a large
    // snapshot's bytes.
    std::string buf = encode_spool_record(snapshot, run, std::string(kHeaderBytes, '\0'));
    const std::size_t payload_size = buf.size() - kHeaderBytes;
    if (payload_size > kMaxPayload || buf.size() > options_.max_bytes)
        throw SpoolError("spool: a record of " + std::to_string(payload_size) + " bytes is larger than the spool's cap of " +
                         std::to_string(options_.max_bytes) + " bytes");
    put_le(buf.data(), kMagic, 4);
    put_le(buf.data() + 4, kFormatVersion, 2);
    put_le(buf.data() + 6, 0, 2);
    put_le(buf.data() + 8, payload_size, 4);
    put_le(buf.data() + 12, crc32(buf.data() + kHeaderBytes, payload_size), 4);

    std::lock_guard lock(mu_);
    while (!segments_.empty() && total_bytes() + buf.size() > options_.max_bytes) evict_oldest();
    if (active_fd_ >= 0 && segments_.back().file_bytes > 0 &&
        segments_.back().file_bytes + buf.size() > options_.segment_bytes)
        close_active();   // that segment is full
    if (active_fd_ < 0) open_active(next_seq_++);
    Segment& s = segments_.back();
    const auto off = s.file_bytes;
    const char* p = buf.data();
    std::size_t left = buf.size();
    std::uint64_t at = off;
    while (left > 0) {
        auto n = ::pwrite(active_fd_, p, left, static_cast<off_t>(at));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string why = n < 0 ? errno_text() : "no progress";
            if (::ftruncate(active_fd_, static_cast<off_t>(off)) != 0) { /* the next open cuts the torn tail */ }
            throw SpoolError("spool: cannot write " + s.file.string() + ": " + why);
        }
        p += n;
        left -= static_cast<std::size_t>(n);
        at += static_cast<std::uint64_t>(n);
    }
    if (options_.sync && ::fdatasync(active_fd_) != 0) {
        const std::string why = errno_text();
        if (::ftruncate(active_fd_, static_cast<off_t>(off)) != 0) { /* cut on the next open */ }
        throw SpoolError("spool: cannot sync " + s.file.string() + ": " + why);
    }
    s.file_bytes = at;
    s.pending.push_back(Entry{off, static_cast<std::uint32_t>(buf.size())});
    ++records_;
}

std::optional<SpoolRecord> Spool::read_front() {
    while (!segments_.empty()) {
        Segment& s = segments_.front();
        if (s.pending.empty()) {
            if (segments_.size() == 1) return std::nullopt;
            std::error_code ec;
            fs::remove(s.file, ec);
            segments_.pop_front();
            continue;
        }
        const Entry e = s.pending.front();
        std::string data(e.size, '\0');
        bool ok = false;
        int fd = ::open(s.file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ok = ::pread(fd, data.data(), e.size, static_cast<off_t>(e.offset)) == static_cast<ssize_t>(e.size);
            ::close(fd);
        }
        std::string problem = ok ? "" : "cannot read it: " + errno_text();
        if (ok && !record_at(data, 0)) problem = "its header or CRC no longer matches";
        if (problem.empty()) {
            try {
                auto record = decode_spool_record(std::string_view(data).substr(kHeaderBytes));
                front_at_ = {s.seq, e.offset};
                return record;
            } catch (const SpoolFormatError& err) {
                problem = err.what();
            }
        }
        ++counters_.corrupt;
        spdlog::warn("spool: {}: record at offset {} dropped: {}", s.file.string(), e.offset, problem);
        s.pending.pop_front();
        --records_;
        write_head(s.seq, e.offset + e.size);
    }
    return std::nullopt;
}

std::shared_ptr<const SpoolRecord> Spool::front() {
    std::lock_guard lock(mu_);
    if (!front_) {
        if (auto r = read_front()) front_ = std::make_shared<const SpoolRecord>(std::move(*r));
    }
    return front_;
}

void Spool::pop() {
    std::lock_guard lock(mu_);
    if (!front_) return;
    front_.reset();
    if (segments_.empty() || segments_.front().pending.empty()) return;
    Segment& s = segments_.front();
    if (front_at_ != std::pair{s.seq, s.pending.front().offset}) return;   // evicted meanwhile
    const Entry e = s.pending.front();
    s.pending.pop_front();
    --records_;
    write_head(s.seq, e.offset + e.size);
    if (!s.pending.empty()) return;
    // That segment is done: delete it (the active one too when nothing else waits; the next append starts anew).
    std::error_code ec;
    if (segments_.size() == 1) close_active();
    fs::remove(s.file, ec);
    segments_.pop_front();
}

void Spool::write_head(std::uint64_t seq, std::uint64_t offset) {
    char h[kHeadBytes];
    put_le(h, kHeadMagic, 4);
    put_le(h + 4, seq, 8);
    put_le(h + 12, offset, 8);
    put_le(h + 20, crc32(h, 20), 4);
    if (::pwrite(head_fd_, h, kHeadBytes, 0) != static_cast<ssize_t>(kHeadBytes))
        spdlog::warn("spool: cannot update {}/head ({}); records may be written to the store again after a restart "
                     "(the store skips them)",
                     options_.dir.string(), errno_text());
}

bool Spool::empty() const {
    std::lock_guard lock(mu_);
    return records_ == 0;
}

Spool::Stats Spool::stats() const {
    std::lock_guard lock(mu_);
    Stats s = counters_;
    s.records = records_;
    s.bytes = total_bytes();
    return s;
}

}  // namespace dmvlog::store
