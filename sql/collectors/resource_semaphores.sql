-- Query-execution memory by resource semaphore: sys.dm_exec_query_resource_semaphores.
-- Two rows per resource pool (resource_semaphore_id 0 = regular, 1 = small-query); no filter, no sort.
SELECT
    rs.pool_id,
    rs.resource_semaphore_id,
    rs.target_memory_kb,
    rs.max_target_memory_kb,
    rs.total_memory_kb,
    rs.available_memory_kb,
    rs.granted_memory_kb,
    rs.used_memory_kb,
    rs.grantee_count,
    rs.waiter_count,
    rs.timeout_error_count,
    rs.forced_grant_count
FROM sys.dm_exec_query_resource_semaphores AS rs
OPTION (MAXDOP 1);
