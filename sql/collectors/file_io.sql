-- I/O per database file since the instance started: sys.dm_io_virtual_file_stats(NULL, NULL) + sys.master_files.
-- sample_ms (milliseconds since the computer started) lets the analysis divide deltas by the exact time
-- between two samples instead of the snapshot clocks.
SELECT
    vfs.database_id,
    vfs.file_id,
    DB_NAME(vfs.database_id) AS database_name,
    mf.name,
    mf.type_desc,
    mf.physical_name,
    vfs.sample_ms,
    vfs.num_of_reads,
    vfs.num_of_bytes_read,
    vfs.io_stall_read_ms,
    vfs.io_stall_queued_read_ms,
    vfs.num_of_writes,
    vfs.num_of_bytes_written,
    vfs.io_stall_write_ms,
    vfs.io_stall_queued_write_ms,
    vfs.io_stall,
    vfs.size_on_disk_bytes
FROM sys.dm_io_virtual_file_stats(NULL, NULL) AS vfs
JOIN sys.master_files AS mf
    ON mf.database_id = vfs.database_id
   AND mf.file_id = vfs.file_id
OPTION (MAXDOP 1);
