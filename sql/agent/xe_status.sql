-- dmvlog check: the 'blocked process threshold (s)' in use, the defined event sessions and the running ones
-- (the agent looks for its [xe] session among them).
SELECT c.value_in_use AS threshold_s FROM sys.configurations AS c WHERE c.name = N'blocked process threshold (s)';
SELECT s.name FROM sys.server_event_sessions AS s;
SELECT x.name FROM sys.dm_xe_sessions AS x;
