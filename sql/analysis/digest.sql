-- digest: the blocking digest's reads (agent/digest/build.cpp). Times are store text (UTC); windows are
-- half-open [:from, :to). Reports are read with a margin around the window so that an episode crossing a
-- boundary is built whole, then clipped to the window.

-- name: reports
SELECT event_time, monitor_loop, blocked_spid, blocked_wait_time_ms, wait_resource, blocking_spid,
       blocking_last_tran_started, blocking_status, blocking_login, blocking_host, blocking_app,
       blocking_transaction_name, blocking_input_buffer_hash, blocked_input_buffer_hash, blocked_login,
       blocked_app, blocked_lock_mode, wait_resource_type, wait_database_id, wait_object_id, wait_hobt_id,
       database_id, object_id, index_id, event_id
FROM blocked_process_reports
WHERE instance = :instance AND event_time >= :from AND event_time < :to
ORDER BY event_time

-- name: any_report
-- The derived table has an alias and a named column: SQL Server requires both.
SELECT count(*) FROM (
    SELECT 1 AS one FROM blocked_process_reports WHERE instance = :instance LIMIT 1) AS r

-- name: xe_source
SELECT count(*) FROM xe_bookmarks WHERE instance = :instance

-- name: first_run
SELECT min(started_at) FROM collector_runs WHERE instance = :instance

-- name: deadlocks
SELECT event_id, event_time, victim_spids FROM deadlocks
WHERE instance = :instance AND event_time >= :from AND event_time < :to
ORDER BY event_time

-- name: deadlock_processes
SELECT spid, victim, login, host, app, lock_mode, wait_resource, input_buffer_hash
FROM deadlock_processes WHERE event_id = :event_id
ORDER BY victim DESC, spid

-- name: deadlock_resources
SELECT resource_type, database_id, object_name, index_name, mode
FROM deadlock_resources WHERE event_id = :event_id

-- name: threshold
SELECT blocked_process_threshold_s FROM server_info
WHERE instance = :instance AND collected_at < :to AND blocked_process_threshold_s IS NOT NULL
ORDER BY collected_at DESC LIMIT 1

-- name: object_name
SELECT database_name, schema_name, object_name FROM index_usage
WHERE instance = :instance AND database_id = :database_id AND object_id = :object_id
ORDER BY collected_at DESC LIMIT 1

-- name: database_name
SELECT database_name FROM index_usage
WHERE instance = :instance AND database_id = :database_id
ORDER BY collected_at DESC LIMIT 1

-- name: instances
SELECT instance FROM snapshots UNION SELECT instance FROM collector_runs ORDER BY 1

-- name: raw_event
SELECT raw_xml FROM xe_events WHERE event_id = :event_id

-- name: utc_offset
SELECT utc_offset_minutes FROM snapshots WHERE instance = :instance AND collected_at < :to
ORDER BY collected_at DESC LIMIT 1
