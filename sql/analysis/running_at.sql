-- running-at: what was running at a moment. The nearest snapshot of each requests collector on each side of
-- :at, then the rows of those snapshots (their collected_at shows the resolution).

-- name: snapshot_before
SELECT max(collected_at) FROM snapshots
WHERE collector = :collector AND instance = :instance AND collected_at <= :at AND collected_at >= :lookback

-- name: snapshot_after
SELECT min(collected_at) FROM snapshots
WHERE collector = :collector AND instance = :instance AND collected_at > :at AND collected_at <= :lookahead

-- name: requests_5s
SELECT r.collected_at, r.session_id, r.request_id, r.start_time, r.status, r.command, r.database_name,
       r.blocking_session_id, r.wait_type, r.wait_time, r.wait_resource, r.cpu_time, r.total_elapsed_time,
       r.logical_reads, r.reads, r.writes, r.granted_query_memory, r.login_name, r.host_name, r.program_name,
       r.statement_text_hash, r.batch_text_hash, r.open_transaction_count, r.query_hash
FROM requests_5s AS r
WHERE r.instance = :instance AND r.collected_at = :at
ORDER BY r.session_id, r.request_id

-- name: requests_1m
SELECT r.collected_at, r.session_id, r.request_id, r.start_time, r.status, r.command, r.database_name,
       r.blocking_session_id, r.wait_type, r.wait_time, r.wait_resource, r.cpu_time, r.total_elapsed_time,
       r.logical_reads, r.reads, r.writes, r.granted_query_memory, r.login_name, r.host_name, r.program_name,
       r.statement_text_hash, r.batch_text_hash, r.open_transaction_count, r.query_hash
FROM requests_1m AS r
WHERE r.instance = :instance AND r.collected_at = :at
ORDER BY r.session_id, r.request_id

-- name: waiting_tasks
-- Sessions waiting at that minute (they include blockers' victims whose requests fell outside the filters).
SELECT w.collected_at, w.session_id, w.wait_type, w.wait_duration_ms, w.blocking_session_id,
       w.resource_description, w.login_name, w.host_name, w.program_name, w.event_info_hash
FROM waiting_tasks AS w
WHERE w.instance = :instance AND w.collected_at = :at
