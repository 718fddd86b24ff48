#include "agent/store/mssql_sql.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "agent/core/time_format.h"
#include "agent/core/tsql_quote.h"
#include "agent/store/xe_rows.h"

namespace dmvlog::store::mssql_sql {

namespace {

std::string tagged(std::string_view sql) { return std::string(kTag) + std::string(sql); }

std::string markers(std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += i ? ", ?" : "?";
    return out;
}

std::string insert_values(std::string_view table, bool with_event_id, const std::vector<std::string_view>& columns) {
    return xe_rows::insert_sql("INSERT", std::string("dbo.") + std::string(table), with_event_id, columns,
                               [](int) { return std::string("?"); });
}

std::vector<Statement> build() {
    namespace rows = xe_rows;
    std::vector<Statement> s = {
        {"look for the schema", "SELECT CASE WHEN OBJECT_ID(N'dbo.schema_version', N'U') IS NULL THEN 0 ELSE 1 END AS present"},
        {"read the schema version", "SELECT ISNULL(MAX(version), 0) AS version FROM dbo.schema_version"},
        {"record a migration",
         "INSERT INTO dbo.schema_version (version, applied_at, description) SELECT ?, ?, ? "
         "WHERE NOT EXISTS (SELECT 1 FROM dbo.schema_version WHERE version = ?)"},
        {"update collector_tables",
         "UPDATE dbo.collector_tables SET collector = ?, columns = ?, updated_at = ? WHERE table_name = ?"},
        {"insert collector_tables",
         "INSERT INTO dbo.collector_tables (table_name, collector, columns, updated_at) VALUES (?, ?, ?, ?)"},
        {"insert snapshot",
         "INSERT INTO dbo.snapshots (instance, collector, collected_at, utc_offset_minutes, sqlserver_start_time, row_count, "
         "written_at) SELECT ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM dbo.snapshots WITH (UPDLOCK, HOLDLOCK) "
         "WHERE instance = ? AND collector = ? AND collected_at = ?)"},
        {"extend snapshot",
         "UPDATE dbo.snapshots SET row_count = ? WHERE instance = ? AND collector = ? AND collected_at = ? AND row_count <= ?"},
        {"insert sql_text",
         "INSERT INTO dbo.sql_text (hash, text, first_seen) SELECT ?, ?, ? "
         "WHERE NOT EXISTS (SELECT 1 FROM dbo.sql_text WITH (UPDLOCK, HOLDLOCK) WHERE hash = ?)"},
        {"record collector run",
         "INSERT INTO dbo.collector_runs (instance, collector, started_at, duration_ms, row_count, bytes, status, error_class, "
         "error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"},
        {"run summaries",
         "SELECT instance, collector, started_at, duration_ms, status, ISNULL(error, N'') AS error, row_count, "
         "COUNT(*) OVER (PARTITION BY instance, collector) AS runs, "
         "SUM(CASE WHEN status <> N'ok' THEN 1 ELSE 0 END) OVER (PARTITION BY instance, collector) AS failures, "
         "ROW_NUMBER() OVER (PARTITION BY instance, collector ORDER BY started_at DESC) AS rn "
         "FROM dbo.collector_runs ORDER BY instance, collector, started_at DESC"},
        {"oldest snapshot", "SELECT MIN(collected_at) AS oldest FROM dbo.snapshots WHERE collector = ? AND collected_at < ?"},
        {"oldest event", "SELECT MIN(event_time) AS oldest FROM dbo.xe_events WHERE event_time < ?"},
        {"snapshots to purge",
         "SELECT TOP (?) snapshot_id, instance, collected_at FROM dbo.snapshots WHERE collector = ? AND collected_at < ? "
         "ORDER BY collected_at"},
        {"purge snapshots", "DELETE FROM dbo.snapshots WHERE snapshot_id = ?"},
        {"purge collector_runs", "DELETE TOP (?) FROM dbo.collector_runs WHERE collector = ? AND started_at < ?"},
        // extended events (mssql_xe.cpp)
        {"read xe bookmark",
         "SELECT file_name, file_offset, events_read, event_time, event_hashes, possible_losses FROM dbo.xe_bookmarks "
         "WHERE instance = ? AND source = ?"},
        {"look up a stored report",
         "SELECT TOP (1) 1 AS found FROM dbo.blocked_process_reports WHERE instance = ? AND event_time = ? "
         "AND ISNULL(monitor_loop, -1) = ? AND ISNULL(blocked_spid, -1) = ? AND ISNULL(blocked_ecid, -1) = ?"},
        {"look up a stored deadlock",
         "SELECT TOP (1) 1 AS found FROM dbo.deadlocks WHERE instance = ? AND event_time = ? AND victims = ?"},
        {"insert xe_events",
         "INSERT INTO dbo.xe_events (" + rows::column_list(rows::kEventColumns) + ") OUTPUT inserted.event_id SELECT " +
             markers(rows::kEventColumns.size()) +
             " WHERE NOT EXISTS (SELECT 1 FROM dbo.xe_events WITH (UPDLOCK, HOLDLOCK) WHERE instance = ? AND content_hash = ?)"},
        {"insert blocked_process_reports", insert_values("blocked_process_reports", true, rows::kReportColumns)},
        {"insert deadlocks", insert_values("deadlocks", true, rows::kDeadlockColumns)},
        {"insert deadlock_processes", insert_values("deadlock_processes", true, rows::kProcessColumns)},
        {"insert deadlock_resources", insert_values("deadlock_resources", true, rows::kResourceColumns)},
        {"update xe bookmark",
         "UPDATE dbo.xe_bookmarks SET file_name = ?, file_offset = ?, events_read = events_read + ?, updated_at = ?, "
         "event_time = ?, event_hashes = ?, possible_losses = possible_losses + ? WHERE instance = ? AND source = ?"},
        {"insert xe bookmark",
         "INSERT INTO dbo.xe_bookmarks (file_name, file_offset, events_read, updated_at, event_time, event_hashes, "
         "possible_losses, instance, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"},
        {"read blocking_episodes", "SELECT MIN(start_time) AS first_start FROM dbo.blocking_episodes WHERE instance = ? AND end_time > ?"},
        {"delete blocking_episodes", "DELETE FROM dbo.blocking_episodes WHERE instance = ? AND end_time > ?"},
        {"read blocked_process_reports",
         "SELECT " + rows::column_list(rows::kEpisodeInputColumns) +
             " FROM dbo.blocked_process_reports WHERE instance = ? AND event_time >= ? "
             "AND blocked_spid IS NOT NULL AND blocking_spid IS NOT NULL"},
        {"insert blocking_episodes", insert_values("blocking_episodes", false, rows::kEpisodeColumns)},
        {"xe instances", "SELECT DISTINCT instance FROM dbo.xe_bookmarks"},
        {"events to purge",
         "SELECT TOP (?) event_id FROM dbo.xe_events WHERE instance = ? AND event_time < ? ORDER BY event_time"},
        {"events without a time to purge",
         "SELECT TOP (?) event_id FROM dbo.xe_events WHERE instance = ? AND event_time IS NULL AND collected_at < ? "
         "ORDER BY event_id"},
        {"purge blocked_process_reports", "DELETE FROM dbo.blocked_process_reports WHERE event_id = ?"},
        {"purge deadlock_processes", "DELETE FROM dbo.deadlock_processes WHERE event_id = ?"},
        {"purge deadlock_resources", "DELETE FROM dbo.deadlock_resources WHERE event_id = ?"},
        {"purge deadlocks", "DELETE FROM dbo.deadlocks WHERE event_id = ?"},
        {"purge xe_events", "DELETE FROM dbo.xe_events WHERE event_id = ?"},
        {"purge blocking_episodes", "DELETE TOP (?) FROM dbo.blocking_episodes WHERE instance = ? AND end_time < ?"},
    };
    // The episode update: every column but the key, then the key.
    std::string update = "UPDATE dbo.blocking_episodes SET ";
    bool first = true;
    for (auto c : rows::kEpisodeColumns) {
        if (c == "instance" || c == "head_spid" || c == "start_time") continue;
        update += fmt::format("{}{} = ?", first ? "" : ", ", c);
        first = false;
    }
    update += " WHERE instance = ? AND head_spid = ? AND start_time = ?";
    s.push_back({"update blocking_episodes", update});
    // Request snapshots that saw an episode's blocking live, from both request tables (one of them when only
    // one exists: live_blocking_sql below).
    for (auto& st : s) st.sql = tagged(st.sql);
    return s;
}

}  // namespace

std::string text_of(const Value& v) {
    if (const auto* s = std::get_if<std::string>(&v)) return *s;
    if (const auto* t = std::get_if<Timestamp>(&v)) return format_timestamp(*t);
    if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
    if (const auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
    if (const auto* d = std::get_if<Decimal>(&v)) return d->digits;
    return {};
}

std::int64_t int_of(const Value& v) {
    if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
    if (const auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
    if (const auto* s = std::get_if<std::string>(&v)) return std::strtoll(s->c_str(), nullptr, 10);
    if (const auto* d = std::get_if<Decimal>(&v)) return std::strtoll(d->digits.c_str(), nullptr, 10);
    return 0;
}

std::string table_name(const std::string& name) { return "dbo." + tsql::quote_identifier(name, "table name"); }

const char* column_type(collect::StorageClass s) {
    switch (s) {
        case collect::StorageClass::integer: return "bigint";
        case collect::StorageClass::real: return "float";
        case collect::StorageClass::decimal: return "decimal(38, 10)";
        case collect::StorageClass::text: return "nvarchar(max) COLLATE Latin1_General_BIN2";
        case collect::StorageClass::blob: return "varbinary(max)";
        case collect::StorageClass::timestamp: return "datetime2(7)";
    }
    return "nvarchar(max)";
}

std::string create_table(const TableSpec& t) {
    const std::string name = table_name(t.name);
    const std::string literal = tsql::quote_literal("dbo." + tsql::quote_identifier(t.name, "table name"));
    std::string ddl = fmt::format("{}IF OBJECT_ID({}, N'U') IS NULL\nCREATE TABLE {} (\n"
                                  "    instance nvarchar(128) COLLATE Latin1_General_BIN2 NOT NULL,\n"
                                  "    collected_at datetime2(7) NOT NULL,\n    utc_offset_minutes bigint NOT NULL",
                                  kTag, literal, name);
    for (const auto& c : t.columns)
        ddl += fmt::format(",\n    {} {} NULL", tsql::quote_identifier(c.name, "column name"), column_type(c.storage));
    ddl += "\n);\n";
    const std::string index = t.name + "_by_time";
    ddl += fmt::format("IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID({}) AND name = {})\n"
                       "CREATE CLUSTERED INDEX {} ON {} (instance, collected_at);\n",
                       literal, tsql::quote_literal(index), tsql::quote_identifier(index, "index name"), name);
    return ddl;
}

std::string add_column(const TableSpec& t, const ColumnSpec& c) {
    return fmt::format("{}IF COL_LENGTH({}, {}) IS NULL\nALTER TABLE {} ADD {} {} NULL;\n", kTag,
                       tsql::quote_literal("dbo." + tsql::quote_identifier(t.name, "table name")), tsql::quote_literal(c.name),
                       table_name(t.name), tsql::quote_identifier(c.name, "column name"), column_type(c.storage));
}

std::string insert_rows(const TableSpec& t, std::size_t rows) {
    std::string cols = "instance, collected_at, utc_offset_minutes";
    for (const auto& c : t.columns) cols += ", " + tsql::quote_identifier(c.name, "column name");
    const std::string one = "(" + markers(t.columns.size() + 3) + ")";
    std::string values = one;
    for (std::size_t i = 1; i < rows; ++i) values += ", " + one;
    return fmt::format("{}INSERT INTO {} ({}) VALUES {}", kTag, table_name(t.name), cols, values);
}

std::size_t rows_per_insert(const TableSpec& t) {
    return std::clamp<std::size_t>(2000 / (t.columns.size() + 3), 1, 100);
}

std::string table_exists(const std::string& table) {
    return fmt::format("{}SELECT CASE WHEN OBJECT_ID({}, N'U') IS NULL AND OBJECT_ID({}, N'V') IS NULL THEN 0 ELSE 1 END AS present",
                       kTag, tsql::quote_literal(table_name(table)), tsql::quote_literal(table_name(table)));
}

std::string delete_snapshot_rows(const std::string& table) {
    return fmt::format("{}DELETE FROM {} WHERE instance = ? AND collected_at = ?", kTag, table_name(table));
}

const std::vector<Statement>& core() {
    static const std::vector<Statement> s = build();
    return s;
}

const std::string& get(std::string_view name) {
    for (const auto& s : core())
        if (s.name == name) return s.sql;
    throw std::logic_error("no SQL Server store statement named " + std::string(name));
}

std::string all(const std::vector<TableSpec>& tables) {
    std::string out = "-- Every statement the SQL Server store sends besides its schema files; ? marks a parameter.\n";
    for (const auto& s : core()) out += fmt::format("-- {}\n{};\n", s.name, s.sql);
    out += "-- count live blocking (both request tables)\n" + std::string(kTag) +
           "SELECT COUNT(*) AS live FROM (SELECT collected_at FROM dbo.[requests_5s] WHERE instance = ? AND "
           "blocking_session_id = ? AND collected_at >= ? AND collected_at <= ? UNION SELECT collected_at FROM "
           "dbo.[requests_1m] WHERE instance = ? AND blocking_session_id = ? AND collected_at >= ? AND "
           "collected_at <= ?) AS live;\n";
    for (const auto& t : tables) {
        out += fmt::format("-- collector {}\n{}", t.collector, create_table(t));
        out += table_exists(t.name) + ";\n";
        if (!t.columns.empty()) out += add_column(t, t.columns.back());
        out += insert_rows(t, rows_per_insert(t)) + ";\n" + insert_rows(t) + ";\n" + delete_snapshot_rows(t.name) + ";\n";
    }
    return out;
}

}  // namespace dmvlog::store::mssql_sql
