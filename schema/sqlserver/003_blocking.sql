/* dmvlog:store */
-- Blocking and deadlocks from extended events (collector blocking_events). Times are UTC datetime2(7), except
-- the last_tran_started columns, which keep the report's text when it is not a time; SQL text (input buffers) is stored once in sql_text.

-- Where reading stopped, per instance and source (the event session): written in the same transaction
-- as the events read up to it.
IF OBJECT_ID(N'dbo.xe_bookmarks', N'U') IS NULL
CREATE TABLE dbo.xe_bookmarks (
    instance        nvarchar(128) COLLATE Latin1_General_BIN2 NOT NULL,
    source          nvarchar(128) COLLATE Latin1_General_BIN2 NOT NULL,
    file_name       nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    file_offset     bigint NULL,
    events_read     bigint NOT NULL CONSTRAINT xe_bookmarks_events_read_default DEFAULT 0,
    updated_at      datetime2(7) NOT NULL,
    CONSTRAINT xe_bookmarks_pk PRIMARY KEY (instance, source)
);

-- Every event as read, raw XML kept; parse_error is set (and the event counted) when the XML was
-- malformed or truncated. content_hash makes a re-read event land once.
IF OBJECT_ID(N'dbo.xe_events', N'U') IS NULL
CREATE TABLE dbo.xe_events (
    event_id        bigint IDENTITY(1,1) NOT NULL,
    instance        nvarchar(128) COLLATE Latin1_General_BIN2 NOT NULL,
    source          nvarchar(128) COLLATE Latin1_General_BIN2 NOT NULL,
    event_name      nvarchar(128) COLLATE Latin1_General_BIN2 NOT NULL,
    event_time      datetime2(7) NULL,
    file_name       nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    file_offset     bigint NULL,
    content_hash    bigint NOT NULL,
    raw_xml         nvarchar(max) COLLATE Latin1_General_BIN2 NOT NULL,
    parse_error     nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    collected_at    datetime2(7) NOT NULL,
    CONSTRAINT xe_events_pk PRIMARY KEY (event_id),
    CONSTRAINT xe_events_key UNIQUE (instance, content_hash)
);

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'dbo.xe_events') AND name = N'xe_events_by_time')
CREATE INDEX xe_events_by_time ON dbo.xe_events (instance, event_time);

-- One row per blocked-process report: the blocked task and its blocker at one deadlock-monitor pass.
IF OBJECT_ID(N'dbo.blocked_process_reports', N'U') IS NULL
CREATE TABLE dbo.blocked_process_reports (
    event_id                    bigint NOT NULL,
    instance                    nvarchar(128) COLLATE Latin1_General_BIN2 NOT NULL,
    event_time                  datetime2(7) NULL,
    monitor_loop                bigint NULL,
    database_id                 bigint NULL,
    object_id                   bigint NULL,
    index_id                    bigint NULL,
    lock_mode                   nvarchar(256) COLLATE Latin1_General_BIN2 NULL,
    duration_ms                 float NULL,
    wait_resource               nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    wait_resource_type          nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    wait_database_id            bigint NULL,
    wait_hobt_id                bigint NULL,
    wait_object_id              bigint NULL,
    blocked_spid                bigint NULL,
    blocked_ecid                bigint NULL,
    blocked_status              nvarchar(256) COLLATE Latin1_General_BIN2 NULL,
    blocked_wait_time_ms        bigint NULL,
    blocked_lock_mode           nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    blocked_login               nvarchar(256) COLLATE Latin1_General_BIN2 NULL,
    blocked_host                nvarchar(256) COLLATE Latin1_General_BIN2 NULL,
    blocked_app                 nvarchar(256) COLLATE Latin1_General_BIN2 NULL,
    blocked_transaction_name    nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    blocked_last_tran_started   nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    blocked_isolation_level     nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    blocked_database_id         bigint NULL,
    blocked_input_buffer_hash   bigint NULL,
    blocked_sql_handle          nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    blocked_stmt_start          bigint NULL,
    blocked_stmt_end            bigint NULL,
    blocking_spid               bigint NULL,
    blocking_ecid               bigint NULL,
    blocking_status             nvarchar(256) COLLATE Latin1_General_BIN2 NULL,
    blocking_wait_resource      nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    blocking_login              nvarchar(256) COLLATE Latin1_General_BIN2 NULL,
    blocking_host               nvarchar(256) COLLATE Latin1_General_BIN2 NULL,
    blocking_app                nvarchar(256) COLLATE Latin1_General_BIN2 NULL,
    blocking_transaction_name   nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    blocking_last_tran_started  nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    blocking_isolation_level    nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    blocking_trancount          bigint NULL,
    blocking_input_buffer_hash  bigint NULL,
    blocking_sql_handle         nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    head_blocker                bigint NOT NULL
);

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'dbo.blocked_process_reports') AND name = N'blocked_process_reports_by_time')
CREATE INDEX blocked_process_reports_by_time ON dbo.blocked_process_reports (instance, event_time);

IF OBJECT_ID(N'dbo.deadlocks', N'U') IS NULL
CREATE TABLE dbo.deadlocks (
    event_id        bigint NOT NULL,
    instance        nvarchar(128) COLLATE Latin1_General_BIN2 NOT NULL,
    event_time      datetime2(7) NULL,
    victims         nvarchar(max) COLLATE Latin1_General_BIN2 NULL,              -- process ids, comma separated
    victim_spids    nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    process_count   bigint NOT NULL,
    resource_count  bigint NOT NULL,
    CONSTRAINT deadlocks_pk PRIMARY KEY (event_id)
);

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'dbo.deadlocks') AND name = N'deadlocks_by_time')
CREATE INDEX deadlocks_by_time ON dbo.deadlocks (instance, event_time);

IF OBJECT_ID(N'dbo.deadlock_processes', N'U') IS NULL
CREATE TABLE dbo.deadlock_processes (
    event_id            bigint NOT NULL,
    instance            nvarchar(128) COLLATE Latin1_General_BIN2 NOT NULL,
    event_time          datetime2(7) NULL,
    process_id          nvarchar(256) COLLATE Latin1_General_BIN2 NULL,
    victim              bigint NOT NULL,
    spid                bigint NULL,
    ecid                bigint NULL,
    wait_resource       nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    lock_mode           nvarchar(256) COLLATE Latin1_General_BIN2 NULL,
    transaction_name    nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    login               nvarchar(256) COLLATE Latin1_General_BIN2 NULL,
    host                nvarchar(256) COLLATE Latin1_General_BIN2 NULL,
    app                 nvarchar(256) COLLATE Latin1_General_BIN2 NULL,
    isolation_level     nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    database_id         bigint NULL,
    input_buffer_hash   bigint NULL,
    sql_handle          nvarchar(max) COLLATE Latin1_General_BIN2 NULL
);

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'dbo.deadlock_processes') AND name = N'deadlock_processes_by_event')
CREATE INDEX deadlock_processes_by_event ON dbo.deadlock_processes (event_id);

IF OBJECT_ID(N'dbo.deadlock_resources', N'U') IS NULL
CREATE TABLE dbo.deadlock_resources (
    event_id        bigint NOT NULL,
    instance        nvarchar(128) COLLATE Latin1_General_BIN2 NOT NULL,
    event_time      datetime2(7) NULL,
    resource_type   nvarchar(256) COLLATE Latin1_General_BIN2 NOT NULL,
    database_id     bigint NULL,
    object_name     nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    index_name      nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    mode            nvarchar(256) COLLATE Latin1_General_BIN2 NULL,
    owners          nvarchar(max) COLLATE Latin1_General_BIN2 NULL,              -- "process:mode" list, comma separated
    waiters         nvarchar(max) COLLATE Latin1_General_BIN2 NULL
);

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'dbo.deadlock_resources') AND name = N'deadlock_resources_by_event')
CREATE INDEX deadlock_resources_by_event ON dbo.deadlock_resources (event_id);

-- Blocking episodes: consecutive deadlock-monitor passes with the same head blocker, merged.
IF OBJECT_ID(N'dbo.blocking_episodes', N'U') IS NULL
CREATE TABLE dbo.blocking_episodes (
    instance                nvarchar(128) COLLATE Latin1_General_BIN2 NOT NULL,
    head_spid               bigint NOT NULL,
    head_last_tran_started  nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    head_status             nvarchar(256) COLLATE Latin1_General_BIN2 NULL,
    head_login              nvarchar(256) COLLATE Latin1_General_BIN2 NULL,
    head_host               nvarchar(256) COLLATE Latin1_General_BIN2 NULL,
    head_app                nvarchar(256) COLLATE Latin1_General_BIN2 NULL,
    head_transaction_name   nvarchar(max) COLLATE Latin1_General_BIN2 NULL,
    head_input_buffer_hash  bigint NULL,
    start_time              datetime2(7) NOT NULL,  -- the first blocked task's wait began
    end_time                datetime2(7) NOT NULL,  -- the last report of the episode
    duration_s              float NOT NULL,
    reports                 bigint NOT NULL,
    monitor_passes          bigint NOT NULL,
    sessions_blocked        bigint NOT NULL,  -- distinct blocked sessions
    max_sessions_blocked    bigint NOT NULL,  -- at the worst pass
    max_wait_ms             bigint NOT NULL,
    blocked_session_seconds float NOT NULL,
    resources               nvarchar(max) COLLATE Latin1_General_BIN2 NULL,              -- the most waited-on resources, comma separated
    live_snapshots          bigint NOT NULL CONSTRAINT blocking_episodes_live_snapshots_default DEFAULT 0,  -- request snapshots that saw this blocking live
    CONSTRAINT blocking_episodes_pk PRIMARY KEY (instance, head_spid, start_time)
);

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'dbo.blocking_episodes') AND name = N'blocking_episodes_by_time')
CREATE INDEX blocking_episodes_by_time ON dbo.blocking_episodes (instance, start_time, end_time);

