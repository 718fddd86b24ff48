#include "agent/collect/run_markers.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <tuple>

namespace dmvlog::collect {

namespace fs = std::filesystem;

namespace {

std::string file_name(const std::string& instance, const std::string& collector) { return instance + "@" + collector; }

std::string one_line(std::string s) {
    std::replace(s.begin(), s.end(), '\n', ' ');
    std::replace(s.begin(), s.end(), '\r', ' ');
    return s;
}

void fsync_path(const fs::path& p, int flags) {
    int fd = ::open(p.c_str(), flags | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

// Writes content to path through a temporary file, fsyncs it and the folder.
void write_durably(const fs::path& path, const std::string& content) {
    const fs::path tmp = path.string() + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error(fmt::format("cannot write {}: {}", tmp.string(), std::strerror(errno)));
    const char* p = content.data();
    std::size_t left = content.size();
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            int err = errno;
            ::close(fd);
            throw std::runtime_error(fmt::format("cannot write {}: {}", tmp.string(), std::strerror(err)));
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        int err = errno;
        ::close(fd);
        throw std::runtime_error(fmt::format("cannot fsync {}: {}", tmp.string(), std::strerror(err)));
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        throw std::runtime_error(fmt::format("cannot rename {} to {}: {}", tmp.string(), path.string(), std::strerror(errno)));
    fsync_path(path.parent_path(), O_RDONLY | O_DIRECTORY);
}

std::map<std::string, std::string> read_fields(const fs::path& path) {
    std::map<std::string, std::string> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        auto eq = line.find('=');
        if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return out;
}

// Splits "<instance>@<collector>" (instance names have no '@').
bool split_name(const std::string& name, std::string& instance, std::string& collector) {
    auto at = name.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == name.size()) return false;
    instance = name.substr(0, at);
    collector = name.substr(at + 1);
    return true;
}

long long to_ll(const std::string& s) {
    try {
        return std::stoll(s);
    } catch (const std::exception&) {
        return 0;
    }
}

void make_dir(const fs::path& p) {
    std::error_code ec;
    fs::create_directories(p, ec);
    if (ec || !fs::is_directory(p))
        throw std::runtime_error(fmt::format("cannot create the folder {}: {}", p.string(), ec ? ec.message() : "not a folder"));
    ::chmod(p.c_str(), 0700);
}

}  // namespace

std::chrono::milliseconds next_quarantine(std::optional<std::chrono::milliseconds> previous, std::chrono::milliseconds base,
                                          std::chrono::milliseconds cap) {
    if (base.count() <= 0) return std::chrono::milliseconds(0);
    const auto limit = std::max(cap, base);
    if (!previous || previous->count() <= 0) return std::min(base, limit);
    if (*previous >= limit / 2) return limit;
    return std::min(std::max(*previous * 2, base), limit);
}

std::string current_boot_id() {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string id;
    std::getline(in, id);
    return id;
}

RunMarkers::RunMarkers(fs::path state_dir)
    : running_(state_dir / "running"), quarantine_(state_dir / "quarantine"), boot_id_(current_boot_id()) {
    make_dir(running_);
    make_dir(quarantine_);
}

void RunMarkers::begin(const std::string& instance, const std::string& collector, const std::string& started_at) {
    write_durably(running_ / file_name(instance, collector),
                  fmt::format("instance={}\ncollector={}\nstarted_at={}\npid={}\nboot_id={}\n", instance, collector,
                              one_line(started_at), static_cast<long>(::getpid()), boot_id_));
}

void RunMarkers::end(const std::string& instance, const std::string& collector) noexcept {
    std::error_code ec;
    fs::remove(running_ / file_name(instance, collector), ec);
}

std::vector<RunMarker> RunMarkers::leftovers() const {
    std::vector<RunMarker> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(running_, ec)) {
        const auto name = entry.path().filename().string();
        if (name.size() > 4 && name.substr(name.size() - 4) == ".tmp") {  // a marker that was never complete
            fs::remove(entry.path(), ec);
            continue;
        }
        RunMarker m;
        if (!split_name(name, m.instance, m.collector)) continue;
        auto f = read_fields(entry.path());
        m.started_at = f["started_at"];
        m.pid = static_cast<long>(to_ll(f["pid"]));
        m.boot_id = f["boot_id"];
        out.push_back(std::move(m));
    }
    std::sort(out.begin(), out.end(), [](const RunMarker& a, const RunMarker& b) {
        return std::tie(a.instance, a.collector) < std::tie(b.instance, b.collector);
    });
    return out;
}

std::optional<QuarantineRecord> RunMarkers::quarantine(const std::string& instance, const std::string& collector) const {
    const auto path = quarantine_ / file_name(instance, collector);
    std::error_code ec;
    if (!fs::exists(path, ec)) return std::nullopt;
    auto f = read_fields(path);
    QuarantineRecord r;
    r.instance = instance;
    r.collector = collector;
    r.length = std::chrono::milliseconds(to_ll(f["length_ms"]));
    r.until_unix_ms = to_ll(f["until_unix_ms"]);
    r.reason = f["reason"];
    return r;
}

std::vector<QuarantineRecord> RunMarkers::quarantines() const {
    std::vector<QuarantineRecord> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(quarantine_, ec)) {
        std::string instance, collector;
        if (!split_name(entry.path().filename().string(), instance, collector)) continue;
        if (auto r = quarantine(instance, collector)) out.push_back(std::move(*r));
    }
    std::sort(out.begin(), out.end(), [](const QuarantineRecord& a, const QuarantineRecord& b) {
        return std::tie(a.instance, a.collector) < std::tie(b.instance, b.collector);
    });
    return out;
}

void RunMarkers::save(const QuarantineRecord& r) {
    write_durably(quarantine_ / file_name(r.instance, r.collector),
                  fmt::format("instance={}\ncollector={}\nlength_ms={}\nuntil_unix_ms={}\nreason={}\n", r.instance,
                              r.collector, r.length.count(), r.until_unix_ms, one_line(r.reason)));
}

void RunMarkers::forget(const std::string& instance, const std::string& collector) noexcept {
    std::error_code ec;
    fs::remove(quarantine_ / file_name(instance, collector), ec);
}

}  // namespace dmvlog::collect
