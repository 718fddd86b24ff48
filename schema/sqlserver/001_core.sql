/* dmvlog:store */
-- Core tables of a dmvlog store (SQL Server): the same tables, columns and version numbers as the SQLite and
-- PostgreSQL stores (schema/sqlite/, schema/postgres/). Times are UTC datetime2(7). Text is nvarchar with
-- a binary collation, so that it compares and sorts exactly as in the other stores whatever the database's
-- collation. Collector tables are created from the collector declarations (collectors/*.toml);
-- `dmvlog schema print --store sqlserver:...` shows their DDL. Every statement is idempotent: a file is run
-- again after a failed upgrade without harm.

IF OBJECT_ID(N'dbo.schema_version', N'U') IS NULL
CREATE TABLE dbo.schema_version (
    version     bigint NOT NULL,
    applied_at  datetime2(7) NOT NULL,
    description nvarchar(400) COLLATE Latin1_General_BIN2 NOT NULL,
    CONSTRAINT schema_version_pk PRIMARY KEY (version)
);

-- One row per snapshot written: the unit of idempotency (a snapshot written twice lands once).
IF OBJECT_ID(N'dbo.snapshots', N'U') IS NULL
CREATE TABLE dbo.snapshots (
    snapshot_id          bigint IDENTITY(1,1) NOT NULL,
    instance             nvarchar(128) COLLATE Latin1_General_BIN2 NOT NULL,
    collector            nvarchar(128) COLLATE Latin1_General_BIN2 NOT NULL,
    collected_at         datetime2(7) NOT NULL,
    utc_offset_minutes   bigint NOT NULL,
    sqlserver_start_time datetime2(7) NULL,
    row_count            bigint NOT NULL,
    written_at           datetime2(7) NOT NULL,
    CONSTRAINT snapshots_pk PRIMARY KEY NONCLUSTERED (snapshot_id),
    CONSTRAINT snapshots_key UNIQUE CLUSTERED (instance, collector, collected_at)
);

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'dbo.snapshots') AND name = N'snapshots_by_time')
CREATE INDEX snapshots_by_time ON dbo.snapshots (collector, instance, collected_at);

-- Every run of every collector, successful or not: the agent's own accounting.
IF OBJECT_ID(N'dbo.collector_runs', N'U') IS NULL
CREATE TABLE dbo.collector_runs (
    instance     nvarchar(128) COLLATE Latin1_General_BIN2 NOT NULL,
    collector    nvarchar(128) COLLATE Latin1_General_BIN2 NOT NULL,
    started_at   datetime2(7) NOT NULL,
    duration_ms  float NOT NULL,
    row_count    bigint NOT NULL,
    bytes        bigint NOT NULL,
    status       nvarchar(32) COLLATE Latin1_General_BIN2 NOT NULL,
    error_class  nvarchar(32) COLLATE Latin1_General_BIN2 NULL,
    error        nvarchar(max) COLLATE Latin1_General_BIN2 NULL
);

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'dbo.collector_runs') AND name = N'collector_runs_by_time')
CREATE CLUSTERED INDEX collector_runs_by_time ON dbo.collector_runs (collector, instance, started_at);

-- SQL text stored once, referenced by a 64-bit hash of the UTF-8 text from collector tables (NAME_hash).
IF OBJECT_ID(N'dbo.sql_text', N'U') IS NULL
CREATE TABLE dbo.sql_text (
    hash        bigint NOT NULL,
    text        nvarchar(max) COLLATE Latin1_General_BIN2 NOT NULL,
    first_seen  datetime2(7) NOT NULL,
    CONSTRAINT sql_text_pk PRIMARY KEY (hash)
);

-- Collector tables known to this store, with the declaration they were created from.
IF OBJECT_ID(N'dbo.collector_tables', N'U') IS NULL
CREATE TABLE dbo.collector_tables (
    table_name  nvarchar(128) COLLATE Latin1_General_BIN2 NOT NULL,
    collector   nvarchar(128) COLLATE Latin1_General_BIN2 NOT NULL,
    columns     nvarchar(max) COLLATE Latin1_General_BIN2 NOT NULL,
    updated_at  datetime2(7) NOT NULL,
    CONSTRAINT collector_tables_pk PRIMARY KEY (table_name)
);
