// What the SQLite and PostgreSQL stores share: their schema migrations (schema/KIND/NNN_name.sql, embedded),
// identifier quoting, the store's clock text and run-summary percentiles.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dmvlog::store {

// One core migration: schema/KIND/NNN_name.sql, applied in order of NNN and recorded in schema_version.
struct Migration {
    int version;
    std::string name;
    std::string_view sql;
    bool after_tables = false;  // starts with kAfterTablesMarker: applied after the collector tables, every install
};

// Files that start with this line hold views and indexes over collector tables: their version is recorded like
// a migration's, but their content is applied after the collector tables, on every install.
inline constexpr std::string_view kAfterTablesMarker = "-- dmvlog:after-collector-tables";

// The migrations of schema/KIND/ ("sqlite", "postgres"), by version.
std::vector<Migration> migrations(const std::string& kind);

// A file marked with kAfterTablesMarker is split into blocks, each starting with a line
// "-- requires: table_a, table_b"; a block runs (every install, so it must be idempotent) only when every table
// it requires exists in the store. Text before the first such line is a comment and is not run.
struct AfterTablesBlock {
    std::vector<std::string> requires_tables;
    std::string sql;
};
std::vector<AfterTablesBlock> after_tables_blocks(std::string_view text);

// "name" with embedded quotes doubled (SQLite and PostgreSQL alike).
std::string quote_ident(const std::string& name);

// 'text' with embedded quotes doubled: a string literal (SQLite and PostgreSQL alike).
std::string quote_literal(const std::string& text);

// The store's clock as store text (UTC "YYYY-MM-DD HH:MM:SS.fffffff").
std::string now_text();

struct RunSummary;
// p50_ms and p95_ms of r from the durations of its recent runs (any order; sorted here). Nothing when empty.
void set_percentiles(RunSummary& r, std::vector<double>& durations);

}  // namespace dmvlog::store
