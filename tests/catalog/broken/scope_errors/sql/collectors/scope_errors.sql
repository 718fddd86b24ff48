SELECT TOP (@top_rows) session_id, x.host_name, r.cpu_time
FROM sys.dm_exec_requests AS r
JOIN sys.dm_exec_sessions AS s ON s.session_id = r.session_id
WHERE r.total_elapsed_time > @min_elapsed_ms;
