-- procedures: which stored procedures ran in a window and what they cost (dm_exec_procedure_stats).
-- Same plan-lifetime rules as top-queries: a lifetime is (database_id, object_id, plan_handle, cached_time).
-- procedure_stats is sparse (only what ran since the previous run); baselines come from the look-back.

-- name: rows
SELECT collected_at, utc_offset_minutes, database_id, object_id, object_name, type, plan_handle, cached_time,
       execution_count, total_worker_time, total_elapsed_time, total_logical_reads, total_physical_reads,
       total_logical_writes
FROM procedure_stats
WHERE instance = :instance AND collected_at >= :from AND collected_at < :to
