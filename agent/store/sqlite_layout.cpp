#include "agent/store/sqlite_layout.h"

#include <algorithm>
#include <fmt/format.h>

#include "agent/store/schema_files.h"

namespace dmvlog::store::sqlite_layout {

const char* column_type(const ColumnSpec& c) {
    if (c.dictionary) return "INTEGER";
    switch (c.storage) {
        case collect::StorageClass::integer: return "INTEGER";
        case collect::StorageClass::real: return "REAL";
        case collect::StorageClass::decimal: return "NUMERIC";
        case collect::StorageClass::text: return "TEXT";
        case collect::StorageClass::blob: return "BLOB";
        case collect::StorageClass::timestamp: return "INTEGER";
    }
    return "TEXT";
}

std::string data_table(const std::string& table) { return table + "_data"; }

std::string text_of_ticks(const std::string& x) {
    // floor division, so that times before 1970 come out right too
    const std::string frac = fmt::format("((({0} % 10000000) + 10000000) % 10000000)", x);
    return fmt::format("strftime('%Y-%m-%d %H:%M:%S', ({0} - {1}) / 10000000, 'unixepoch') || '.' || substr({1} + 10000000, 2)",
                       x, frac);
}

std::string ticks_of_text(const std::string& x) {
    return fmt::format("(CAST(strftime('%s', substr({0}, 1, 19)) AS INTEGER) * 10000000 + "
                       "CAST(substr({0} || '0000000', 21, 7) AS INTEGER))",
                       x);
}

std::string data_ddl(const TableSpec& t) {
    const std::string data = data_table(t.name);
    std::string ddl = fmt::format("CREATE TABLE IF NOT EXISTS {} (\n    snapshot_id INTEGER NOT NULL", quote_ident(data));
    std::string note = "snapshots.snapshot_id";
    for (const auto& c : t.columns) {
        ddl += fmt::format(",{}\n    {} {}", note.empty() ? "" : "  -- " + note, quote_ident(c.name), column_type(c));
        note = c.dictionary ? "dictionary.id"
               : c.storage == collect::StorageClass::timestamp ? "100 ns ticks since 1970-01-01 UTC"
                                                                : "";
    }
    ddl += (note.empty() ? "" : "   -- " + note) + "\n);\n";
    ddl += fmt::format("CREATE INDEX IF NOT EXISTS {} ON {} (snapshot_id);\n", quote_ident(data + "_by_snapshot"),
                       quote_ident(data));
    return ddl;
}

std::string view_ddl(const TableSpec& t, const std::vector<std::string>& collectors) {
    std::string out = fmt::format("DROP VIEW IF EXISTS {};\nCREATE VIEW {} AS\nSELECT s.instance AS instance, "
                                  "s.collected_at AS collected_at, s.utc_offset_minutes AS utc_offset_minutes",
                                  quote_ident(t.name), quote_ident(t.name));
    for (const auto& c : t.columns) {
        const std::string col = "d." + quote_ident(c.name);
        std::string expr;
        if (c.dictionary) expr = fmt::format("(SELECT value FROM dictionary WHERE id = {})", col);
        else if (c.storage == collect::StorageClass::timestamp) expr = text_of_ticks(col);
        else expr = col;
        out += fmt::format(",\n       {} AS {}", expr, quote_ident(c.name));
    }
    std::string in;
    for (const auto& name : collectors) in += (in.empty() ? "" : ", ") + quote_literal(name);
    out += fmt::format("\nFROM {} AS d JOIN snapshots AS s ON s.snapshot_id = d.snapshot_id", quote_ident(data_table(t.name)));
    if (!in.empty()) out += fmt::format(" AND s.collector IN ({})", in);
    out += ";\n";
    return out;
}

std::string migrate_sql(const TableSpec& t, const std::string& collector, const std::vector<std::string>& old_columns) {
    const std::string old = quote_ident(t.name);
    auto has = [&](const std::string& c) { return std::find(old_columns.begin(), old_columns.end(), c) != old_columns.end(); };
    std::string out;
    // Snapshot rows for rows that lack one (written before snapshots existed, or left by an interrupted purge).
    out += fmt::format("INSERT OR IGNORE INTO snapshots (instance, collector, collected_at, utc_offset_minutes, row_count, "
                       "written_at)\nSELECT instance, {0}, collected_at, max(utc_offset_minutes), count(*), {1} FROM {2} "
                       "GROUP BY instance, collected_at;\n",
                       quote_literal(collector), quote_literal(now_text()), old);
    for (const auto& c : t.columns)
        if (c.dictionary && has(c.name))
            out += fmt::format("INSERT OR IGNORE INTO dictionary (value, last_used) SELECT DISTINCT {0}, "
                               "CAST(julianday('now') - 2440587.5 AS INTEGER) FROM {1} WHERE {0} IS NOT NULL;\n",
                               quote_ident(c.name), old);
    std::string cols = "snapshot_id", vals = "s.snapshot_id";
    for (const auto& c : t.columns) {
        if (!has(c.name)) continue;
        const std::string o = "o." + quote_ident(c.name);
        cols += ", " + quote_ident(c.name);
        if (c.dictionary) vals += fmt::format(", (SELECT id FROM dictionary WHERE value = {})", o);
        else if (c.storage == collect::StorageClass::timestamp) vals += ", " + ticks_of_text(o);
        else vals += ", " + o;
    }
    out += fmt::format("INSERT INTO {} ({})\nSELECT {} FROM {} AS o JOIN snapshots AS s ON s.instance = o.instance "
                       "AND s.collector = {} AND s.collected_at = o.collected_at ORDER BY o.rowid;\n",
                       quote_ident(data_table(t.name)), cols, vals, old, quote_literal(collector));
    out += fmt::format("DROP TABLE {};\n", old);
    return out;
}

}  // namespace dmvlog::store::sqlite_layout
