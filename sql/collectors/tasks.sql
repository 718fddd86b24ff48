-- Tasks per user session right now (how many schedulers, i.e. cores, each session occupies):
-- sys.dm_os_tasks grouped by session_id, with the login, host and program from sys.dm_exec_sessions.
-- Parameters (declared by the collector): @top_rows.
-- running_count = tasks on a CPU now (RUNNING); runnable_count = waiting for a CPU (RUNNABLE, signal wait);
-- suspended_count = waiting for a resource; pending_count = waiting for a worker thread (PENDING).
SELECT TOP (@top_rows)
    t.session_id,
    t.task_count,
    t.running_count,
    t.runnable_count,
    t.suspended_count,
    t.pending_count,
    t.scheduler_count,
    s.login_name,
    s.host_name,
    s.program_name,
    s.status,
    s.database_id
FROM (
    SELECT
        ot.session_id,
        COUNT(*) AS task_count,
        SUM(CASE WHEN ot.task_state = N'RUNNING' THEN 1 ELSE 0 END) AS running_count,
        SUM(CASE WHEN ot.task_state = N'RUNNABLE' THEN 1 ELSE 0 END) AS runnable_count,
        SUM(CASE WHEN ot.task_state = N'SUSPENDED' THEN 1 ELSE 0 END) AS suspended_count,
        SUM(CASE WHEN ot.task_state = N'PENDING' THEN 1 ELSE 0 END) AS pending_count,
        COUNT(DISTINCT ot.scheduler_id) AS scheduler_count
    FROM sys.dm_os_tasks AS ot
    WHERE ot.session_id IS NOT NULL
      AND ot.session_id <> @@SPID
    GROUP BY ot.session_id
) AS t
JOIN sys.dm_exec_sessions AS s
    ON s.session_id = t.session_id
WHERE s.is_user_process = 1
ORDER BY t.task_count DESC
OPTION (MAXDOP 1);
