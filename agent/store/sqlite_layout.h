// The SQLite store's row layout of a collector table (docs/design.md, "Store rows"):
//   NAME_data  the rows: snapshot_id (snapshots.snapshot_id) instead of instance, collected_at and
//              utc_offset_minutes; times as integers (100 ns ticks since 1970-01-01 UTC); names and handles as
//              the id of their row in `dictionary`; numbers as they are; one index on snapshot_id.
//   NAME       a view with the declared shape: instance, collected_at, utc_offset_minutes, then every column
//              with its value (times as store text), for people's own SQL and the friendly views.
// The analysis statements that read many rows read NAME_data directly (sql/analysis/*.sql, sections
// "NAME.sqlite").
#pragma once

#include <string>
#include <vector>

#include "agent/store/store.h"

namespace dmvlog::store::sqlite_layout {

// The dictionary of names and handles: each distinct value once (text as text, bytes as a blob). Created with
// the collector tables (it belongs to their layout, not to the core schema the stores share).
inline constexpr const char* kDictionaryDdl =
    "CREATE TABLE IF NOT EXISTS dictionary (\n"
    "    id    INTEGER PRIMARY KEY,\n"
    "    value     NOT NULL UNIQUE,  -- text or blob, each distinct value once\n"
    "    last_used INTEGER           -- the day (since 1970-01-01, UTC) a row last referred to it\n"
    ");\n";

// The SQLite type of a column in NAME_data: INTEGER for dictionary ids and ticks, else by its storage class.
const char* column_type(const ColumnSpec& c);

// "NAME_data".
std::string data_table(const std::string& table);

// CREATE TABLE IF NOT EXISTS of NAME_data and its index.
std::string data_ddl(const TableSpec& t);

// DROP VIEW IF EXISTS and CREATE VIEW of NAME over NAME_data, for the rows of these collectors.
std::string view_ddl(const TableSpec& t, const std::vector<std::string>& collectors);

// SQL expressions: store text of ticks, and ticks of store text ("YYYY-MM-DD HH:MM:SS.fffffff"); NULL stays NULL.
std::string text_of_ticks(const std::string& expr);
std::string ticks_of_text(const std::string& expr);

// Statements that move the rows of a table of the earlier layout (NAME a table with instance, collected_at and
// utc_offset_minutes on every row; old_columns its columns) into NAME_data, then drop it. Rows whose snapshot
// row is missing get one, so no row is lost. NAME_data must exist.
std::string migrate_sql(const TableSpec& t, const std::string& collector, const std::vector<std::string>& old_columns);

}  // namespace dmvlog::store::sqlite_layout
