-- blocking: episodes from the requests snapshots (blocking_session_id). The snapshot times of each collector
-- tell which snapshots are consecutive; rows are read only from snapshots that had blocking.
-- Another source (blocked process reports) adds samples of the same shape: time, head, blocked sessions.

-- name: snapshot_times
SELECT collected_at FROM snapshots
WHERE collector = :collector AND instance = :instance AND collected_at >= :from AND collected_at < :to
ORDER BY collected_at

-- name: rows_5s
SELECT collected_at, session_id, blocking_session_id, wait_type, wait_time, wait_resource, login_name,
       host_name, program_name, statement_text_hash, database_name
FROM requests_5s
WHERE instance = :instance AND collected_at IN (
    SELECT collected_at FROM requests_5s
    WHERE instance = :instance AND collected_at >= :from AND collected_at < :to
      AND blocking_session_id <> 0 AND blocking_session_id <> session_id)
ORDER BY collected_at

-- name: rows_1m
SELECT collected_at, session_id, blocking_session_id, wait_type, wait_time, wait_resource, login_name,
       host_name, program_name, statement_text_hash, database_name
FROM requests_1m
WHERE instance = :instance AND collected_at IN (
    SELECT collected_at FROM requests_1m
    WHERE instance = :instance AND collected_at >= :from AND collected_at < :to
      AND blocking_session_id <> 0 AND blocking_session_id <> session_id)
ORDER BY collected_at
