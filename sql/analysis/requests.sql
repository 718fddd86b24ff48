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
