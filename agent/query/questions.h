// The questions of `dmvlog query NAME`: each reads the store through sql/analysis/NAME.sql and answers with
// a Report (docs/analysis.md describes every question and the delta rules).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/query/report.h"
#include "agent/query/sql.h"
#include "agent/query/time_window.h"

struct sqlite3;

namespace dmvlog::query {

struct Options {
    std::vector<std::string> instances;   // empty: every instance in the store
    Window window;
    std::string by = "cpu";               // top-queries: cpu|duration|logical-reads|physical-reads|writes|executions|grant|spills
    int top = 25;                         // rows per table (0 = all)
    std::string group = "query-hash";     // top-queries: query-hash|statement|plan
    std::string method = "all-snapshots"; // top-queries: all-snapshots|two-point
    std::string filter;                   // perf-counters: LIKE pattern on object or counter name
    bool all = false;                     // waits: include benign wait types
    const Zone* zone = nullptr;           // how times are shown in notes (UTC when null)
};

struct QuestionInfo {
    std::string name;
    std::string summary;
    bool point = false;        // takes --at (required)
};
const std::vector<QuestionInfo>& questions();

// Runs one question. Throws UsageError for bad options, std::runtime_error for store problems.
Report run_question(Db* db, const std::string& name, const Options& options);
Report run_question(sqlite3* db, const std::string& name, const Options& options);   // a SQLite store

// The instances the store has snapshots of.
std::vector<std::string> store_instances(Db* db);

}  // namespace dmvlog::query
