-- The ring_buffer target of an event session a DBA set up ([xe] ring_buffer_session), read while dmvlog's own
-- session is not running: one row, the target's XML (<RingBufferTarget> with its <event>s, oldest first), or
-- none when the session is not running or has no ring_buffer target. The agent parses it and keeps the events
-- from its bookmark on (the newest event time read, and the content hashes of the events at that time).
SELECT CAST(t.target_data AS nvarchar(max)) AS target_data
FROM sys.dm_xe_session_targets AS t
JOIN sys.dm_xe_sessions AS s ON s.address = t.event_session_address
WHERE s.name = @session_name
  AND t.target_name = N'ring_buffer'
OPTION (MAXDOP 1);
