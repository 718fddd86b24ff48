SELECT i.object_id, i.index_id, os.leaf_insert_count, ib.event_info
FROM sys.indexes AS i
CROSS APPLY sys.dm_db_index_operational_stats(DB_ID(), i.object_id, i.index_id, NULL) AS os
OUTER APPLY sys.dm_exec_input_buffer(@@SPID) AS ib;
