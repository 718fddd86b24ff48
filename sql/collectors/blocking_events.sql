-- New events of dmvlog's extended-event session (blocked_process_report, xml_deadlock_report) since the
-- bookmark: fn_xe_file_target_read_file returns only events after (@initial_file_name, @initial_offset);
-- both NULL read every file of the session. The agent parses the XML.
SELECT TOP (@top_rows)
    f.object_name,
    CAST(f.event_data AS nvarchar(max)) AS event_data,
    f.file_name,
    f.file_offset
FROM sys.fn_xe_file_target_read_file(@path, NULL, @initial_file_name, @initial_offset) AS f
OPTION (MAXDOP 1);
