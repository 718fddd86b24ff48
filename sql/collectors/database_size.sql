-- Size and used space of each file of the current database (run once per database with USE):
-- sys.database_files + FILEPROPERTY(name, 'SpaceUsed') + sys.filegroups, and on the log file rows the
-- database's log use from sys.dm_db_log_space_usage (all log files together; repeated on each LOG row).
-- size, max_size (-1 = unlimited) and space_used_pages are in 8 KB pages; growth is pages or a percent
-- (is_percent_growth). FILEPROPERTY is NULL for files it does not measure (FILESTREAM, full-text).
-- database_id and database_name are added by the agent; this query does not return them.
SELECT
    f.file_id,
    f.name,
    f.type_desc,
    f.physical_name,
    f.state_desc,
    fg.name AS filegroup_name,
    f.size,
    f.max_size,
    f.growth,
    f.is_percent_growth,
    f.is_read_only,
    FILEPROPERTY(f.name, 'SpaceUsed') AS space_used_pages,
    l.total_log_size_in_bytes,
    l.used_log_space_in_bytes,
    l.log_space_in_bytes_since_last_backup
FROM sys.database_files AS f
LEFT JOIN sys.filegroups AS fg
    ON fg.data_space_id = f.data_space_id
LEFT JOIN sys.dm_db_log_space_usage AS l
    ON f.type_desc = N'LOG'
OPTION (MAXDOP 1);
