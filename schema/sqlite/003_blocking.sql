-- Blocking and deadlocks from extended events (collector blocking_events). Times are UTC text like every
-- other time in the store; SQL text (input buffers) is stored once in sql_text.

-- Where reading stopped, per instance and source (the event session): written in the same transaction
-- as the events read up to it.
CREATE TABLE IF NOT EXISTS xe_bookmarks (
    instance        TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    file_name       TEXT,
    file_offset     INTEGER,
    events_read     INTEGER NOT NULL DEFAULT 0,
    updated_at      TEXT    NOT NULL,
    PRIMARY KEY (instance, source)
);

-- Every event as read, raw XML kept; parse_error is set (and the event counted) when the XML was
-- malformed or truncated. content_hash makes a re-read event land once.
CREATE TABLE IF NOT EXISTS xe_events (
    event_id        INTEGER PRIMARY KEY,
    instance        TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    event_name      TEXT    NOT NULL,
    event_time      TEXT,
    file_name       TEXT,
    file_offset     INTEGER,
    content_hash    INTEGER NOT NULL,
    raw_xml         TEXT    NOT NULL,
    parse_error     TEXT,
    collected_at    TEXT    NOT NULL,
    UNIQUE (instance, content_hash)
);
CREATE INDEX IF NOT EXISTS xe_events_by_time ON xe_events (instance, event_time);

-- One row per blocked-process report: the blocked task and its blocker at one deadlock-monitor pass.
CREATE TABLE IF NOT EXISTS blocked_process_reports (
    event_id                    INTEGER NOT NULL,
    instance                    TEXT    NOT NULL,
    event_time                  TEXT,
    monitor_loop                INTEGER,
    database_id                 INTEGER,
    object_id                   INTEGER,
    index_id                    INTEGER,
    lock_mode                   TEXT,
    duration_ms                 REAL,
    wait_resource               TEXT,
    wait_resource_type          TEXT,
    wait_database_id            INTEGER,
    wait_hobt_id                INTEGER,
    wait_object_id              INTEGER,
    blocked_spid                INTEGER,
    blocked_ecid                INTEGER,
    blocked_status              TEXT,
    blocked_wait_time_ms        INTEGER,
    blocked_lock_mode           TEXT,
    blocked_login               TEXT,
    blocked_host                TEXT,
    blocked_app                 TEXT,
    blocked_transaction_name    TEXT,
    blocked_last_tran_started   TEXT,
    blocked_isolation_level     TEXT,
    blocked_database_id         INTEGER,
    blocked_input_buffer_hash   INTEGER,
    blocked_sql_handle          TEXT,
    blocked_stmt_start          INTEGER,
    blocked_stmt_end            INTEGER,
    blocking_spid               INTEGER,
    blocking_ecid               INTEGER,
    blocking_status             TEXT,
    blocking_wait_resource      TEXT,
    blocking_login              TEXT,
    blocking_host               TEXT,
    blocking_app                TEXT,
    blocking_transaction_name   TEXT,
    blocking_last_tran_started  TEXT,
    blocking_isolation_level    TEXT,
    blocking_trancount          INTEGER,
    blocking_input_buffer_hash  INTEGER,
    blocking_sql_handle         TEXT,
    head_blocker                INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS blocked_process_reports_by_time ON blocked_process_reports (instance, event_time);

CREATE TABLE IF NOT EXISTS deadlocks (
    event_id        INTEGER NOT NULL PRIMARY KEY,
    instance        TEXT    NOT NULL,
    event_time      TEXT,
    victims         TEXT,              -- process ids, comma separated
    victim_spids    TEXT,
    process_count   INTEGER NOT NULL,
    resource_count  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS deadlocks_by_time ON deadlocks (instance, event_time);

CREATE TABLE IF NOT EXISTS deadlock_processes (
    event_id            INTEGER NOT NULL,
    instance            TEXT    NOT NULL,
    event_time          TEXT,
    process_id          TEXT,
    victim              INTEGER NOT NULL,
    spid                INTEGER,
    ecid                INTEGER,
    wait_resource       TEXT,
    lock_mode           TEXT,
    transaction_name    TEXT,
    login               TEXT,
    host                TEXT,
    app                 TEXT,
    isolation_level     TEXT,
    database_id         INTEGER,
    input_buffer_hash   INTEGER,
    sql_handle          TEXT
);
CREATE INDEX IF NOT EXISTS deadlock_processes_by_event ON deadlock_processes (event_id);

CREATE TABLE IF NOT EXISTS deadlock_resources (
    event_id        INTEGER NOT NULL,
    instance        TEXT    NOT NULL,
    event_time      TEXT,
    resource_type   TEXT    NOT NULL,
    database_id     INTEGER,
    object_name     TEXT,
    index_name      TEXT,
    mode            TEXT,
    owners          TEXT,              -- "process:mode" list, comma separated
    waiters         TEXT
);
CREATE INDEX IF NOT EXISTS deadlock_resources_by_event ON deadlock_resources (event_id);

-- Blocking episodes: consecutive deadlock-monitor passes with the same head blocker, merged.
CREATE TABLE IF NOT EXISTS blocking_episodes (
    instance                TEXT    NOT NULL,
    head_spid               INTEGER NOT NULL,
    head_last_tran_started  TEXT,
    head_status             TEXT,
    head_login              TEXT,
    head_host               TEXT,
    head_app                TEXT,
    head_transaction_name   TEXT,
    head_input_buffer_hash  INTEGER,
    start_time              TEXT    NOT NULL,  -- the first blocked task's wait began
    end_time                TEXT    NOT NULL,  -- the last report of the episode
    duration_s              REAL    NOT NULL,
    reports                 INTEGER NOT NULL,
    monitor_passes          INTEGER NOT NULL,
    sessions_blocked        INTEGER NOT NULL,  -- distinct blocked sessions
    max_sessions_blocked    INTEGER NOT NULL,  -- at the worst pass
    max_wait_ms             INTEGER NOT NULL,
    blocked_session_seconds REAL    NOT NULL,
    resources               TEXT,              -- the most waited-on resources, comma separated
    live_snapshots          INTEGER NOT NULL DEFAULT 0,  -- request snapshots that saw this blocking live
    PRIMARY KEY (instance, head_spid, start_time)
);
CREATE INDEX IF NOT EXISTS blocking_episodes_by_time ON blocking_episodes (instance, start_time, end_time);
