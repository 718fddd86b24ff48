-- memory-grants: pending grants over time (dm_exec_query_resource_semaphores and the waiting grants of
-- dm_exec_query_memory_grants), and over-granted statements (query_stats: granted vs used memory, deltas).

-- name: semaphores
SELECT collected_at, pool_id, resource_semaphore_id, waiter_count, grantee_count, granted_memory_kb,
       available_memory_kb, target_memory_kb, timeout_error_count, forced_grant_count
FROM resource_semaphores
WHERE instance = :instance AND collected_at >= :from AND collected_at < :to
ORDER BY collected_at

-- name: waiting
SELECT collected_at, session_id, request_id, requested_memory_kb, required_memory_kb, ideal_memory_kb,
       wait_time_ms, query_cost, dop, login_name, host_name, program_name, batch_text_hash
FROM memory_grants
WHERE instance = :instance AND collected_at >= :from AND collected_at < :to AND grant_time IS NULL
ORDER BY collected_at
