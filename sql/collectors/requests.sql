-- Running user requests with their session, memory grant and batch text.
-- Parameters (declared by the collector): @min_elapsed_ms, @max_elapsed_ms, @top_rows.
-- The agent slices the current statement from batch_text with the statement offsets, so the full
-- batch text is read; it is stored once per distinct text, not per row.
SELECT TOP (@top_rows)
    r.session_id,
    r.request_id,
    r.start_time,
    r.status,
    r.command,
    r.database_id,
    DB_NAME(r.database_id) AS database_name,
    r.blocking_session_id,
    r.wait_type,
    r.wait_time,
    r.last_wait_type,
    r.wait_resource,
    r.open_transaction_count,
    r.transaction_isolation_level,
    r.cpu_time,
    r.total_elapsed_time,
    r.reads,
    r.writes,
    r.logical_reads,
    r.row_count,
    r.granted_query_memory,
    r.dop,
    r.parallel_worker_count,
    r.query_hash,
    r.query_plan_hash,
    r.plan_handle,
    r.sql_handle,
    r.statement_start_offset,
    r.statement_end_offset,
    s.host_name,
    s.program_name,
    s.login_name,
    s.status AS session_status,
    g.requested_memory_kb,
    g.granted_memory_kb,
    g.used_memory_kb,
    g.max_used_memory_kb,
    g.wait_time_ms AS grant_wait_time_ms,
    t.text AS batch_text
FROM sys.dm_exec_requests AS r
JOIN sys.dm_exec_sessions AS s
    ON s.session_id = r.session_id
LEFT JOIN sys.dm_exec_query_memory_grants AS g
    ON g.session_id = r.session_id
   AND g.request_id = r.request_id
OUTER APPLY sys.dm_exec_sql_text(r.sql_handle) AS t
WHERE s.is_user_process = 1
  AND r.session_id <> @@SPID
  AND r.total_elapsed_time >= @min_elapsed_ms
  AND r.total_elapsed_time < @max_elapsed_ms
ORDER BY r.total_elapsed_time DESC
OPTION (MAXDOP 1);
