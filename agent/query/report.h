// What a question answers: titled tables of typed cells plus notes, and their rendering as a terminal
// table (widths computed, long text cut with an ellipsis), CSV or JSON (complete, nothing cut).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <variant>
#include <vector>

#include "agent/query/time_window.h"

namespace dmvlog::query {

enum class Kind { text, integer, real, time, duration_ms, percent };

struct Column {
    std::string name;
    Kind kind = Kind::text;
    int decimals = 1;          // real/percent/duration in tables
    bool wide = false;         // only in csv and json (a terminal table leaves it out)
};

// A time cell holds UTC ticks; it is shown in the report's zone.
struct TimeCell {
    std::int64_t utc_ticks;
    friend bool operator==(const TimeCell&, const TimeCell&) = default;
};

using Cell = std::variant<std::monostate, std::int64_t, double, std::string, TimeCell>;

struct Table {
    std::string name;          // machine name (json key, csv section)
    std::string title;         // shown above a terminal table
    std::vector<Column> columns;
    std::vector<std::vector<Cell>> rows;
    std::string empty_text = "(no rows)";

    int col(const std::string& name) const;   // index or -1
    void add_row(std::vector<Cell> row) { rows.push_back(std::move(row)); }
};

struct Report {
    std::string question;
    std::vector<std::string> instances;
    Window window;
    std::vector<std::string> notes;    // quality, DST, resets, coverage
    std::deque<Table> tables;   // a deque: references to tables stay valid while more are added
};

enum class Format { table, csv, json };

// Renders for output. width: terminal width for Format::table (0 = no limit).
std::string render(const Report& r, Format f, const Zone& zone, int width);

// Display width of UTF-8 text (code points; control characters count 1) and cut to a width with "…".
std::size_t display_width(std::string_view s);
std::string fit(std::string_view s, std::size_t width);

// The terminal width: $COLUMNS, else the tty's, else 160.
int terminal_width();

}  // namespace dmvlog::query
