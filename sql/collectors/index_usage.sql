-- Index usage in the current database (the agent runs it once per database with USE):
-- sys.indexes + sys.objects + sys.dm_db_index_usage_stats (this database's rows) + sys.dm_db_partition_stats
-- summed over the partitions of each index.
-- Parameters (declared by the collectors): @top_rows, @since_filter; runtime: @since_ms.
--   @since_filter = 1: indexes with a user seek, scan, lookup or update inside the window (@since_ms);
--   @since_filter = 0: every index and heap of user tables and indexed views.
-- The size is read only for the indexes kept (OUTER APPLY after the filter), so the 1-minute run does not sum
-- the partition stats of the whole database.
-- database_id and database_name are added by the agent; this query does not return them.
SELECT TOP (@top_rows)
    SCHEMA_NAME(o.schema_id) AS schema_name,
    i.object_id,
    o.name AS object_name,
    o.type AS object_type,
    i.index_id,
    i.name AS index_name,
    i.type_desc,
    i.is_unique,
    i.is_primary_key,
    i.is_disabled,
    i.has_filter,
    i.fill_factor,
    u.user_seeks,
    u.user_scans,
    u.user_lookups,
    u.user_updates,
    u.last_user_seek,
    u.last_user_scan,
    u.last_user_lookup,
    u.last_user_update,
    u.system_seeks,
    u.system_scans,
    u.system_lookups,
    u.system_updates,
    u.last_system_seek,
    u.last_system_scan,
    u.last_system_lookup,
    u.last_system_update,
    p.partition_count,
    p.row_count,
    p.used_page_count,
    p.reserved_page_count
FROM sys.indexes AS i
JOIN sys.objects AS o
    ON o.object_id = i.object_id
LEFT JOIN sys.dm_db_index_usage_stats AS u
    ON u.database_id = DB_ID()
   AND u.object_id = i.object_id
   AND u.index_id = i.index_id
OUTER APPLY (
    SELECT
        COUNT(*) AS partition_count,
        SUM(ps.row_count) AS row_count,
        SUM(ps.used_page_count) AS used_page_count,
        SUM(ps.reserved_page_count) AS reserved_page_count
    FROM sys.dm_db_partition_stats AS ps
    WHERE ps.object_id = i.object_id
      AND ps.index_id = i.index_id
) AS p
WHERE o.is_ms_shipped = 0
  AND o.type IN ('U', 'V')
  AND (@since_filter = 0
       OR u.last_user_seek >= DATEADD(MILLISECOND, -@since_ms, SYSDATETIME())
       OR u.last_user_scan >= DATEADD(MILLISECOND, -@since_ms, SYSDATETIME())
       OR u.last_user_lookup >= DATEADD(MILLISECOND, -@since_ms, SYSDATETIME())
       OR u.last_user_update >= DATEADD(MILLISECOND, -@since_ms, SYSDATETIME()))
ORDER BY i.object_id, i.index_id
OPTION (MAXDOP 1);
