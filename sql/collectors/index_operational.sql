-- Low-level index activity in the current database (run once per database with USE):
-- sys.dm_db_index_operational_stats(DB_ID(), NULL, NULL, NULL) summed over the partitions of each index,
-- with the names from sys.objects and sys.indexes. User tables and indexed views only; indexes whose
-- counters are all zero are left out.
-- Parameters (declared by the collector): @top_rows.
-- The counters live in the metadata cache: they start at zero when an index's metadata is loaded and vanish
-- when it is evicted (or the database closes), so a value can go down between snapshots (a reset).
-- database_id and database_name are added by the agent; this query does not return them.
SELECT TOP (@top_rows)
    SCHEMA_NAME(o.schema_id) AS schema_name,
    a.object_id,
    o.name AS object_name,
    a.index_id,
    i.name AS index_name,
    i.type_desc,
    a.partition_count,
    a.leaf_insert_count,
    a.leaf_update_count,
    a.leaf_delete_count,
    a.leaf_ghost_count,
    a.nonleaf_insert_count,
    a.nonleaf_update_count,
    a.nonleaf_delete_count,
    a.leaf_allocation_count,
    a.nonleaf_allocation_count,
    a.range_scan_count,
    a.singleton_lookup_count,
    a.forwarded_fetch_count,
    a.row_lock_count,
    a.row_lock_wait_count,
    a.row_lock_wait_in_ms,
    a.page_lock_count,
    a.page_lock_wait_count,
    a.page_lock_wait_in_ms,
    a.index_lock_promotion_attempt_count,
    a.index_lock_promotion_count,
    a.page_latch_wait_count,
    a.page_latch_wait_in_ms,
    a.page_io_latch_wait_count,
    a.page_io_latch_wait_in_ms
FROM (
    SELECT
        os.object_id,
        os.index_id,
        COUNT(*) AS partition_count,
        SUM(os.leaf_insert_count) AS leaf_insert_count,
        SUM(os.leaf_update_count) AS leaf_update_count,
        SUM(os.leaf_delete_count) AS leaf_delete_count,
        SUM(os.leaf_ghost_count) AS leaf_ghost_count,
        SUM(os.nonleaf_insert_count) AS nonleaf_insert_count,
        SUM(os.nonleaf_update_count) AS nonleaf_update_count,
        SUM(os.nonleaf_delete_count) AS nonleaf_delete_count,
        SUM(os.leaf_allocation_count) AS leaf_allocation_count,
        SUM(os.nonleaf_allocation_count) AS nonleaf_allocation_count,
        SUM(os.range_scan_count) AS range_scan_count,
        SUM(os.singleton_lookup_count) AS singleton_lookup_count,
        SUM(os.forwarded_fetch_count) AS forwarded_fetch_count,
        SUM(os.row_lock_count) AS row_lock_count,
        SUM(os.row_lock_wait_count) AS row_lock_wait_count,
        SUM(os.row_lock_wait_in_ms) AS row_lock_wait_in_ms,
        SUM(os.page_lock_count) AS page_lock_count,
        SUM(os.page_lock_wait_count) AS page_lock_wait_count,
        SUM(os.page_lock_wait_in_ms) AS page_lock_wait_in_ms,
        SUM(os.index_lock_promotion_attempt_count) AS index_lock_promotion_attempt_count,
        SUM(os.index_lock_promotion_count) AS index_lock_promotion_count,
        SUM(os.page_latch_wait_count) AS page_latch_wait_count,
        SUM(os.page_latch_wait_in_ms) AS page_latch_wait_in_ms,
        SUM(os.page_io_latch_wait_count) AS page_io_latch_wait_count,
        SUM(os.page_io_latch_wait_in_ms) AS page_io_latch_wait_in_ms
    FROM sys.dm_db_index_operational_stats(DB_ID(), NULL, NULL, NULL) AS os
    GROUP BY os.object_id, os.index_id
) AS a
JOIN sys.objects AS o
    ON o.object_id = a.object_id
LEFT JOIN sys.indexes AS i
    ON i.object_id = a.object_id
   AND i.index_id = a.index_id
WHERE o.is_ms_shipped = 0
  AND o.type IN ('U', 'V')
  AND (a.leaf_insert_count > 0 OR a.leaf_update_count > 0 OR a.leaf_delete_count > 0 OR a.leaf_ghost_count > 0
       OR a.range_scan_count > 0 OR a.singleton_lookup_count > 0 OR a.forwarded_fetch_count > 0
       OR a.row_lock_count > 0 OR a.page_lock_count > 0 OR a.index_lock_promotion_attempt_count > 0
       OR a.page_latch_wait_count > 0 OR a.page_io_latch_wait_count > 0)
ORDER BY a.object_id, a.index_id
OPTION (MAXDOP 1);
