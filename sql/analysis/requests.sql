-- requests: request lifetimes reconstructed from consecutive snapshots of requests_5s and requests_1m.
-- A request is (instance, session_id, request_id, start_time); both tables are read in the window and merged
-- by the engine (first and last seen, longest elapsed, cpu, reads, waits, blocked by / blocking, statement).

-- name: rows_5s
SELECT collected_at, utc_offset_minutes, session_id, request_id, start_time, status, database_name,
       blocking_session_id, wait_type, wait_time, cpu_time, total_elapsed_time, logical_reads, reads, writes,
       granted_query_memory, login_name, host_name, program_name, statement_text_hash, query_hash
FROM requests_5s
WHERE instance = :instance AND collected_at >= :from AND collected_at < :to
ORDER BY collected_at

-- name: rows_1m
SELECT collected_at, utc_offset_minutes, session_id, request_id, start_time, status, database_name,
       blocking_session_id, wait_type, wait_time, cpu_time, total_elapsed_time, logical_reads, reads, writes,
       granted_query_memory, login_name, host_name, program_name, statement_text_hash, query_hash
FROM requests_1m
WHERE instance = :instance AND collected_at >= :from AND collected_at < :to
ORDER BY collected_at

-- name: rows_5s.sqlite
-- rows_5s, on a SQLite store from its row table (agent/store/sqlite_layout.h): names are dictionary ids and
-- start_time ticks.
SELECT s.collected_at, s.utc_offset_minutes, r.session_id, r.request_id, r.start_time, r.status, r.database_name,
       r.blocking_session_id, r.wait_type, r.wait_time, r.cpu_time, r.total_elapsed_time, r.logical_reads, r.reads,
       r.writes, r.granted_query_memory, r.login_name, r.host_name, r.program_name, r.statement_text_hash, r.query_hash
FROM snapshots AS s JOIN requests_5s_data AS r ON r.snapshot_id = s.snapshot_id
WHERE s.collector = 'requests_5s' AND s.instance = :instance AND s.collected_at >= :from AND s.collected_at < :to
ORDER BY s.collected_at

-- name: rows_1m.sqlite
-- rows_1m, on a SQLite store from its row table (agent/store/sqlite_layout.h): names are dictionary ids and
-- start_time ticks.
SELECT s.collected_at, s.utc_offset_minutes, r.session_id, r.request_id, r.start_time, r.status, r.database_name,
       r.blocking_session_id, r.wait_type, r.wait_time, r.cpu_time, r.total_elapsed_time, r.logical_reads, r.reads,
       r.writes, r.granted_query_memory, r.login_name, r.host_name, r.program_name, r.statement_text_hash, r.query_hash
FROM snapshots AS s JOIN requests_1m_data AS r ON r.snapshot_id = s.snapshot_id
WHERE s.collector = 'requests_1m' AND s.instance = :instance AND s.collected_at >= :from AND s.collected_at < :to
ORDER BY s.collected_at
