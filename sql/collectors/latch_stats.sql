-- Cumulative latch waits by class since the instance started (or DBCC SQLPERF CLEAR): sys.dm_os_latch_stats.
-- Classes never waited on are left out.
SELECT
    ls.latch_class,
    ls.waiting_requests_count,
    ls.wait_time_ms,
    ls.max_wait_time_ms
FROM sys.dm_os_latch_stats AS ls
WHERE ls.waiting_requests_count > 0
OPTION (MAXDOP 1);
