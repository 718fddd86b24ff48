-- Core tables of a dmvlog store (SQLite). Collector tables are created from the collector declarations
-- (collectors/*.toml); `dmvlog schema print` shows their DDL.

CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER NOT NULL PRIMARY KEY,
    applied_at  TEXT    NOT NULL,
    description TEXT    NOT NULL
);

-- One row per snapshot written: the unit of idempotency (a snapshot written twice lands once).
CREATE TABLE IF NOT EXISTS snapshots (
    snapshot_id          INTEGER PRIMARY KEY,
    instance             TEXT    NOT NULL,
    collector            TEXT    NOT NULL,
    collected_at         TEXT    NOT NULL,   -- UTC, server clock (SYSUTCDATETIME)
    utc_offset_minutes   INTEGER NOT NULL,   -- the server's offset from UTC at that moment
    sqlserver_start_time TEXT,               -- epoch of cumulative counters
    row_count            INTEGER NOT NULL,
    written_at           TEXT    NOT NULL,
    UNIQUE (instance, collector, collected_at)
);
CREATE INDEX IF NOT EXISTS snapshots_by_time ON snapshots (collector, instance, collected_at);

-- Every run of every collector, successful or not: the agent's own accounting.
CREATE TABLE IF NOT EXISTS collector_runs (
    instance     TEXT    NOT NULL,
    collector    TEXT    NOT NULL,
    started_at   TEXT    NOT NULL,   -- UTC, agent clock
    duration_ms  REAL    NOT NULL,
    row_count    INTEGER NOT NULL,
    bytes        INTEGER NOT NULL,
    status       TEXT    NOT NULL,   -- ok | failed | disabled
    error_class  TEXT,               -- transient | permission | incompatible | fatal
    error        TEXT
);
CREATE INDEX IF NOT EXISTS collector_runs_by_time ON collector_runs (collector, instance, started_at);

-- SQL text stored once, referenced by a 64-bit hash of the UTF-8 text from collector tables (NAME_hash).
CREATE TABLE IF NOT EXISTS sql_text (
    hash        INTEGER PRIMARY KEY,
    text        TEXT    NOT NULL,
    first_seen  TEXT    NOT NULL
);

-- Collector tables known to this store, with the declaration they were created from.
CREATE TABLE IF NOT EXISTS collector_tables (
    table_name  TEXT    NOT NULL PRIMARY KEY,
    collector   TEXT    NOT NULL,
    columns     TEXT    NOT NULL,    -- "name storage" list, comma separated
    updated_at  TEXT    NOT NULL
);
