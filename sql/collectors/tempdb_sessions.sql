-- The user sessions holding the most tempdb space now: tempdb.sys.dm_db_session_space_usage (tasks already
-- completed in the session) plus tempdb.sys.dm_db_task_space_usage summed over the session's running tasks
-- (the session view is only updated when a task ends), with sys.dm_exec_sessions.
-- Parameters (declared by the collector): @top_rows, @min_pages (net pages held, user + internal objects).
-- The task_* columns are the running tasks' share; the others are the session view's own columns.
SELECT TOP (@top_rows)
    ss.session_id,
    s.login_name,
    s.host_name,
    s.program_name,
    s.status,
    ss.user_objects_alloc_page_count,
    ss.user_objects_dealloc_page_count,
    ss.user_objects_deferred_dealloc_page_count,
    ss.internal_objects_alloc_page_count,
    ss.internal_objects_dealloc_page_count,
    ISNULL(ts.user_objects_alloc_page_count, 0) AS task_user_objects_alloc_page_count,
    ISNULL(ts.user_objects_dealloc_page_count, 0) AS task_user_objects_dealloc_page_count,
    ISNULL(ts.internal_objects_alloc_page_count, 0) AS task_internal_objects_alloc_page_count,
    ISNULL(ts.internal_objects_dealloc_page_count, 0) AS task_internal_objects_dealloc_page_count,
    n.net_page_count
FROM tempdb.sys.dm_db_session_space_usage AS ss
JOIN sys.dm_exec_sessions AS s
    ON s.session_id = ss.session_id
LEFT JOIN (
    SELECT
        tsu.session_id,
        SUM(tsu.user_objects_alloc_page_count) AS user_objects_alloc_page_count,
        SUM(tsu.user_objects_dealloc_page_count) AS user_objects_dealloc_page_count,
        SUM(tsu.internal_objects_alloc_page_count) AS internal_objects_alloc_page_count,
        SUM(tsu.internal_objects_dealloc_page_count) AS internal_objects_dealloc_page_count
    FROM tempdb.sys.dm_db_task_space_usage AS tsu
    GROUP BY tsu.session_id
) AS ts
    ON ts.session_id = ss.session_id
CROSS APPLY (
    SELECT ss.user_objects_alloc_page_count - ss.user_objects_dealloc_page_count
         + ss.internal_objects_alloc_page_count - ss.internal_objects_dealloc_page_count
         + ISNULL(ts.user_objects_alloc_page_count, 0) - ISNULL(ts.user_objects_dealloc_page_count, 0)
         + ISNULL(ts.internal_objects_alloc_page_count, 0) - ISNULL(ts.internal_objects_dealloc_page_count, 0)
         AS net_page_count
) AS n
WHERE s.is_user_process = 1
  AND ss.session_id <> @@SPID
  AND n.net_page_count >= @min_pages
ORDER BY n.net_page_count DESC
OPTION (MAXDOP 1);
