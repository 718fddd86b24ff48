-- index-usage: seeks, scans, lookups and updates per index (dm_db_index_usage_stats). index_usage is sparse
-- (indexes used since the previous run); the daily index_usage_full lists every index and is the baseline.
-- Counters are cumulative since the instance started or the database was opened: a decrease is a reset.

-- name: rows
SELECT collected_at, database_id || ':' || object_id || ':' || index_id AS index_key,
       user_seeks, user_scans, user_lookups, user_updates,
       database_name, schema_name, object_name, index_name, type_desc, is_unique, is_primary_key, row_count,
       used_page_count
FROM index_usage
WHERE instance = :instance AND collected_at >= :from AND collected_at < :to
UNION ALL
SELECT collected_at, database_id || ':' || object_id || ':' || index_id AS index_key,
       user_seeks, user_scans, user_lookups, user_updates,
       database_name, schema_name, object_name, index_name, type_desc, is_unique, is_primary_key, row_count,
       used_page_count
FROM index_usage_full
WHERE instance = :instance AND collected_at >= :from AND collected_at < :to
ORDER BY 1

-- name: full_at
-- The latest complete listing at or before the window end: every index, to find those unused in the window.
SELECT max(collected_at) FROM snapshots
WHERE collector = 'index_usage_full' AND instance = :instance AND collected_at < :to
