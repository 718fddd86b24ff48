-- dmvlog:after-collector-tables
-- Friendly views for a DBA's own SQL tool (docs/views.md has example questions): the same views, columns and
-- rows as the SQLite store's (schema/sqlite/002_views.sql). They are not a migration: the store applies this
-- file after creating the collector tables, on every install, block by block; a block runs only when the
-- tables named on its "-- requires:" line exist. Views are created or replaced (not dropped, so that views of
-- your own over them stay), so a new version of dmvlog replaces their definitions; one that changes a view's
-- columns must drop it first. The version is recorded like a migration's, so that both stores count versions
-- alike.
--
-- Times are UTC text ('YYYY-MM-DD HH:MM:SS.fffffff', COLLATE "C"); compare them with text of the same shape.
-- Delta views give one row per observation with the difference from the previous observation of the same
-- thing; sum the rows of a window to get its total (docs/views.md shows how, and docs/analysis.md why).
-- Differences from the SQLite text: IS DISTINCT FROM for SQLite's IS NOT, and the plan lifetime's local
-- creation time computed with PostgreSQL's date functions to the same text as SQLite's strftime.

-- requires: requests_5s, requests_1m
-- Every request seen by either requests collector, with its statement text.
CREATE OR REPLACE VIEW requests_log AS
SELECT r.instance, r.collected_at, text 'requests_5s' COLLATE "C" AS source, r.session_id, r.request_id,
       r.start_time, r.status, r.database_name, r.blocking_session_id AS blocked_by, r.wait_type,
       r.wait_time AS wait_ms, r.cpu_time AS cpu_ms, r.total_elapsed_time AS elapsed_ms, r.logical_reads,
       r.login_name, r.host_name, r.program_name, r.query_hash, t.text AS statement
FROM requests_5s AS r LEFT JOIN sql_text AS t ON t.hash = r.statement_text_hash
UNION ALL
SELECT r.instance, r.collected_at, 'requests_1m', r.session_id, r.request_id, r.start_time, r.status,
       r.database_name, r.blocking_session_id, r.wait_type, r.wait_time, r.cpu_time, r.total_elapsed_time,
       r.logical_reads, r.login_name, r.host_name, r.program_name, r.query_hash, t.text
FROM requests_1m AS r LEFT JOIN sql_text AS t ON t.hash = r.statement_text_hash;

-- Requests that were blocked, with the blocker's request in the same snapshot when it had one.
CREATE OR REPLACE VIEW blocked_requests AS
SELECT b.instance, b.collected_at, b.source, b.session_id, b.blocked_by, b.wait_type, b.wait_ms, b.elapsed_ms,
       b.login_name, b.statement, h.status AS blocker_status, h.login_name AS blocker_login,
       h.statement AS blocker_statement
FROM requests_log AS b
LEFT JOIN requests_log AS h
       ON h.instance = b.instance AND h.collected_at = b.collected_at AND h.source = b.source
      AND h.session_id = b.blocked_by
WHERE b.blocked_by <> 0 AND b.blocked_by <> b.session_id;

-- requires: query_stats, query_stats_full
-- One row per plan-cache observation (minute and hourly collectors) with the difference from the previous
-- observation of the same plan lifetime (plan_handle, statement offsets, creation_time as the server's local
-- time). first_seen = 1: no earlier observation; the row's values are then the totals since creation_time.
-- Window [S, E): sum the rows with S < collected_at < E, plus the first_seen rows with creation_time >= S
-- (docs/views.md). Times in microseconds, reads and writes in pages, grants in KB.
-- creation_local is the text of SQLite's strftime('%Y-%m-%d %H:%M:%f', creation_time, N || ' minutes'), computed
-- as SQLite does it: the seconds (with their fraction) as a double, times 1000, plus 0.5, truncated to whole
-- milliseconds; then the offset added and the result written with 3 fraction digits.
CREATE OR REPLACE VIEW query_stats_delta AS
WITH raw AS (
    SELECT instance, collected_at, utc_offset_minutes, plan_handle, statement_start_offset, statement_end_offset,
           creation_time, query_hash, query_plan_hash, statement_text_hash, execution_count, total_worker_time,
           total_elapsed_time, total_logical_reads, total_physical_reads, total_logical_writes, total_grant_kb,
           total_spills
    FROM query_stats
    UNION ALL
    SELECT instance, collected_at, utc_offset_minutes, plan_handle, statement_start_offset, statement_end_offset,
           creation_time, query_hash, query_plan_hash, statement_text_hash, execution_count, total_worker_time,
           total_elapsed_time, total_logical_reads, total_physical_reads, total_logical_writes, total_grant_kb,
           total_spills
    FROM query_stats_full
), obs AS (
    SELECT raw.*,
           to_char(left(creation_time, 16)::timestamp
                   + floor((substr(creation_time, 18, 2)::float8
                            + coalesce(nullif(substr(creation_time, 21), '')::float8
                                       / 10::float8 ^ length(substr(creation_time, 21)), 0)) * 1000 + 0.5)
                     * interval '1 millisecond'
                   + make_interval(mins => utc_offset_minutes::int),
                   'YYYY-MM-DD HH24:MI:SS.MS') COLLATE "C" AS creation_local
    FROM raw
), lagged AS (
    SELECT obs.*,
           lag(execution_count) OVER w AS p_exec, lag(total_worker_time) OVER w AS p_cpu,
           lag(total_elapsed_time) OVER w AS p_dur, lag(total_logical_reads) OVER w AS p_lr,
           lag(total_physical_reads) OVER w AS p_pr, lag(total_logical_writes) OVER w AS p_wr,
           lag(total_grant_kb) OVER w AS p_gr, lag(total_spills) OVER w AS p_sp
    FROM obs
    WINDOW w AS (PARTITION BY instance, plan_handle, statement_start_offset, statement_end_offset, creation_local
                 ORDER BY collected_at)
)
SELECT instance, collected_at, query_hash, query_plan_hash, creation_time,
       CASE WHEN p_exec IS NULL THEN 1 ELSE 0 END AS first_seen,
       CASE WHEN p_exec IS NULL THEN execution_count WHEN execution_count > p_exec THEN execution_count - p_exec ELSE 0 END AS executions,
       CASE WHEN p_exec IS NULL THEN total_worker_time WHEN total_worker_time > p_cpu THEN total_worker_time - p_cpu ELSE 0 END AS cpu_us,
       CASE WHEN p_exec IS NULL THEN total_elapsed_time WHEN total_elapsed_time > p_dur THEN total_elapsed_time - p_dur ELSE 0 END AS duration_us,
       CASE WHEN p_exec IS NULL THEN total_logical_reads WHEN total_logical_reads > p_lr THEN total_logical_reads - p_lr ELSE 0 END AS logical_reads,
       CASE WHEN p_exec IS NULL THEN total_physical_reads WHEN total_physical_reads > p_pr THEN total_physical_reads - p_pr ELSE 0 END AS physical_reads,
       CASE WHEN p_exec IS NULL THEN total_logical_writes WHEN total_logical_writes > p_wr THEN total_logical_writes - p_wr ELSE 0 END AS writes,
       CASE WHEN p_exec IS NULL THEN total_grant_kb WHEN total_grant_kb > p_gr THEN total_grant_kb - p_gr ELSE 0 END AS grant_kb,
       CASE WHEN p_exec IS NULL THEN total_spills WHEN total_spills > p_sp THEN total_spills - p_sp ELSE 0 END AS spills,
       statement_text_hash
FROM lagged;

-- requires: wait_stats
-- One row per wait type per snapshot: the difference from the previous snapshot that listed it, within one
-- epoch (sqlserver_start_time). reset = 1: a restart or a decrease (DBCC SQLPERF CLEAR); the new value counts.
-- first_seen = 1: not listed before (it was zero, or this is the store's first snapshot of the instance).
CREATE OR REPLACE VIEW waits_delta AS
WITH obs AS (
    SELECT w.instance, w.collected_at, s.sqlserver_start_time AS epoch, w.wait_type, w.wait_time_ms,
           w.signal_wait_time_ms, w.waiting_tasks_count,
           lag(w.wait_time_ms) OVER p AS p_wait, lag(w.signal_wait_time_ms) OVER p AS p_signal,
           lag(w.waiting_tasks_count) OVER p AS p_count, lag(s.sqlserver_start_time) OVER p AS p_epoch
    FROM wait_stats AS w
    LEFT JOIN snapshots AS s
           ON s.instance = w.instance AND s.collector = 'wait_stats' AND s.collected_at = w.collected_at
    WINDOW p AS (PARTITION BY w.instance, w.wait_type ORDER BY w.collected_at)
)
SELECT instance, collected_at, wait_type,
       CASE WHEN p_wait IS NULL THEN 1 ELSE 0 END AS first_seen,
       CASE WHEN p_wait IS NOT NULL AND (epoch IS DISTINCT FROM p_epoch OR wait_time_ms < p_wait) THEN 1 ELSE 0 END AS reset,
       CASE WHEN p_wait IS NULL OR epoch IS DISTINCT FROM p_epoch OR wait_time_ms < p_wait THEN wait_time_ms
            ELSE wait_time_ms - p_wait END AS wait_ms,
       CASE WHEN p_wait IS NULL OR epoch IS DISTINCT FROM p_epoch OR wait_time_ms < p_wait THEN signal_wait_time_ms
            ELSE signal_wait_time_ms - p_signal END AS signal_ms,
       CASE WHEN p_wait IS NULL OR epoch IS DISTINCT FROM p_epoch OR wait_time_ms < p_wait THEN waiting_tasks_count
            ELSE waiting_tasks_count - p_count END AS waits
FROM obs;

-- requires: file_io
-- One row per database file per snapshot: I/O since the previous snapshot (same rules as waits_delta).
CREATE OR REPLACE VIEW file_io_delta AS
WITH obs AS (
    SELECT f.instance, f.collected_at, s.sqlserver_start_time AS epoch, f.database_name, f.name AS file_name,
           f.type_desc, f.num_of_reads, f.num_of_bytes_read, f.io_stall_read_ms, f.num_of_writes,
           f.num_of_bytes_written, f.io_stall_write_ms,
           lag(f.num_of_reads) OVER p AS p_reads, lag(f.num_of_bytes_read) OVER p AS p_rbytes,
           lag(f.io_stall_read_ms) OVER p AS p_rstall, lag(f.num_of_writes) OVER p AS p_writes,
           lag(f.num_of_bytes_written) OVER p AS p_wbytes, lag(f.io_stall_write_ms) OVER p AS p_wstall,
           lag(s.sqlserver_start_time) OVER p AS p_epoch
    FROM file_io AS f
    LEFT JOIN snapshots AS s
           ON s.instance = f.instance AND s.collector = 'file_io' AND s.collected_at = f.collected_at
    WINDOW p AS (PARTITION BY f.instance, f.database_id, f.file_id ORDER BY f.collected_at)
), d AS (
    SELECT *, CASE WHEN p_reads IS NULL OR epoch IS DISTINCT FROM p_epoch OR num_of_reads < p_reads
                     OR num_of_writes < p_writes THEN 1 ELSE 0 END AS fresh
    FROM obs
)
SELECT instance, collected_at, database_name, file_name, type_desc,
       CASE WHEN p_reads IS NULL THEN 1 ELSE 0 END AS first_seen,
       CASE WHEN fresh = 1 THEN num_of_reads ELSE num_of_reads - p_reads END AS reads,
       CASE WHEN fresh = 1 THEN num_of_bytes_read ELSE num_of_bytes_read - p_rbytes END AS read_bytes,
       CASE WHEN fresh = 1 THEN io_stall_read_ms ELSE io_stall_read_ms - p_rstall END AS read_stall_ms,
       CASE WHEN fresh = 1 THEN num_of_writes ELSE num_of_writes - p_writes END AS writes,
       CASE WHEN fresh = 1 THEN num_of_bytes_written ELSE num_of_bytes_written - p_wbytes END AS write_bytes,
       CASE WHEN fresh = 1 THEN io_stall_write_ms ELSE io_stall_write_ms - p_wstall END AS write_stall_ms
FROM d;
