-- Plan-cache statement statistics: sys.dm_exec_query_stats + batch text (sys.dm_exec_sql_text).
-- Parameters (declared by the collectors): @top_rows, @since_filter, @with_text; runtime: @since_ms.
--   @since_filter = 1: only entries created, or whose last execution ended, since the previous run
--                      (@since_ms, which the agent computes with a margin); 0: every cached entry.
--   @with_text    = 1: read the batch text; 0: leave batch_text NULL (sql_handle and the offsets are kept).
-- The last execution's end is last_execution_time (its start) plus last_elapsed_time (microseconds): an
-- execution that started before the window but finished inside it is counted in this window, where its
-- statistics became visible. Rounded up to the next second.
-- The TOP is taken on the statistics alone (no text in the sort); the text is read for the kept rows only.
SELECT
    q.sql_handle,
    q.plan_handle,
    q.statement_start_offset,
    q.statement_end_offset,
    q.creation_time,
    q.last_execution_time,
    q.query_hash,
    q.query_plan_hash,
    q.plan_generation_num,
    q.execution_count,
    q.total_worker_time, q.last_worker_time, q.min_worker_time, q.max_worker_time,
    q.total_elapsed_time, q.last_elapsed_time, q.min_elapsed_time, q.max_elapsed_time,
    q.total_logical_reads, q.last_logical_reads, q.min_logical_reads, q.max_logical_reads,
    q.total_physical_reads, q.last_physical_reads, q.min_physical_reads, q.max_physical_reads,
    q.total_logical_writes, q.last_logical_writes, q.min_logical_writes, q.max_logical_writes,
    q.total_rows, q.last_rows, q.min_rows, q.max_rows,
    q.total_dop, q.last_dop, q.min_dop, q.max_dop,
    q.total_grant_kb, q.last_grant_kb, q.min_grant_kb, q.max_grant_kb,
    q.total_used_grant_kb, q.last_used_grant_kb, q.min_used_grant_kb, q.max_used_grant_kb,
    q.total_ideal_grant_kb, q.last_ideal_grant_kb, q.min_ideal_grant_kb, q.max_ideal_grant_kb,
    q.total_reserved_threads, q.last_reserved_threads, q.min_reserved_threads, q.max_reserved_threads,
    q.total_used_threads, q.last_used_threads, q.min_used_threads, q.max_used_threads,
    q.total_spills, q.last_spills, q.min_spills, q.max_spills,
    q.total_clr_time, q.last_clr_time, q.min_clr_time, q.max_clr_time,
    t.batch_text
FROM (
    SELECT TOP (@top_rows)
        qs.sql_handle, qs.plan_handle, qs.statement_start_offset, qs.statement_end_offset,
        qs.creation_time, qs.last_execution_time, qs.query_hash, qs.query_plan_hash, qs.plan_generation_num,
        qs.execution_count,
        qs.total_worker_time, qs.last_worker_time, qs.min_worker_time, qs.max_worker_time,
        qs.total_elapsed_time, qs.last_elapsed_time, qs.min_elapsed_time, qs.max_elapsed_time,
        qs.total_logical_reads, qs.last_logical_reads, qs.min_logical_reads, qs.max_logical_reads,
        qs.total_physical_reads, qs.last_physical_reads, qs.min_physical_reads, qs.max_physical_reads,
        qs.total_logical_writes, qs.last_logical_writes, qs.min_logical_writes, qs.max_logical_writes,
        qs.total_rows, qs.last_rows, qs.min_rows, qs.max_rows,
        qs.total_dop, qs.last_dop, qs.min_dop, qs.max_dop,
        qs.total_grant_kb, qs.last_grant_kb, qs.min_grant_kb, qs.max_grant_kb,
        qs.total_used_grant_kb, qs.last_used_grant_kb, qs.min_used_grant_kb, qs.max_used_grant_kb,
        qs.total_ideal_grant_kb, qs.last_ideal_grant_kb, qs.min_ideal_grant_kb, qs.max_ideal_grant_kb,
        qs.total_reserved_threads, qs.last_reserved_threads, qs.min_reserved_threads, qs.max_reserved_threads,
        qs.total_used_threads, qs.last_used_threads, qs.min_used_threads, qs.max_used_threads,
        qs.total_spills, qs.last_spills, qs.min_spills, qs.max_spills,
        qs.total_clr_time, qs.last_clr_time, qs.min_clr_time, qs.max_clr_time
    FROM sys.dm_exec_query_stats AS qs
    WHERE @since_filter = 0
       OR qs.creation_time >= DATEADD(MILLISECOND, -@since_ms, SYSDATETIME())
       OR DATEADD(SECOND, CAST(qs.last_elapsed_time / 1000000 AS int) + 1, qs.last_execution_time)
              >= DATEADD(MILLISECOND, -@since_ms, SYSDATETIME())
    ORDER BY qs.total_worker_time DESC
) AS q
OUTER APPLY (
    SELECT st.text AS batch_text
    FROM sys.dm_exec_sql_text(q.sql_handle) AS st
    WHERE @with_text = 1
) AS t
OPTION (MAXDOP 1);
