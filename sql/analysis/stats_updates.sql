-- stats-updates: statistics updated in the window (sys.stats, STATS_DATE), beside the statements whose plan
-- (query_plan_hash) changed in the same window.

-- name: updates
SELECT database_name, schema_name, object_name, stats_name, last_updated, max(rows), max(rows_sampled),
       max(modification_counter), min(collected_at)
FROM stats_updates
WHERE instance = :instance AND collected_at >= :from AND collected_at < :lookahead
  AND last_updated >= :from AND last_updated < :to
GROUP BY database_name, schema_name, object_name, stats_name, last_updated
ORDER BY last_updated, database_name, schema_name, object_name, stats_name

-- name: plans
-- Plan lifetimes seen in the window with their creation time and plan hash, per query_hash.
SELECT query_hash, query_plan_hash, min(creation_time), max(collected_at), max(statement_text_hash),
       max(execution_count), max(total_worker_time)
FROM query_stats
WHERE instance = :instance AND collected_at >= :lookback AND collected_at < :to AND query_hash IS NOT NULL
GROUP BY query_hash, query_plan_hash, plan_handle, statement_start_offset, creation_time
