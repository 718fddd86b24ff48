// The JSON lines contract of `dmvlog xe parse` (docs/xe.md), and its one-line table summary.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "agent/core/value.h"
#include "agent/xe/envelope.h"

namespace dmvlog::xe {

// ISO-8601 UTC: "2026-11-23T10:00:05.123Z"; seven fraction digits when the time is finer than a millisecond.
std::string format_event_time(const Timestamp& ts);

// The event as a JSON object, keys in contract order. Absent values are null.
nlohmann::ordered_json to_json(const Event& event);

// to_json as one line (no newline). Text is written as UTF-8; invalid UTF-8 becomes U+FFFD.
std::string to_json_line(const Event& event);

// One readable line summarising the event.
std::string to_table_line(const Event& event);

}  // namespace dmvlog::xe
