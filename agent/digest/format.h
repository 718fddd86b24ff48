// What the digest's renderers share: times, durations, changes, one-line statements, the summary sentence.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "agent/digest/digest.h"

namespace dmvlog::digest {

double secs(std::int64_t ticks);
double round3(double v);
// "2026-11-23T14:00:05.123Z" (milliseconds; ".000" left out).
std::string iso_utc(std::int64_t utc_ticks);
// "45s", "3m 05s", "1h 02m".
std::string duration_text(double seconds);
// Percentage change from previous to current; nullopt when the previous window is not covered or was 0.
std::optional<double> change_pct(double current, double previous, bool covered);
// "+20% vs previous", "new: none in the previous window", "same as previous", "" when not covered.
std::string change_text(double current, double previous, bool covered);
// Whitespace runs as one space, trimmed; cut to max code points with "…" (0 = no cut).
std::string one_line(const std::string& text, std::size_t max = 0);
// "etl_loader@BATCH01 (Nightly Loader)"
std::string who(const std::string& login, const std::string& host, const std::string& app);
// The headline of one instance as a sentence (a window with blocking).
std::string instance_summary(const InstanceDigest& d, const query::Window& w, const query::Zone& zone);
// The JSON document (render_json dumps it; the webhook embeds it).
nlohmann::ordered_json to_json(const Digest& d, const query::Zone& zone);

}  // namespace dmvlog::digest
