-- Query memory grants, granted and waiting: dm_exec_query_memory_grants + dm_exec_sessions + batch text.
-- Parameters (declared by the collector): @top_rows.
-- Waiting grants (grant_time IS NULL: RESOURCE_SEMAPHORE waits) come first, then the largest requests.
-- The TOP is taken on the grants alone; the session columns and the batch text are read for the kept rows only.
-- The sort is small (one row per grant), but it is itself a memory grant: keep @top_rows modest.
SELECT
    g.session_id,
    g.request_id,
    g.scheduler_id,
    g.dop,
    g.request_time,
    g.grant_time,
    g.requested_memory_kb,
    g.granted_memory_kb,
    g.required_memory_kb,
    g.used_memory_kb,
    g.max_used_memory_kb,
    g.ideal_memory_kb,
    g.query_cost,
    g.timeout_sec,
    g.resource_semaphore_id,
    g.queue_id,
    g.wait_order,
    g.is_next_candidate,
    g.wait_time_ms,
    g.group_id,
    g.pool_id,
    g.is_small,
    g.reserved_worker_count,
    g.used_worker_count,
    g.max_used_worker_count,
    g.reserved_node_bitmap,
    g.plan_handle,
    g.sql_handle,
    s.login_name,
    s.host_name,
    s.program_name,
    t.text AS batch_text
FROM (
    SELECT TOP (@top_rows)
        mg.session_id, mg.request_id, mg.scheduler_id, mg.dop, mg.request_time, mg.grant_time,
        mg.requested_memory_kb, mg.granted_memory_kb, mg.required_memory_kb, mg.used_memory_kb,
        mg.max_used_memory_kb, mg.ideal_memory_kb, mg.query_cost, mg.timeout_sec, mg.resource_semaphore_id,
        mg.queue_id, mg.wait_order, mg.is_next_candidate, mg.wait_time_ms, mg.group_id, mg.pool_id, mg.is_small,
        mg.reserved_worker_count, mg.used_worker_count, mg.max_used_worker_count, mg.reserved_node_bitmap,
        mg.plan_handle, mg.sql_handle
    FROM sys.dm_exec_query_memory_grants AS mg
    WHERE mg.session_id <> @@SPID
    ORDER BY CASE WHEN mg.grant_time IS NULL THEN 0 ELSE 1 END, mg.requested_memory_kb DESC
) AS g
LEFT JOIN sys.dm_exec_sessions AS s
    ON s.session_id = g.session_id
OUTER APPLY sys.dm_exec_sql_text(g.sql_handle) AS t
OPTION (MAXDOP 1);
