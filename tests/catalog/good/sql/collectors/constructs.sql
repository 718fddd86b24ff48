-- Every construct the catalog check must resolve (see collectors/constructs.toml).
WITH stats_per_object AS (
    SELECT s.object_id, COUNT(*) AS stats_count
    FROM sys.stats AS s
    GROUP BY s.object_id
    UNION ALL
    SELECT s2.object_id, 0
    FROM sys.stats AS s2
    WHERE 1 = 0
), ops AS (
    SELECT os.object_id, os.index_id, SUM(os.leaf_insert_count) AS leaf_insert_count
    FROM sys.dm_db_index_operational_stats(DB_ID(), NULL, NULL, NULL) AS os
    GROUP BY os.object_id, os.index_id
)
SELECT TOP (@top_rows)
    i.object_id,
    i.index_id,
    OBJECT_NAME(i.object_id) AS object_name,
    i.name AS index_name,
    spo.stats_count,
    ops.leaf_insert_count,
    sp.[rows],
    sp.modification_counter,
    us.user_seeks,
    (SELECT SUM(fsu.unallocated_extent_page_count) FROM tempdb.sys.dm_db_file_space_usage AS fsu) AS free_pages,
    (SELECT TOP (1) FILEPROPERTY(df.name, 'SpaceUsed') FROM sys.database_files AS df WHERE df.file_id = 1) AS space_used_pages,
    HAS_DBACCESS(DB_NAME()) AS has_access,
    t.text AS batch_text,
    i.optimize_for_sequential_key,
    k.kind_label,
    ROW_NUMBER() OVER (PARTITION BY i.object_id ORDER BY i.index_id) AS rank_in_object,
    CAST(NULL AS bigint) AS spare
FROM sys.indexes AS i
JOIN sys.objects AS o
    ON o.object_id = i.object_id
LEFT JOIN stats_per_object AS spo
    ON spo.object_id = i.object_id
LEFT JOIN ops
    ON ops.object_id = i.object_id AND ops.index_id = i.index_id
LEFT JOIN sys.dm_db_index_usage_stats AS us
    ON us.database_id = DB_ID() AND us.object_id = i.object_id AND us.index_id = i.index_id
OUTER APPLY sys.dm_db_stats_properties(i.object_id, i.index_id) AS sp
OUTER APPLY (
    SELECT TOP (1) st.text
    FROM sys.dm_exec_query_stats AS qs
    CROSS APPLY sys.dm_exec_sql_text(qs.sql_handle) AS st
    WHERE st.objectid = i.object_id
      AND qs.last_execution_time >= DATEADD(MILLISECOND, -@since_ms, SYSDATETIME())
) AS t
CROSS APPLY (VALUES (CASE WHEN i.index_id = 0 THEN 'heap' ELSE 'index' END)) AS k(kind_label)
WHERE o.is_ms_shipped = 0
  AND EXISTS (SELECT 1 FROM sys.dm_db_partition_stats AS ps WHERE ps.object_id = i.object_id AND ps.index_id = i.index_id)
  AND NOT EXISTS (
      SELECT 1
      FROM (SELECT CAST(N'<a/>' AS xml) AS doc) AS xd
      CROSS APPLY xd.doc.nodes('/b') AS n(node)
      WHERE n.node.value('.', 'int') = i.index_id)
ORDER BY object_name, rank_in_object
OPTION (MAXDOP 1);
