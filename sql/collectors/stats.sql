-- Statistics of user tables and indexed views in the current database (run once per database with USE):
-- sys.stats + sys.objects + sys.dm_db_stats_properties(object_id, stats_id).
-- Parameters (declared by the collectors): @top_rows, @since_filter; runtime: @since_ms.
--   @since_filter = 1: statistics updated inside the window (@since_ms); 0: every statistic.
-- The window test uses STATS_DATE, which needs only metadata visibility, so that dm_db_stats_properties is
-- called for the updated statistics only. dm_db_stats_properties returns no row when the login may not read
-- the statistics (it needs SELECT on the table, db_owner or db_ddladmin): the properties are then NULL.
-- database_id and database_name are added by the agent; this query does not return them.
SELECT TOP (@top_rows)
    SCHEMA_NAME(o.schema_id) AS schema_name,
    s.object_id,
    o.name AS object_name,
    o.type AS object_type,
    s.stats_id,
    s.name AS stats_name,
    s.auto_created,
    s.user_created,
    s.no_recompute,
    s.has_filter,
    s.filter_definition,
    s.is_temporary,
    s.is_incremental,
    sp.last_updated,
    sp.[rows],
    sp.rows_sampled,
    sp.steps,
    sp.unfiltered_rows,
    sp.modification_counter,
    sp.persisted_sample_percent
FROM sys.stats AS s
JOIN sys.objects AS o
    ON o.object_id = s.object_id
OUTER APPLY sys.dm_db_stats_properties(s.object_id, s.stats_id) AS sp
WHERE o.is_ms_shipped = 0
  AND o.type IN ('U', 'V')
  AND (@since_filter = 0
       OR STATS_DATE(s.object_id, s.stats_id) >= DATEADD(MILLISECOND, -@since_ms, SYSDATETIME()))
ORDER BY s.object_id, s.stats_id
OPTION (MAXDOP 1);
