// Collector declarations: data, not code. Loaded from collectors/*.toml (embedded in the binary).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"

namespace dmvlog::collect {

// The SQL Server type of a result column, as declared ("nvarchar(max)", "binary(8)", "datetime2", ...).
enum class ColumnType {
    tinyint, smallint, int_, bigint, bit, decimal, float_, real,
    nvarchar, varchar, nchar, char_, varbinary, binary,
    datetime, datetime2, datetimeoffset, date, time, xml, uniqueidentifier,
};

// How a column is kept in a store.
enum class StorageClass { integer, real, decimal, text, blob, timestamp };

struct ColumnDecl {
    std::string name;
    std::string type_text;          // as written, e.g. "nvarchar(128)"
    ColumnType type;
    int length = 0;                 // n of (n); -1 for max; 0 when not applicable; p of decimal(p,s)
    int scale = 0;                  // s of decimal(p,s)
    bool key = false;               // identifies a row within a snapshot
    bool text = false;              // stored once in sql_text, the row keeps NAME_hash
    bool counter = false;           // cumulative counter (delta analysis)
    // datetime/datetime2 values from DMVs are the server's local time; the agent stores them in UTC using
    // the snapshot's utc_offset_minutes. `utc` marks a column that is already UTC (SYSUTCDATETIME, XE times).
    bool utc = false;
    StorageClass storage() const;
    bool is_local_time() const {
        return !utc && (type == ColumnType::datetime || type == ColumnType::datetime2);
    }
};

// A column the agent computes: the statement sliced from a text column by UTF-16 byte offsets.
struct DerivedSlice {
    std::string name;               // e.g. "statement_text"; stored as text (NAME_hash)
    std::string text_column;        // e.g. "batch_text"
    std::string start_column;       // e.g. "statement_start_offset"
    std::string end_column;         // e.g. "statement_end_offset"
};

// A query file used instead of the main one on older servers.
struct SqlVariant {
    int max_version = 0;            // used on servers whose major version is at most this
    std::string sql_file;
    std::string sql;
};

// A parameter bound through ODBC (`?`), for values that are text or come from the previous run (an XE
// bookmark): declared as a T-SQL variable in the batch, never pasted into SQL text.
struct BoundParam {
    std::string name;               // used as @name in the query file
    std::string type_text;          // "nvarchar(260)", "bigint", "int"
};

struct CollectorDecl {
    std::string name;
    std::string description;
    std::string table;
    std::string declaration_file;   // e.g. "collectors/requests.toml"
    std::string sql_file;           // e.g. "sql/collectors/requests.sql"
    std::string sql;                // the query file's text
    std::string scope = "server";   // "server" or "database"
    int min_version = 13;           // major version (13 = 2016, 14 = 2017, 15 = 2019, 16 = 2022)
    std::chrono::milliseconds interval{60000};
    std::chrono::milliseconds timeout{30000};   // declared default: 30s, or the interval when that is shorter
    std::chrono::seconds retention{30 * 86400};
    std::vector<std::pair<std::string, long long>> params;  // in declaration order
    std::vector<std::string> runtime_params;                // computed per run by the agent ("since_ms")
    std::vector<BoundParam> bound_params;                   // bound per run (XE kinds: session, path, bookmark)
    // "rows" (generic), or an extended-events kind: "xe_file" (an event_file target, read from a bookmark) or
    // "xe_ring_buffer" (a ring_buffer target's XML). XE kinds write the tables of schema/sqlite/003_blocking.sql.
    std::string kind = "rows";
    // XE kinds: the event session read; "" = from [xe]: session (xe_file) or ring_buffer_session (xe_ring_buffer).
    std::string xe_session;
    // XE kinds: true = read only while dmvlog's own session ([xe] session) is not running (docs/xe.md, "Fallbacks").
    bool fallback = false;
    bool is_xe() const { return kind == "xe_file" || kind == "xe_ring_buffer"; }
    std::vector<SqlVariant> variants;                       // in declaration order; first match wins
    std::chrono::milliseconds budget{0};                    // what one run may cost; 0 = a tenth of the interval
    bool on_connect = false;                                // also run right after each (re)connect
    std::vector<ColumnDecl> columns;
    std::vector<DerivedSlice> derived;
    bool enabled = true;
    int line = 0;                   // where its [[collector]] table starts in declaration_file
};

// Loads every declaration from the embedded collectors/*.toml and sql/collectors/*.sql.
// Throws std::runtime_error naming the file:line and problem for a bad declaration.
std::vector<CollectorDecl> load_builtin();

// Loads declarations from several files (path, TOML text) and checks names and tables are unique across
// them; load_builtin() calls it with the embedded collectors/*.toml. Exposed for tests.
std::vector<CollectorDecl> load_declarations(const std::vector<std::pair<std::string, std::string>>& files);

// Loads declarations from a TOML text (file is the path used in messages and to locate sql); sql files are
// looked up among the embedded files. Exposed for tests.
std::vector<CollectorDecl> parse_declaration(std::string_view toml_text, const std::string& file);

// Applies [collectors.NAME] overrides from the configuration (enabled, interval, timeout, retention, params).
// Throws config::ConfigError for an override of an undeclared collector or param (at CollectorOverride::line).
// When warnings is given, appends a message for each collector whose timeout ends up longer than its interval.
void apply_overrides(std::vector<CollectorDecl>& decls, const config::Config& cfg,
                     std::vector<std::string>* warnings = nullptr);

// The names of decls, in order (for config::load_file's known_collectors).
std::vector<std::string> collector_names(const std::vector<CollectorDecl>& decls);

// The batch the agent sends for one run, as docs/design.md specifies: tag line, DECLARE line for params,
// the snapshot clock select, then the query file verbatim.
std::string assemble_batch(const CollectorDecl& decl);

// What varies between runs of one collector.
struct BatchContext {
    int server_major_version = 0;                 // 0 = unknown: the main query file
    std::string database;                         // scope "database": the database to USE ("" = none)
    std::vector<std::pair<std::string, long long>> runtime;  // values of runtime params (missing: a default)
};

// The batch for one run: tag, DECLARE (params and runtime params), USE [database] for per-database
// collectors, the clock select, then the query file chosen for the server's version.
std::string assemble_batch(const CollectorDecl& decl, const BatchContext& ctx);

// The query file used on a server of this major version (0 = unknown: the main file).
const std::string& sql_for_version(const CollectorDecl& decl, int major_version);

// [name] with ] doubled, for a database name; throws std::invalid_argument for an empty name, a name longer
// than 128 characters or one with control characters.
std::string quote_name(std::string_view name);

// Runtime params the agent knows how to compute.
inline const std::vector<std::string>& known_runtime_params() {
    static const std::vector<std::string> names = {"since_ms"};
    return names;
}

// Parses "name type [flags]". Throws std::invalid_argument with a message naming the problem.
// Types: tinyint smallint int bigint bit decimal(p[,s]) numeric(p[,s]) float real nvarchar(n|max)
// varchar(n|max) nchar(n) char(n) varbinary(n|max) binary(n) datetime smalldatetime datetime2[(n)]
// datetimeoffset[(n)] date time[(n)] xml uniqueidentifier sysname (= nvarchar(128)).
// Flags: key; text (character types and xml only); counter (integer, decimal and float types only).
ColumnDecl parse_column(std::string_view spec);

}  // namespace dmvlog::collect
