// Markers of running queries and the quarantine of a collector whose query took the agent down.
//
// Before a collector's query runs, a small file <state_dir>/running/<instance>@<collector> is written and
// fsync'd (with the folder); it is removed when the run ends, however it ends (ok, failed, timed out,
// cancelled). A marker still there when the agent starts means the agent died (crash, kill -9, OOM, a
// watchdog) while that query ran: the collector is quarantined, i.e. skipped for agent.quarantine (1 h by
// default); each quarantine that follows a run which crashed again doubles it, up to 24 h. A quarantine is
// kept in <state_dir>/quarantine/<instance>@<collector> so that restarts during it do not shorten it, and
// forgotten once a run of that collector ends normally. A marker written before the machine last booted
// (another boot id) is discarded: a power cut is not the query's fault.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dmvlog::collect {

struct RunMarker {
    std::string instance;
    std::string collector;
    std::string started_at;   // UTC text, when the query started
    long pid = 0;             // the agent that ran it
    std::string boot_id;      // the machine's boot at the time ("" when unknown)
};

struct QuarantineRecord {
    std::string instance;
    std::string collector;
    std::chrono::milliseconds length{0};   // this quarantine's length (schedule time)
    std::int64_t until_unix_ms = 0;        // wall clock end
    std::string reason;
};

// The longest quarantine.
inline constexpr std::chrono::milliseconds kQuarantineCap = std::chrono::hours(24);

// The length of the next quarantine: base the first time, then twice the previous one, at most the cap
// (or base when base is longer than the cap). Zero when base is zero (quarantine disabled).
std::chrono::milliseconds next_quarantine(std::optional<std::chrono::milliseconds> previous,
                                          std::chrono::milliseconds base,
                                          std::chrono::milliseconds cap = kQuarantineCap);

// This machine's boot id (/proc/sys/kernel/random/boot_id), "" when unknown.
std::string current_boot_id();

class RunMarkers {
public:
    // Creates <state_dir>/running and <state_dir>/quarantine (0700). Throws std::runtime_error naming the
    // folder when it cannot.
    explicit RunMarkers(std::filesystem::path state_dir);

    // Writes and fsyncs the marker of a query about to run. Throws std::runtime_error naming the file.
    void begin(const std::string& instance, const std::string& collector, const std::string& started_at);
    // Removes it (no error when absent).
    void end(const std::string& instance, const std::string& collector) noexcept;
    // Markers left in running/ (by an agent that died), unreadable ones with empty fields but their names.
    std::vector<RunMarker> leftovers() const;
    void discard(const RunMarker& marker) noexcept { end(marker.instance, marker.collector); }

    std::optional<QuarantineRecord> quarantine(const std::string& instance, const std::string& collector) const;
    std::vector<QuarantineRecord> quarantines() const;
    void save(const QuarantineRecord& record);
    void forget(const std::string& instance, const std::string& collector) noexcept;

    const std::filesystem::path& running_dir() const { return running_; }
    const std::filesystem::path& quarantine_dir() const { return quarantine_; }

private:
    std::filesystem::path running_, quarantine_;
    std::string boot_id_;
};

}  // namespace dmvlog::collect
