-- Cumulative waits by type since the instance started (or DBCC SQLPERF CLEAR): sys.dm_os_wait_stats.
-- Raw: no wait type is filtered out here (benign waits are the analysis's business); types never waited on
-- are left out.
SELECT
    ws.wait_type,
    ws.waiting_tasks_count,
    ws.wait_time_ms,
    ws.max_wait_time_ms,
    ws.signal_wait_time_ms
FROM sys.dm_os_wait_stats AS ws
WHERE ws.waiting_tasks_count > 0
OPTION (MAXDOP 1);
