// Shared by the question implementations (questions*.cpp); not a public interface.
#pragma once

#include <optional>
#include <string>

#include "agent/query/delta.h"
#include "agent/query/questions.h"
#include "agent/query/sql.h"

namespace dmvlog::query {

struct Ctx {
    Db* db;
    const Options& o;
    std::string instance;
    Report& r;
    std::string from, to;   // store text of the window
    const Zone& zone;

    Table& table(const std::string& name, const std::string& title) {
        r.tables.push_back(Table{name, title, {}, {}, "(no rows)"});
        return r.tables.back();
    }
    void note(const std::string& n) { r.notes.push_back(n); }
};

struct Coverage {
    int snapshots = 0;
    std::int64_t first = 0, last = 0, median_gap = 0, max_gap = 0;
    bool partial = false;
    std::string note;
};
// Snapshots of a collector in the window, and whether they cover it (partial otherwise, with a note).
Coverage coverage(Ctx& c, const std::string& collector);

// The first column of the next row as a store time; nullopt without a row or for NULL.
std::optional<std::int64_t> scalar_time(Stmt& s);

// Plan-cache deltas of the window (all snapshots), grouped by "query-hash", "statement" or "plan".
// Metric slots: 0 executions, 1 cpu us, 2 duration us, 3 logical reads, 4 physical reads, 5 writes,
// 6 grant KB, 7 used grant KB, 8 spills.
std::vector<GroupTotal> plan_groups(Ctx& c, const std::string& group);

// "12.5s", "3.0m", "2.1h".
std::string ms_text(std::int64_t ticks);

}  // namespace dmvlog::query
