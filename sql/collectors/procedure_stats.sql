-- Cached stored procedure statistics: sys.dm_exec_procedure_stats, executed since the previous run.
-- Parameters (declared by the collector): @top_rows; runtime: @since_ms.
-- "Executed since": the last execution ended inside the window (last_execution_time is its start, plus
-- last_elapsed_time in microseconds, rounded up to the next second), or the plan was cached inside it.
-- OBJECT_NAME(object_id, database_id) needs metadata visibility in that database (VIEW ANY DEFINITION);
-- without it the name is NULL and the ids remain.
SELECT TOP (@top_rows)
    ps.database_id,
    ps.object_id,
    OBJECT_NAME(ps.object_id, ps.database_id) AS object_name,
    ps.type,
    ps.plan_handle,
    ps.sql_handle,
    ps.cached_time,
    ps.last_execution_time,
    ps.execution_count,
    ps.total_worker_time, ps.last_worker_time, ps.min_worker_time, ps.max_worker_time,
    ps.total_elapsed_time, ps.last_elapsed_time, ps.min_elapsed_time, ps.max_elapsed_time,
    ps.total_logical_reads, ps.last_logical_reads, ps.min_logical_reads, ps.max_logical_reads,
    ps.total_physical_reads, ps.last_physical_reads, ps.min_physical_reads, ps.max_physical_reads,
    ps.total_logical_writes, ps.last_logical_writes, ps.min_logical_writes, ps.max_logical_writes
FROM sys.dm_exec_procedure_stats AS ps
WHERE ps.cached_time >= DATEADD(MILLISECOND, -@since_ms, SYSDATETIME())
   OR DATEADD(SECOND, CAST(ps.last_elapsed_time / 1000000 AS int) + 1, ps.last_execution_time)
          >= DATEADD(MILLISECOND, -@since_ms, SYSDATETIME())
ORDER BY ps.total_worker_time DESC
OPTION (MAXDOP 1);
