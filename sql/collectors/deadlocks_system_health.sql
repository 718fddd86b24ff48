-- Deadlock graphs from the built-in system_health session's event files, read while dmvlog's own session is
-- not running. Incremental like blocking_events.sql: only events after the bookmark (@initial_file_name,
-- @initial_offset; both NULL read every file). Filtered to xml_deadlock_report: the other events of
-- system_health come back without their data (event_data NULL), so that the bookmark moves past them and a
-- server without deadlocks is not read from its first file again on every run.
SELECT TOP (@top_rows)
    f.object_name,
    CASE WHEN f.object_name = N'xml_deadlock_report' THEN CAST(f.event_data AS nvarchar(max)) END AS event_data,
    f.file_name,
    f.file_offset
FROM sys.fn_xe_file_target_read_file(N'system_health*.xel', NULL, @initial_file_name, @initial_offset) AS f
OPTION (MAXDOP 1);
