-- User tasks waiting at least @min_wait_ms right now: sys.dm_os_waiting_tasks + sys.dm_exec_sessions + the
-- session's input buffer (sys.dm_exec_input_buffer).
-- Parameters (declared by the collector): @min_wait_ms, @top_rows.
-- A parallel task can be listed once per task it waits on (blocking_task_address differs).
-- The TOP is taken before the input buffer is read, so the buffer is read for the kept rows only.
SELECT
    w.session_id,
    w.exec_context_id,
    w.waiting_task_address,
    w.wait_duration_ms,
    w.wait_type,
    w.resource_address,
    w.resource_description,
    w.blocking_task_address,
    w.blocking_session_id,
    w.blocking_exec_context_id,
    w.status,
    w.database_id,
    w.open_transaction_count,
    w.login_name,
    w.host_name,
    w.program_name,
    ib.event_type,
    ib.event_info
FROM (
    SELECT TOP (@top_rows)
        wt.session_id, wt.exec_context_id, wt.waiting_task_address, wt.wait_duration_ms, wt.wait_type,
        wt.resource_address, wt.resource_description, wt.blocking_task_address, wt.blocking_session_id,
        wt.blocking_exec_context_id,
        s.status, s.database_id, s.open_transaction_count, s.login_name, s.host_name, s.program_name
    FROM sys.dm_os_waiting_tasks AS wt
    JOIN sys.dm_exec_sessions AS s
        ON s.session_id = wt.session_id
    WHERE s.is_user_process = 1
      AND wt.session_id <> @@SPID
      AND wt.wait_duration_ms >= @min_wait_ms
    ORDER BY wt.wait_duration_ms DESC
) AS w
OUTER APPLY sys.dm_exec_input_buffer(w.session_id, NULL) AS ib
OPTION (MAXDOP 1);
